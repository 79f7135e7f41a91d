import { randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PGlite, types } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCostTracker } from '../src/cost/create-tracker.js';
import { COST_MIGRATIONS_DIR, migrate } from '../src/cost/migrate.js';
import { createPgCostTracker } from '../src/cost/pg-tracker.js';
import { pgliteCostDir } from '../src/cost/locations.js';
import { pgliteRunner } from '../src/cost/pglite-tracker.js';
import { createSqlCostTracker } from '../src/cost/sql-tracker.js';
import type { CostEntry, CostTracker } from '../src/cost/tracker.js';

/**
 * One suite, two backends: the embedded PGlite database always (in a fresh temporary data dir),
 * and PostgreSQL: the one DATABASE_URL names, else the one vitest's globalSetup starts
 * (test/support/postgres-setup.ts).
 *
 * On PostgreSQL every job id starts with this run's prefix, so reruns against the same database
 * never see each other's rows (and this run's rows are deleted at the end).
 */
const DATABASE_URL = process.env.DATABASE_URL;
const RUN = `t${Date.now().toString(36)}${randomUUID().slice(0, 8)}`;
const MIGRATIONS = ['001_cost_entries', '002_cost_entries_seq'];

if (!DATABASE_URL) {
  console.warn(
    'cost-tracker.test.ts: DATABASE_URL is not set, so the PostgreSQL backend is skipped. ' +
      "Run it through vitest.config.ts (its globalSetup starts one), or set it to `npm run postgres`'s URL",
  );
}

interface Backend {
  name: string;
  /** Set when this backend cannot run here; its suite is skipped. */
  skipReason?: string;
  /** Several trackers may be open on the same database at once (PGlite: one per data dir). */
  sharedServer: boolean;
  setup(): Promise<void>;
  /** A tracker on the same database every time, through createCostTracker. */
  open(): Promise<CostTracker>;
  /** The versions in schema_migrations; for PGlite, call it with no tracker open. */
  appliedMigrations(): Promise<string[]>;
  teardown(): Promise<void>;
}

