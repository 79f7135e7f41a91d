import type { Worker } from '@temporalio/worker';
import type { ActivityDeps } from '../../src/activities/index.js';
import { createClipflowClient, type ClipflowClient } from '../../src/client.js';
import type { Config } from '../../src/config/index.js';
import type { DevServer } from '../../src/dev-server/start-dev-server.js';
import { jobMetadataSettings } from '../../src/job-metadata.js';
import { createActivityDeps, createClipflowWorker } from '../../src/worker.js';
import { testConfig, uniqueName, workflowBundle } from './env.js';

export interface Harness {
  config: Config;
  taskQueue: string;
  deps: ActivityDeps & { close(): Promise<void> };
  worker: Worker;
  clipflow: ClipflowClient;
}

/** A worker on its own task queue with the real activities, `adjust` swapping in what a test needs. */
export async function harness(
  server: DevServer,
  env: Record<string, string> = {},
  adjust: (deps: ActivityDeps & { close(): Promise<void> }) => ActivityDeps & { close(): Promise<void> } = (d) => d,
): Promise<Harness> {
  const config = await testConfig(env);
  const taskQueue = uniqueName('tq');
  const deps = adjust(await createActivityDeps(config));
  const worker = await createClipflowWorker({
    config,
    connection: server.env.nativeConnection,
    deps,
    workflowBundle: await workflowBundle(),
    taskQueue,
  });
  // The client shares the worker's store, where a big job's clip list goes.
  const clipflow = createClipflowClient(server.env.client, {
    taskQueue,
    store: deps.store,
    maxClips: config.job.maxClips,
    jobDefaults: jobMetadataSettings(config),
  });
  return { config, taskQueue, deps, worker, clipflow };
}

/** The clip indexes the harness's provider is asked to start from now on, in order (filled as they come). */
export function recordClipStarts(h: Harness): number[] {
  const starts: number[] = [];
  const start = h.deps.provider.start.bind(h.deps.provider);
  h.deps.provider.start = async (request) => {
    starts.push(request.clipIndex);
    return start(request);
  };
  return starts;
}
