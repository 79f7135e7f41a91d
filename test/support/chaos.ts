/**
 * A job under random worker kills: a seeded schedule SIGKILLs the worker again and again (right
 * after it starts, right after a clip finishes so that a workflow task is in flight, right after
 * the provider received a create, or at a random moment), starts a new one each time, optionally restarts the dev server once, and then
 * checks what durability promises: the job completes, every clip was created once at the
 * provider, every cost was recorded once, and every history replays against today's code.
 *
 * Used by test/chaos.test.ts (a short run in CI) and test/support/chaos-cli.ts (`npm run chaos`).
 */
import { writeFile, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { History } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { createClipflowClient } from '../../src/client.js';
import { createCostTracker } from '../../src/cost/create-tracker.js';
import { freePort } from '../../src/dev-server/ports.js';
import { startDevServer, type DevServer } from '../../src/dev-server/start-dev-server.js';
import type { GenerateClipsResult } from '../../src/shared/model.js';
import { startCrashWorker, type CrashWorker } from './crash-worker-process.js';
import { clipPrompts, testConfig, uniqueName, workflowBundle } from './env.js';
import { fakeReplicateEnv, startFakeReplicate } from './fake-replicate.js';
import { until } from './wait.js';

export interface ChaosOptions {
  seed: number;
  clips?: number;
  /** Kills before the worker is left alone to finish. */
  kills?: number;
  /** Restart the dev server (persisted) once, halfway through the kills. */
  restartServer?: boolean;
  log?: (line: string) => void;
}

export interface ChaosOutcome {
  seed: number;
  jobId: string;
  kills: { strategy: KillStrategy; afterMs: number }[];
  serverRestarted: boolean;
  result: GenerateClipsResult;
  /** Creates the fake provider received, per clip index. */
  createsPerClip: number[];
  /** Cost entries recorded for the job: [clipIndex, key]. */
  costEntries: [number, string][];
  history: History;
  /** Set when the history does not replay against today's workflow code. */
  replayError?: unknown;
  seconds: number;
}

type KillStrategy = 'just-started' | 'clip-finished' | 'just-created' | 'random';

/** A small seeded PRNG (mulberry32): the same seed gives the same schedule of kills. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TOKEN = 'r8_chaos_token';
const MODEL = 'acme/chaos';

export async function runChaos(options: ChaosOptions): Promise<ChaosOutcome> {
  const { seed, clips = 12, kills = 8, restartServer = false, log = () => undefined } = options;
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const started = Date.now();

  const scratch = await mkdtemp(path.join(os.tmpdir(), 'clipflow-chaos-'));
  const port = await freePort();
  const dbFilename = path.join(scratch, 'temporal.db');
  let server: DevServer = await startDevServer({ port, dbFilename });
  // Predictions of 1 to 4 s, fixed per clip by the seed.
  const latencies = Array.from({ length: clips }, () => 1_000 + Math.floor(random() * 3_000));
  const fake = await startFakeReplicate({
    token: TOKEN,
    behave: (ctx) => {
      const clipIndex = Number(/^clip (\d+):/.exec(ctx.prompt ?? '')?.[1] ?? -1);
      return ctx.route === 'create' ? { kind: 'prediction', latencyMs: latencies[clipIndex] ?? 1_000 } : undefined;
    },
  });
  const env: Record<string, string> = {
    ...fakeReplicateEnv(fake, TOKEN, MODEL),
    RETRY_MAXIMUM_ATTEMPTS: '100',
    // Workers and this process must share one cost database: PostgreSQL when the run has one.
    ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}),
  };
  const config = await testConfig(env);
  const taskQueue = uniqueName('chaos');
  // Workers start from an already bundled workflow, so a restart takes about a second.
  const bundlePath = path.join(scratch, 'workflow-bundle.js');
  await writeFile(bundlePath, (await workflowBundle()).code);
  const workerEnv = { ...env, CLIPFLOW_WORKFLOW_BUNDLE: bundlePath };

  let worker: CrashWorker | undefined;
  let generation = 0;
  const startWorker = async () => {
    generation++;
    const next = startCrashWorker({
      serverAddress: server.address,
      taskQueue,
      config: { ...config, dataDir: path.join(config.dataDir, `worker-${generation}`) },
      env: { ...workerEnv, CLIPFLOW_DATA_DIR: config.dataDir },
      captureOutput: true,
    });
    await next.ready(60_000);
    return next;
  };

  const jobId = uniqueName(`chaos-${seed}`);
  const outcomeKills: ChaosOutcome['kills'] = [];
  let serverRestarted = false;
  try {
    worker = await startWorker();
    const client = () => createClipflowClient(server.env.client, { taskQueue });
    await client().start({ jobId, clipPrompts: clipPrompts(clips, 2), options: { concurrency: 4 } });
    const finished = async () => (await client().handle(jobId).raw.describe()).status.name !== 'RUNNING';

    for (let k = 0; k < kills && !(await finished()); k++) {
      const strategy = pick<KillStrategy>(['just-started', 'clip-finished', 'clip-finished', 'just-created', 'random']);
      const t0 = Date.now();
      if (strategy === 'just-started') {
        await sleep(Math.floor(random() * 300));
      } else if (strategy === 'just-created') {
        // Between the provider's create and the heartbeat that records its id reaching the server.
        const before = fake.creates.length;
        await until('a create', () => fake.creates.length > before, 20_000, 5).catch(() => undefined);
        await sleep(Math.floor(random() * 40));
      } else if (strategy === 'clip-finished') {
        // A finished clip means a workflow task is being scheduled or run right now.
        const saved = (w: CrashWorker) => w.readLog().filter((l) => l.event === 'saved' && l.pid === w.pid).length;
        const before = saved(worker);
        const current = worker;
        await until('a clip to finish', async () => saved(current) > before || (await finished()), 60_000, 20).catch(() => undefined);
        await sleep(Math.floor(random() * 150));
      } else {
        await sleep(300 + Math.floor(random() * 2_500));
      }
      outcomeKills.push({ strategy, afterMs: Date.now() - t0 });
      log(`seed ${seed}: kill ${k + 1}/${kills} (${strategy}, ${Date.now() - t0} ms) of pid ${worker.pid}`);
      await worker.kill();
      if (restartServer && !serverRestarted && k === Math.floor(kills / 2)) {
        log(`seed ${seed}: restarting the dev server`);
        await server.stop();
        server = await startDevServer({ port, dbFilename });
        serverRestarted = true;
      }
      worker = await startWorker();
    }

    const handle = client().handle(jobId);
    const result = await handle.result();
    const history = await handle.raw.fetchHistory();
    await worker.kill();

    let replayError: unknown;
    try {
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, jobId);
    } catch (err) {
      replayError = err;
    }
    const tracker = await createCostTracker(config);
    const costEntries = (await tracker.entries(jobId)).map((e) => [e.clipIndex, e.key] as [number, string]);
    await tracker.close();
    const createsPerClip = Array.from({ length: clips }, (_, i) => fake.createsForPrompt(`clip ${i}:`).length);
    return {
      seed,
      jobId,
      kills: outcomeKills,
      serverRestarted,
      result,
      createsPerClip,
      costEntries,
      history,
      replayError,
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    await worker?.kill();
    await fake.close();
    await server.stop();
  }
}
