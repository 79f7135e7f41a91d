/** The promise-pool baseline in its own process (so it can be SIGKILLed): reports start, each clip done, end. */
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createActivities } from '../src/activities/index.js';
import { loadConfig } from '../src/config/index.js';
import { emit, readSpec, type PoolSpec } from './child-spec.js';
import { clipPrompts } from './prompts.js';
import { benchDeps } from './instrument.js';
import { runPool } from './pool.js';

const startedAt = Date.now();
Runtime.install({ logger: new DefaultLogger('WARN') });
const spec = readSpec<PoolSpec>();
const config = loadConfig(spec.configEnv);
const bd = await benchDeps(
  config,
  { latencyMs: spec.latencyMs, sampleFile: spec.sampleFile, ...(spec.createsLog ? { createsLog: spec.createsLog } : {}) },
  spec.pollIntervalMs,
);
const { generateClip } = createActivities(bd.deps);
emit('start', { startupMs: Date.now() - startedAt });
const result = await runPool({
  jobId: spec.jobId,
  clips: clipPrompts(spec.clips),
  model: config.generation.model,
  concurrency: spec.concurrency,
  retry: config.job.retry,
  generateClip,
  onDone: (clipIndex, ok) => emit('done', { clipIndex, ok }),
});
emit('end', { clips: result.clips.length, failures: result.failures.length });
await bd.deps.close();
process.exit(0);
