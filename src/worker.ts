import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from './activities/index.js';
import { loadConfig, type Config } from './config.js';
import { createCostTracker } from './cost/create-tracker.js';
import { mediaBinaries } from './media/binaries.js';
import { createProbe } from './media/probe.js';
import { createProvider } from './providers/create-provider.js';
import path from 'node:path';

export const WORKFLOWS_PATH = fileURLToPath(new URL('./workflows/index.ts', import.meta.url));

/** Builds the activities' dependencies from configuration; `close` releases them. */
export async function createActivityDeps(config: Config): Promise<ActivityDeps & { close(): Promise<void> }> {
  const media = mediaBinaries();
  const costTracker = await createCostTracker(config);
  return {
    provider: createProvider(config, media),
    probe: createProbe(media.ffprobe),
    costTracker,
    config,
    pollIntervalMs: config.generation.provider === 'local' ? 200 : config.replicate.pollIntervalMs,
    close: () => costTracker.close(),
  };
}

export interface ClipflowWorkerOptions {
  config: Config;
  connection: NativeConnection;
  deps: ActivityDeps;
  /** A prebuilt workflow bundle (tests bundle once per file); otherwise the workflows are bundled now. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  taskQueue?: string;
}

/** A worker serving the generateClips workflow and its activities on one task queue. */
export function createClipflowWorker(options: ClipflowWorkerOptions): Promise<Worker> {
  const { config, connection, deps } = options;
  return Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: options.taskQueue ?? config.temporal.taskQueue,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    activities: createActivities(deps),
    // Cancellation reaches an activity through its heartbeat; keep that path short.
    maxHeartbeatThrottleInterval: '1 second',
    defaultHeartbeatThrottleInterval: '1 second',
  });
}

async function main(): Promise<void> {
  const config = loadConfig();
  const address = config.temporal.address ?? 'localhost:7233';
  const connection = await NativeConnection.connect({ address });
  const deps = await createActivityDeps(config);
  const worker = await createClipflowWorker({ config, connection, deps });
  console.log(`clipflow worker: task queue "${config.temporal.taskQueue}" on ${address} (${config.environment}, provider ${config.generation.provider})`);
  // Worker.run() stops gracefully on SIGINT/SIGTERM: running activities get the shutdown grace period.
  await worker.run();
  await deps.close();
  await connection.close();
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().catch((err: unknown) => {
    console.error(`clipflow worker: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
