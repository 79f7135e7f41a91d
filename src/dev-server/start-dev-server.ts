import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { ensureSearchAttributes } from '../temporal/namespace-setup.js';
import { provisionTemporalCli } from './temporal-cli.js';

export interface DevServerOptions {
  cliPath?: string;
  /** gRPC port; a free one when omitted. */
  port?: number;
  /** Web UI port; no UI when omitted. */
  uiPort?: number;
  /** Persist the server's state in this SQLite file; in memory when omitted. */
  dbFilename?: string;
  namespace?: string;
  /** Where provisioning the Temporal CLI reports what it does (stderr when omitted). */
  log?: (line: string) => void;
}

export interface DevServer {
  env: TestWorkflowEnvironment;
  address: string;
  uiUrl?: string;
  stop(): Promise<void>;
}

/** Starts the real Temporal dev server (the Temporal CLI's `server start-dev`). */
export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  if (options.dbFilename) await mkdir(path.dirname(options.dbFilename), { recursive: true });
  const cli = await provisionTemporalCli({
    ...(options.cliPath ? { cliPath: options.cliPath } : {}),
    ...(options.log ? { log: options.log } : {}),
  });
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: cli },
      ...(options.port ? { port: options.port } : {}),
      ...(options.uiPort ? { ui: true, uiPort: options.uiPort } : {}),
      ...(options.dbFilename ? { dbFilename: options.dbFilename } : {}),
      ...(options.namespace ? { namespace: options.namespace } : {}),
      log: { format: 'pretty', level: 'error' },
    },
  });
  // Registered here for a fresh database and for a persisted one alike.
  await ensureSearchAttributes(env.connection.operatorService, options.namespace ?? 'default');
  const address = env.address;
  const host = address.split(':')[0] ?? 'localhost';
  return {
    env,
    address,
    ...(options.uiPort ? { uiUrl: `http://${host === '127.0.0.1' ? 'localhost' : host}:${options.uiPort}` } : {}),
    stop: () => env.teardown(),
  };
}
