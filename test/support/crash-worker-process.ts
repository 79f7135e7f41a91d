/** Runs test/support/crash-worker.ts in a child process a test can SIGKILL, and reads what it logged. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../../src/config/index.js';
import { spawnTsx, type TsxProcess } from './tsx-process.js';
import { until } from './wait.js';

/** One line of the crash worker's CRASH_LOG. */
export interface CrashLogLine {
  event: 'ready' | 'start' | 'saved';
  clipIndex: number;
  pid: number;
  at: number;
}

export interface CrashWorkerOptions {
  serverAddress: string;
  taskQueue: string;
  /** The test's configuration: the child writes clips to its outputDir and keeps its data under its dataDir. */
  config: Pick<Config, 'dataDir' | 'outputDir'>;
  /** On top of this process's environment. */
  env?: Record<string, string>;
  /** Keep the child's stdout and stderr (see output()) instead of passing them through. */
  captureOutput?: boolean;
}

export interface CrashWorker extends TsxProcess {
  /** Every line logged so far. */
  readLog(): CrashLogLine[];
  /** Resolves once the worker polls its task queue. */
  ready(timeoutMs?: number): Promise<void>;
}

export function startCrashWorker({ serverAddress, taskQueue, config, env = {}, captureOutput = false }: CrashWorkerOptions): CrashWorker {
  const log = path.join(config.dataDir, 'crash-log.jsonl');
  const readLog = (): CrashLogLine[] =>
    existsSync(log)
      ? readFileSync(log, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as CrashLogLine)
      : [];
  const child = spawnTsx(
    'test/support/crash-worker.ts',
    {
      ...process.env,
      ...env,
      CRASH_LOG: log,
      TEMPORAL_ADDRESS: serverAddress,
      TEMPORAL_TASK_QUEUE: taskQueue,
      OUTPUT_DIR: config.outputDir,
      // Its own embedded cost database unless told otherwise: PGlite is one process per data dir.
      CLIPFLOW_DATA_DIR: env.CLIPFLOW_DATA_DIR ?? path.join(config.dataDir, 'first-worker'),
    },
    { captureOutput },
  );
  return {
    ...child,
    readLog,
    ready: async (timeoutMs) => {
      await until('the first worker to be ready', () => readLog().some((l) => l.event === 'ready'), timeoutMs);
    },
  };
}
