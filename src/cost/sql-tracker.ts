import type { MicroUsd } from '../shared/money.js';
import type { SqlRunner } from './migrate.js';
import type { CostEntry, CostTracker } from './tracker.js';

/**
 * The cost tracker over any SqlRunner on the schema of ./migrations: the one implementation
 * behind both PostgreSQL (pg-tracker.ts) and PGlite (pglite-tracker.ts). The caller migrates
 * first and says how to release the connection on close().
 */
export function createSqlCostTracker(db: SqlRunner, close: () => Promise<void>): CostTracker {
  let closed = false;
  const open = () => {
    if (closed) throw new Error('cost tracker is closed');
  };

  return {
    async record(entry) {
      open();
      if (!Number.isSafeInteger(entry.amountMicroUsd)) {
        throw new RangeError(`cost amount must be an integer number of micro-dollars, got ${entry.amountMicroUsd}`);
      }
      if (!Number.isInteger(entry.clipIndex)) {
        throw new RangeError(`clip index must be an integer, got ${entry.clipIndex}`);
      }
      // Negative amounts are refused by the table's check constraint, on every backend.
      const result = await db.query(
        `INSERT INTO cost_entries (job_id, stage, clip_index, key, amount_micro_usd, model)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (job_id, stage, clip_index, key) DO NOTHING
         RETURNING 1 AS inserted`,
        [entry.jobId, entry.stage, entry.clipIndex, entry.key, String(entry.amountMicroUsd), entry.model ?? null],
      );
      return result.rows.length > 0;
    },

    async getTotalCost(jobId) {
      open();
      const result = await db.query('SELECT coalesce(sum(amount_micro_usd), 0)::bigint AS total FROM cost_entries WHERE job_id = $1', [
        jobId,
      ]);
      return toMicroUsd(result.rows[0]?.total, 'total');
    },

    async entries(jobId) {
      open();
      const result = await db.query(
        `SELECT job_id, stage, clip_index, key, amount_micro_usd, model
           FROM cost_entries
          WHERE job_id = $1
          ORDER BY seq`,
        [jobId],
      );
      return result.rows.map(toEntry);
    },

    async close() {
      if (closed) return;
      closed = true;
      await close();
    },
  };
}

function toEntry(row: Record<string, unknown>): CostEntry {
  const entry: CostEntry = {
    jobId: String(row.job_id),
    stage: String(row.stage),
    clipIndex: Number(row.clip_index),
    key: String(row.key),
    amountMicroUsd: toMicroUsd(row.amount_micro_usd, 'amount_micro_usd'),
  };
  if (row.model !== null && row.model !== undefined) entry.model = String(row.model);
  return entry;
}

/**
 * A bigint column as a number. Drivers hand int8 back as a string (pg) or as a string, number
 * or bigint (PGlite, depending on its parsers); micro-dollars fit a double exactly up to about
 * 9 billion dollars, and anything beyond is an error rather than a silently rounded sum.
 */
export function toMicroUsd(value: unknown, what: string): MicroUsd {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'bigint') n = Number(value);
  else if (typeof value === 'string' && /^-?\d+$/.test(value)) n = Number(value);
  else throw new TypeError(`${what}: expected an integer from the database, got ${String(value)}`);
  if (!Number.isSafeInteger(n)) throw new RangeError(`${what}: ${String(value)} micro-dollars is beyond exact integer range`);
  return n;
}
