import pg from 'pg';
import { migrate, type SqlRunner } from './migrate.js';
import { createSqlCostTracker } from './sql-tracker.js';
import type { CostTracker } from './tracker.js';

/** node-postgres as a SqlRunner: a pool for the tracker's single statements, or one client. */
function runner(db: pg.Pool | pg.PoolClient): SqlRunner {
  return {
    async query(sql, params) {
      const result = await db.query<Record<string, unknown>>(sql, params);
      return { rows: result.rows };
    },
    async exec(sql) {
      // Without parameters node-postgres uses the simple protocol, which takes several statements.
      await db.query(sql);
    },
  };
}

/**
 * The cost tracker on PostgreSQL. Any number of workers, on any number of machines, can share the
 * database: each record is one INSERT ... ON CONFLICT DO NOTHING, and migrations run once under an
 * advisory lock. int8 values arrive as strings (node-postgres's default) and are turned into
 * numbers with a range check by the shared tracker.
 */
export async function createPgCostTracker(databaseUrl: string): Promise<CostTracker> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 5 });
  // An idle pooled connection that fails (the server restarted, the network dropped) is discarded
  // and replaced on the next query; without a listener node-postgres would crash the process.
  pool.on('error', () => undefined);
  try {
    // Migrations need one connection for their transactions.
    const client = await pool.connect();
    try {
      await migrate(runner(client));
    } finally {
      client.release();
    }
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }
  return createSqlCostTracker(runner(pool), () => pool.end());
}
