/**
 * A clipflow worker in its own process (for peak RSS and for SIGKILL): the real worker
 * (createActivityDeps + createClipflowWorker) with the fixed-latency provider. Reports "ready",
 * and on SIGTERM shuts down gracefully and reports its step timings as "stats".
 */
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { loadConfig } from '../src/config/index.js';
import { createClipflowWorker } from '../src/worker.js';
import { emit, readSpec, type WorkerSpec } from './child-spec.js';
import { startLoopMonitor } from './event-loop.js';
import { benchDeps } from './instrument.js';

const startedAt = Date.now();
Runtime.install({ logger: new DefaultLogger('WARN') });
const spec = readSpec<WorkerSpec>();
const config = loadConfig(spec.configEnv);
const rssMiB = () => process.memoryUsage().rss / 2 ** 20;
const memoryStages: Record<string, number> = { loaded: rssMiB() };
const bd = await benchDeps(
  config,
  {
    latencyMs: spec.latencyMs,
    sampleFile: spec.sampleFile,
    ...(spec.stateFile ? { stateFile: spec.stateFile } : {}),
    ...(spec.createsLog ? { createsLog: spec.createsLog } : {}),
  },
  spec.pollIntervalMs,
);
// createActivityDeps opens the embedded PGlite cost database (no DATABASE_URL here).
memoryStages.activityDeps = rssMiB();
const connection = await NativeConnection.connect({ address: spec.address });
const worker = await createClipflowWorker({
  config,
  connection,
  deps: bd.deps,
  workflowBundle: { codePath: spec.bundlePath },
  taskQueue: spec.taskQueue,
});
memoryStages.worker = rssMiB();
const loop = startLoopMonitor();
emit('ready', { startupMs: Date.now() - startedAt, memoryStages });
// Where the memory is, for the peak-RSS figure.
const memory = setInterval(() => {
  const m = process.memoryUsage();
  emit('mem', { rss: m.rss, heapTotal: m.heapTotal, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers });
}, 500);
memory.unref();
// Worker.run() shuts down gracefully on SIGTERM (the Runtime's shutdown signals).
await worker.run();
emit('stats', { timings: bd.timings(), loopDelay: loop.stop() });
await bd.deps.close();
await connection.close();
process.exit(0);
