import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { PGlite, types } from '@electric-sql/pglite';
import { migrate, type SqlRunner } from './migrate.js';
import { createSqlCostTracker } from './sql-tracker.js';
import type { CostTracker } from './tracker.js';

/** Where the embedded database lives inside the data dir. */
export function pgliteCostDir(dataDir: string): string {
  return path.join(dataDir, 'costs-pglite');
}

/**
 * Opens (creating on first use) the embedded cost database of a data dir and migrates it.
 *
 * PGlite is PostgreSQL compiled to WebAssembly, running inside this process: ONE connection, and
 * ONE process at a time per data dir. Two processes (or two PGlite instances in one process) on
 * the same directory corrupt it; nothing locks it for you. That suits a single worker on a
 * developer's machine; several workers must share a real server through DATABASE_URL instead.
 * Within the process, PGlite queues queries, so concurrent record() calls are safe.
 */
export async function openCostPglite(dataDir: string): Promise<PGlite> {
  const dir = pgliteCostDir(dataDir);
  await mkdir(dir, { recursive: true });
  // int8 as text, as node-postgres returns it; the shared tracker converts with a range check.
  const db = await PGlite.create(dir, { parsers: { [types.INT8]: (value: string) => value } });
  try {
    await migrate(pgliteRunner(db));
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
  return db;
}

export function pgliteRunner(db: PGlite): SqlRunner {
  return {
    async query(sql, params) {
      const result = await db.query<Record<string, unknown>>(sql, params);
      return { rows: result.rows };
    },
    async exec(sql) {
      await db.exec(sql);
    },
  };
}

/** The cost tracker on an embedded PGlite database in `${dataDir}/costs-pglite` (see openCostPglite). */
export async function createPgliteCostTracker(dataDir: string): Promise<CostTracker> {
  const db = await openCostPglite(dataDir);
  return createSqlCostTracker(pgliteRunner(db), () => db.close());
}
