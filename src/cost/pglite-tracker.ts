import { readFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PGlite, types } from '@electric-sql/pglite';
import { pgliteCostDir } from './locations.js';
import { migrate, type SqlRunner } from './migrate.js';
import { createSqlCostTracker } from './sql-tracker.js';
import type { CostTracker } from './tracker.js';

/** Measured (node --liftoff-only, a reopened ledger): 16MB peaks about 120 MiB below the 128MB default. */
const SHARED_BUFFERS = '16MB';

/**
 * Opens (creating on first use) the embedded cost database of a data dir and migrates it.
 *
 * PGlite is PostgreSQL compiled to WebAssembly, running inside this process: ONE connection, and
 * ONE process at a time per data dir. Two processes (or two PGlite instances in one process) on
 * the same directory corrupt it, so a process that finds the directory held by another living
 * process refuses to open it. That suits a single worker on a developer's machine; several
 * workers must share a real server through DATABASE_URL instead. Within the process, PGlite
 * queues queries, so concurrent record() calls are safe.
 */
export async function openCostPglite(dataDir: string): Promise<PGlite> {
  const dir = pgliteCostDir(dataDir);
  await mkdir(dir, { recursive: true });
  await holdDirectory(dir);
  // int8 as text, as node-postgres returns it; the shared tracker converts with a range check.
  const db = await PGlite.create(dir, {
    parsers: { [types.INT8]: (value: string) => value },
    // PGlite touches all of shared_buffers (initdb writes 128MB) as it starts: the ledger's few
    // pages need far less, and the OS caches the files behind them. Durability is the WAL's, not this.
    startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${SHARED_BUFFERS}`],
  });
  try {
    await migrate(pgliteRunner(db));
  } catch (err) {
    await db.close().catch(() => undefined);
    throw err;
  }
  return db;
}

const HOLDER_FILE = 'clipflow.pid';

/**
 * How long a holder may take to let go: the tracker process of a SIGKILLed worker closes the
 * database as it notices, while a replacement worker may already be starting.
 */
const HOLDER_EXIT_WAIT_MS = 10_000;

/** Claims the directory for this process, unless another living process has it. */
async function holdDirectory(dir: string): Promise<void> {
  const file = path.join(dir, HOLDER_FILE);
  const holder = Number(await readFile(file, 'utf8').catch(() => ''));
  const heldByOther = () => Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder);
  for (const deadline = Date.now() + HOLDER_EXIT_WAIT_MS; heldByOther() && Date.now() < deadline; ) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (heldByOther()) {
    throw new Error(
      `the embedded cost database ${dir} is open in process ${holder}, and PGlite serves one process: ` +
        'give each worker its own CLIPFLOW_DATA_DIR, or let the workers share PostgreSQL through DATABASE_URL',
    );
  }
  await writeFile(file, String(process.pid));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !isZombie(pid);
}

/** An exited process not yet reaped (an orphaned tracker process, where nothing reaps) holds nothing. */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
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
  return createSqlCostTracker(pgliteRunner(db), async () => {
    await db.close();
    await rm(path.join(pgliteCostDir(dataDir), HOLDER_FILE), { force: true });
  });
}
