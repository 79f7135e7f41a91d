/**
 * A clipflow worker in its own process, for crash tests: it logs every prediction it starts and
 * finishes to CRASH_LOG (one JSON line each) so a test can tell which process made which clip.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { loadConfig } from '../../src/config/index.js';
import { createActivityDeps, createClipflowWorker } from '../../src/worker.js';

const log = process.env.CRASH_LOG;
const address = process.env.TEMPORAL_ADDRESS;
if (!log || !address) throw new Error('CRASH_LOG and TEMPORAL_ADDRESS are required');
mkdirSync(path.dirname(log), { recursive: true });
const note = (event: string, clipIndex: number) =>
  appendFileSync(log, `${JSON.stringify({ event, clipIndex, pid: process.pid, at: Date.now() })}\n`);

Runtime.install({ logger: new DefaultLogger('WARN') });
const config = loadConfig();
const deps = await createActivityDeps(config);
const { provider } = deps;
const start = provider.start.bind(provider);
const saveOutput = provider.saveOutput.bind(provider);
const clipOf = new Map<string, number>();
provider.start = async (request) => {
  note('start', request.clipIndex);
  const prediction = await start(request);
  clipOf.set(prediction.id, request.clipIndex);
  return prediction;
};
provider.saveOutput = async (prediction, destination, maxBytes) => {
  await saveOutput(prediction, destination, maxBytes);
  note('saved', clipOf.get(prediction.id) ?? -1);
};

const connection = await NativeConnection.connect({ address });
// A prebuilt workflow bundle, when the test made one, spares each restarted worker the bundling.
const bundle = process.env.CLIPFLOW_WORKFLOW_BUNDLE;
const worker = await createClipflowWorker({ config, connection, deps, ...(bundle ? { workflowBundle: { codePath: bundle } } : {}) });
note('ready', -1);
await worker.run();
