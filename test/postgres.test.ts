/**
 * `npm run postgres`: a real PostgreSQL with nothing installed, that keeps its data between runs
 * and stops on Ctrl-C and SIGTERM; `--throwaway --stop-with-stdin` (what the test run uses) goes
 * away with its parent and leaves nothing behind.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, portFree } from '../src/dev-server/ports.js';
import { spawnTsx, type TsxProcess } from './support/tsx-process.js';
import { until } from './support/wait.js';

// Not mkdtemp: under root the server runs as the `postgres` user, which must reach the directory.
const dataDir = path.join(os.tmpdir(), `clipflow-postgres-test-${randomUUID().slice(0, 8)}`);
afterAll(() => rm(dataDir, { recursive: true, force: true }));

async function databaseUrl(server: TsxProcess): Promise<string> {
  await until('DATABASE_URL on stdout', () => /^DATABASE_URL=/m.test(server.stdout()) || server.child.exitCode !== null, 60_000);
  const url = /^DATABASE_URL=(\S+)$/m.exec(server.stdout())?.[1];
  if (!url) throw new Error(`npm run postgres did not start:\n${server.output()}`);
  return url;
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('npm run postgres', () => {
  it('serves PostgreSQL 18 on the port asked for, keeps the data between runs, and stops on Ctrl-C and on SIGTERM', async () => {
    const port = await freePort();
    const args = ['--port', String(port), '--data-dir', dataDir];

    const first = spawnTsx('src/dev-server/postgres-main.ts', process.env, { captureOutput: true, ownGroup: true, args });
    try {
      const url = await databaseUrl(first);
      expect(url).toBe(`postgres://clipflow:clipflow@127.0.0.1:${port}/clipflow`);
      expect(first.stderr()).toContain(`data in ${dataDir} (kept between runs). Ctrl-C stops it.`);
      const [{ server_version }] = (await query<{ server_version: string }>(url, 'SHOW server_version')) as [{ server_version: string }];
      expect(server_version).toMatch(/^18\./);
      await query(url, "CREATE TABLE kept (note text); INSERT INTO kept VALUES ('from the first run')");

      process.kill(-first.pid, 'SIGINT'); // what Ctrl-C in a terminal does
      expect(await first.exited).toMatchObject({ code: 130, signal: null });
      expect(first.stderr()).toContain('SIGINT: stopping PostgreSQL');
      expect(await portFree(port)).toBe(true);
    } finally {
      await first.kill();
    }

    const second = spawnTsx('src/dev-server/postgres-main.ts', process.env, { captureOutput: true, args });
    try {
      const url = await databaseUrl(second);
      expect(await query(url, 'SELECT note FROM kept')).toEqual([{ note: 'from the first run' }]);
      second.child.kill('SIGTERM');
      expect(await second.exited).toMatchObject({ code: 143, signal: null });
      expect(await portFree(port)).toBe(true);
    } finally {
      await second.kill();
    }
  });

  it('--throwaway --stop-with-stdin: stops when its parent closes stdin, and deletes its cluster', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/dev-server/postgres-main.ts', '--throwaway', '--port', '0', '--stop-with-stdin'],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      await until('DATABASE_URL on stdout', () => stdout.includes('\n') || child.exitCode !== null, 60_000);
      const url = /^DATABASE_URL=(\S+)$/m.exec(stdout)?.[1];
      expect(url, stderr).toMatch(/^postgres:\/\/clipflow:clipflow@127\.0\.0\.1:\d+\/clipflow$/);
      const cluster = /data in (\S+) \(deleted when it stops\)/.exec(stderr)?.[1];
      expect(cluster && existsSync(path.join(cluster, 'PG_VERSION'))).toBe(true);
      expect(await query(url!, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);

      child.stdin.end();
      expect(await exited).toBe(0);
      expect(existsSync(cluster!)).toBe(false);
      expect(await portFree(Number(new URL(url!).port))).toBe(true);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