function pgliteBackend(): Backend {
  let dataDir = '';
  return {
    name: 'PGlite',
    sharedServer: false,
    async setup() {
      dataDir = await mkdtemp(path.join(os.tmpdir(), 'clipflow-cost-pglite-'));
    },
    open: () => createCostTracker({ dataDir }),
    async appliedMigrations() {
      const db = await PGlite.create(pgliteCostDir(dataDir));
      try {
        const result = await db.query<{ version: string }>('SELECT version FROM schema_migrations ORDER BY version');
        return result.rows.map((r) => r.version);
      } finally {
        await db.close();
      }
    },
    async teardown() {
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

function postgresBackend(url: string | undefined): Backend {
  const withClient = async <T>(fn: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  };
  return {
    name: 'PostgreSQL',
    ...(url ? {} : { skipReason: 'DATABASE_URL is not set' }),
    sharedServer: true,
    async setup() {},
    open: () => createCostTracker({ databaseUrl: url, dataDir: path.join(os.tmpdir(), 'clipflow-unused') }),
    appliedMigrations: () =>
      withClient(async (client) => {
        const result = await client.query<{ version: string }>('SELECT version FROM schema_migrations ORDER BY version');
        return result.rows.map((r) => r.version);
      }),
    async teardown() {
      await withClient((client) => client.query('DELETE FROM cost_entries WHERE job_id LIKE $1', [`${RUN}-%`]));
    },
  };
}

const backends = [pgliteBackend(), postgresBackend(DATABASE_URL)];

describe.each(backends)('cost tracker on $name', (backend) => {
  describe.skipIf(backend.skipReason !== undefined)(backend.skipReason ? `skipped: ${backend.skipReason}` : 'cases', () => {
    let tracker: CostTracker;
    const job = (name: string) => `${RUN}-${name}`;
    const entry = (jobId: string, over: Partial<CostEntry> = {}): CostEntry => ({
      jobId,
      stage: 'video',
      clipIndex: 0,
      key: 'prediction-1',
      amountMicroUsd: 500_000,
      ...over,
    });

    beforeAll(async () => {
      await backend.setup();
      tracker = await backend.open();
    });

    afterAll(async () => {
      await tracker?.close();
      await backend.teardown();
    });

    it('records an entry and counts it in the total', async () => {
      const jobId = job('record');
      expect(await tracker.record(entry(jobId, { model: 'minimax/video-01' }))).toBe(true);
      expect(await tracker.getTotalCost(jobId)).toBe(500_000);
      expect(await tracker.entries(jobId)).toEqual([entry(jobId, { model: 'minimax/video-01' })]);
    });

    it('records the same identity once: the second call returns false and the total counts it once', async () => {
      const jobId = job('twice');
      expect(await tracker.record(entry(jobId))).toBe(true);
      // Same identity, even with another amount: still the first one that counts.
      expect(await tracker.record(entry(jobId, { amountMicroUsd: 900_000 }))).toBe(false);
      expect(await tracker.getTotalCost(jobId)).toBe(500_000);
      const entries = await tracker.entries(jobId);
      expect(entries).toHaveLength(1);
      expect(entries[0]).not.toHaveProperty('model');
    });

    it('records the same identity once when 10 calls race', async () => {
      const jobId = job('race');
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => tracker.record(entry(jobId, { amountMicroUsd: 100_000 + i }))),
      );
      expect(results.filter((r) => r)).toHaveLength(1);
      const entries = await tracker.entries(jobId);
      expect(entries).toHaveLength(1);
      expect(await tracker.getTotalCost(jobId)).toBe(entries[0]?.amountMicroUsd);
    });

    it('counts different keys, stages and clips as different entries', async () => {
      const jobId = job('keys');
      expect(await tracker.record(entry(jobId, { key: 'attempt-1', amountMicroUsd: 100 }))).toBe(true);
      expect(await tracker.record(entry(jobId, { key: 'attempt-2', amountMicroUsd: 200 }))).toBe(true);
      expect(await tracker.record(entry(jobId, { key: 'attempt-1', clipIndex: 1, amountMicroUsd: 400 }))).toBe(true);
      expect(await tracker.record(entry(jobId, { key: 'attempt-1', stage: 'image', amountMicroUsd: 800 }))).toBe(true);
      expect(await tracker.getTotalCost(jobId)).toBe(1_500);
      expect(await tracker.entries(jobId)).toHaveLength(4);
    });

    it('keeps totals per job apart', async () => {
      const a = job('apart-a');
      const b = job('apart-b');
      await tracker.record(entry(a, { amountMicroUsd: 1_000 }));
      await tracker.record(entry(b, { amountMicroUsd: 2_000 }));
      await tracker.record(entry(b, { key: 'prediction-2', amountMicroUsd: 3_000 }));
      expect(await tracker.getTotalCost(a)).toBe(1_000);
      expect(await tracker.getTotalCost(b)).toBe(5_000);
      expect(await tracker.getTotalCost(job('apart-none'))).toBe(0);
      expect(await tracker.entries(job('apart-none'))).toEqual([]);
    });

    it('keeps amounts exact integers', async () => {
      const jobId = job('exact');
      for (const key of ['a', 'b', 'c']) await tracker.record(entry(jobId, { key, amountMicroUsd: 333_333 }));
      const total = await tracker.getTotalCost(jobId);
      expect(total).toBe(999_999);
      expect(Number.isInteger(total)).toBe(true);
      // Far beyond a 32-bit integer: $9 million and one micro-dollar.
      await tracker.record(entry(jobId, { key: 'big', amountMicroUsd: 9_000_000_000_001 }));
      expect(await tracker.getTotalCost(jobId)).toBe(9_000_001_000_000);
      expect((await tracker.entries(jobId)).map((e) => e.amountMicroUsd)).toEqual([333_333, 333_333, 333_333, 9_000_000_000_001]);
    });

    it('refuses a total beyond exact integer range rather than rounding it', async () => {
      const jobId = job('overflow');
      await tracker.record(entry(jobId, { key: 'a', amountMicroUsd: Number.MAX_SAFE_INTEGER }));
      expect(await tracker.getTotalCost(jobId)).toBe(Number.MAX_SAFE_INTEGER);
      await tracker.record(entry(jobId, { key: 'b', amountMicroUsd: 1 }));
      await expect(tracker.getTotalCost(jobId)).rejects.toThrow(RangeError);
    });

    it('lists entries in the order they were recorded', async () => {
      const jobId = job('order');
      // Back to back, so several may share a timestamp: the order must not depend on the clock.
      const recorded = [
        { clipIndex: 2, key: 'x' },
        { clipIndex: 0, key: 'z' },
        { clipIndex: 1, key: 'y' },
        { clipIndex: 0, key: 'a' },
      ];
      for (const over of recorded) await tracker.record(entry(jobId, over));
      // Recording one again does not move it.
      expect(await tracker.record(entry(jobId, recorded[0]))).toBe(false);
      expect((await tracker.entries(jobId)).map(({ clipIndex, key }) => ({ clipIndex, key }))).toEqual(recorded);
    });

    it('rejects a negative amount (the table refuses it) and a fractional one', async () => {
      const jobId = job('negative');
      await expect(tracker.record(entry(jobId, { amountMicroUsd: -1 }))).rejects.toThrow(/cost_entries_amount_nonnegative/);
      await expect(tracker.record(entry(jobId, { key: 'f', amountMicroUsd: 1.5 }))).rejects.toThrow(RangeError);
      expect(await tracker.getTotalCost(jobId)).toBe(0);
      expect(await tracker.entries(jobId)).toEqual([]);
      // The tracker still works after a refused record.
      expect(await tracker.record(entry(jobId, { amountMicroUsd: 0 }))).toBe(true);
    });

    it('opens the same database again: migrations apply once and the data stays', async () => {
      const jobId = job('reopen');
      expect(await tracker.record(entry(jobId, { amountMicroUsd: 7 }))).toBe(true);
      // PGlite allows one instance per data dir, so the shared tracker closes first.
      await tracker.close();

      let first: CostTracker;
      if (backend.sharedServer) {
        // Workers starting at once on a migrated database: all open, none migrates again.
        const opened = await Promise.all([backend.open(), backend.open(), backend.open()]);
        for (const extra of opened.slice(1)) await extra.close();
        first = opened[0]!;
      } else {
        first = await backend.open();
      }
      expect(await first.record(entry(jobId, { amountMicroUsd: 7 }))).toBe(false);
      expect(await first.getTotalCost(jobId)).toBe(7);
      await first.close();

      const second = await backend.open();
      expect(await second.getTotalCost(jobId)).toBe(7);
      expect(await second.entries(jobId)).toHaveLength(1);
      await second.close();

      expect(await backend.appliedMigrations()).toEqual(MIGRATIONS);

      // A closed tracker says so instead of failing somewhere in the driver; closing twice is fine.
      const closed = await backend.open();
      await closed.close();
      await closed.close();
      await expect(closed.record(entry(jobId))).rejects.toThrow(/closed/);

      tracker = await backend.open();
    });
  });
});

describe('002_cost_entries_seq on a database made before it (PGlite, in memory)', () => {
  it('numbers the existing rows in recorded order, and rows recorded at one instant keep the order they were recorded in', async () => {
    const db = await PGlite.create({ parsers: { [types.INT8]: (value: string) => value } });
    const runner = pgliteRunner(db);
    const tracker = createSqlCostTracker(runner, () => db.close());
    const only001 = await mkdtemp(path.join(os.tmpdir(), 'clipflow-cost-001-'));
    try {
      await copyFile(path.join(COST_MIGRATIONS_DIR, '001_cost_entries.sql'), path.join(only001, '001_cost_entries.sql'));
      expect(await migrate(runner, only001)).toEqual(['001_cost_entries']);
      // Rows as the first schema held them; two share a timestamp, and the key breaks that tie.
      await db.exec(`INSERT INTO cost_entries (job_id, stage, clip_index, key, amount_micro_usd, recorded_at) VALUES
        ('j', 'video', 1, 'b', 1, '2026-01-01T00:00:03Z'),
        ('j', 'video', 0, 'c', 2, '2026-01-01T00:00:01Z'),
        ('j', 'video', 0, 'a', 3, '2026-01-01T00:00:02Z'),
        ('j', 'video', 0, 'b', 4, '2026-01-01T00:00:02Z')`);
      expect(await migrate(runner)).toEqual(['002_cost_entries_seq']);
      const keys = async () => (await tracker.entries('j')).map((e) => `${e.clipIndex}${e.key}`);
      expect(await keys()).toEqual(['0c', '0a', '0b', '1b']);

      // One transaction: every row gets the same now(), and they still come back as inserted.
      await db.exec(`BEGIN;
        INSERT INTO cost_entries (job_id, stage, clip_index, key, amount_micro_usd) VALUES ('j', 'video', 2, 'z', 5);
        INSERT INTO cost_entries (job_id, stage, clip_index, key, amount_micro_usd) VALUES ('j', 'video', 2, 'a', 6);
        COMMIT`);
      const tied = await db.query<{ n: number }>('SELECT count(DISTINCT recorded_at)::int AS n FROM cost_entries WHERE clip_index = 2');
      expect(tied.rows[0]?.n).toBe(1);
      expect(await tracker.record({ jobId: 'j', stage: 'video', clipIndex: 1, key: 'a', amountMicroUsd: 7 })).toBe(true);
      expect(await keys()).toEqual(['0c', '0a', '0b', '1b', '2z', '2a', '1a']);
    } finally {
      await tracker.close();
      await rm(only001, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!DATABASE_URL)('PostgreSQL migrations from scratch', () => {
  const schema = `clipflow_test_${RUN}`;
  const admin = () => new pg.Client({ connectionString: DATABASE_URL });

  afterAll(async () => {
    const client = admin();
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  });

  it('lets 5 workers migrate a fresh schema at once: one applies, the others wait and skip', async () => {
    const client = admin();
    await client.connect();
    try {
      await client.query(`CREATE SCHEMA ${schema}`);
      const url = new URL(DATABASE_URL!);
      url.searchParams.set('options', `-c search_path=${schema}`);
      const trackers = await Promise.all(Array.from({ length: 5 }, () => createPgCostTracker(url.toString())));
      try {
        const recorded = await Promise.all(
          trackers.map((t) => t.record({ jobId: 'j', stage: 'video', clipIndex: 0, key: 'k', amountMicroUsd: 42 })),
        );
        expect(recorded.filter((r) => r)).toHaveLength(1);
        expect(await trackers[0]!.getTotalCost('j')).toBe(42);
      } finally {
        await Promise.all(trackers.map((t) => t.close()));
      }
      const versions = await client.query<{ version: string }>(`SELECT version FROM ${schema}.schema_migrations ORDER BY version`);
      expect(versions.rows.map((r) => r.version)).toEqual(MIGRATIONS);
      const tables = await client.query<{ table_name: string }>(
        'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name',
        [schema],
      );
      expect(tables.rows.map((r) => r.table_name)).toEqual(['cost_entries', 'schema_migrations']);
    } finally {
      await client.end();
    }
  });
});

function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

describe('the embedded tracker’s directory, held by one process', () => {
  it('is refused while another living process holds it, and taken over from a dead one', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'clipflow-pglite-held-'));
    const holderFile = path.join(pgliteCostDir(dataDir), 'clipflow.pid');
    await mkdir(pgliteCostDir(dataDir), { recursive: true });

    // The parent of this test process is alive: as if another worker had the directory open.
    await writeFile(holderFile, String(process.ppid));
    await expect(createCostTracker({ dataDir })).rejects.toThrow(
      new RegExp(
        `open in process ${process.ppid}, and PGlite serves one process: give each worker its own CLIPFLOW_DATA_DIR, or .*DATABASE_URL`,
      ),
    );

    // A holder that was SIGKILLed left its claim behind: the next worker takes over.
    const gone = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid!;
    await writeFile(holderFile, String(gone));
    const tracker = await createCostTracker({ dataDir });
    // The holder is the tracker's own process, a child of this one.
    expect(parentOf(Number(await readFile(holderFile, 'utf8')))).toBe(process.pid);
    await tracker.close();
    expect(existsSync(holderFile)).toBe(false);
  });
});
