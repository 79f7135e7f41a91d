import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The least a database must offer the cost tracker and its migrations; node-postgres and PGlite
 * both adapt to it in a few lines. `query` runs one statement with $1-style parameters; `exec`
 * runs a script of one or more statements without parameters.
 *
 * Transactions (BEGIN ... COMMIT) are issued through these calls, so a runner given to
 * migrate() must be one connection (a checked-out pg client, a PGlite instance), not a pool.
 */
export interface SqlRunner {
  query(sql: string, params?: unknown[]): Promise<{ rows: Record<string, unknown>[] }>;
  exec(sql: string): Promise<void>;
}

/** The folder of the cost tracker's migrations, beside this module in the source tree. */
export const COST_MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

/**
 * One lock for everyone migrating the cost schema: a transaction-level advisory lock on this key
 * serialises workers that start at once against the same database.
 */
const MIGRATION_LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtext('clipflow.cost_migrations'))";

const SCHEMA_MIGRATIONS_SQL = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version    text        PRIMARY KEY,
  applied_at timestamptz NOT NULL DEFAULT now()
)`;

export interface Migration {
  /** The file name without ".sql", e.g. "001_cost_entries"; files apply in this order. */
  version: string;
  sql: string;
}

export async function loadMigrations(dir: string = COST_MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  return Promise.all(
    files.map(async (file) => ({ version: file.slice(0, -'.sql'.length), sql: await readFile(path.join(dir, file), 'utf8') })),
  );
}

/**
 * Applies the migrations not yet recorded in schema_migrations, each in its own transaction that
 * first takes the advisory lock and then checks again, so concurrent callers apply each one once
 * and the others wait and skip it. Returns the versions this call applied.
 */
export async function migrate(db: SqlRunner, dir: string = COST_MIGRATIONS_DIR): Promise<string[]> {
  const migrations = await loadMigrations(dir);
  const applied: string[] = [];
  for (const migration of migrations) {
    const done = await inTransaction(db, async () => {
      await db.query(MIGRATION_LOCK_SQL);
      // Under the lock, so two first-time callers never race on creating it.
      await db.exec(SCHEMA_MIGRATIONS_SQL);
      const seen = await db.query('SELECT 1 FROM schema_migrations WHERE version = $1', [migration.version]);
      if (seen.rows.length > 0) return false;
      await db.exec(migration.sql);
      await db.query('INSERT INTO schema_migrations (version) VALUES ($1)', [migration.version]);
      return true;
    });
    if (done) applied.push(migration.version);
  }
  return applied;
}

async function inTransaction<T>(db: SqlRunner, fn: () => Promise<T>): Promise<T> {
  await db.exec('BEGIN');
  try {
    const result = await fn();
    await db.exec('COMMIT');
    return result;
  } catch (err) {
    try {
      await db.exec('ROLLBACK');
    } catch {
      // The connection may be gone; the original error is the one that matters.
    }
    throw err;
  }
}
