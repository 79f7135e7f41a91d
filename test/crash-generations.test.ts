/**
 * A clip's tries are counted in generations, not activity attempts: a worker killed while the
 * clip's prediction runs costs it nothing (the next attempt takes the same prediction up), while
 * a provider that fails the clip three times (the seed's three tries) ends it.
 */
import path from 'node:path';
import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClipflowClient } from '../src/client.js';
import type { DevServer } from '../src/dev-server/start-dev-server.js';
import { startCrashWorker, type CrashWorker } from './support/crash-worker-process.js';
import { clipPrompts, startTestServer, testConfig, uniqueName, workflowBundle } from './support/env.js';
import { fakeReplicateEnv, startFakeReplicate, type BehaveFn, type FakeReplicate } from './support/fake-replicate.js';
import { activityRuns } from './support/history.js';
import { harness } from './support/job-runner.js';
import { until } from './support/wait.js';

const TOKEN = 'r8_generations_token';
const MODEL = 'acme/gen';

let server: DevServer;
beforeAll(async () => {
  [server] = await Promise.all([startTestServer(), workflowBundle()]);
});
afterAll(async () => {
  await server?.stop();
});

const replicateEnv = (fake: FakeReplicate) => fakeReplicateEnv(fake, TOKEN, MODEL);

const onCreate =
  (behave: (nth: number) => ReturnType<BehaveFn>): BehaveFn =>
  (ctx) =>
    ctx.route === 'create' ? behave(ctx.createCount) : undefined;

describe('a clip counts generations, not activity attempts', () => {
  it('succeeds with one paid prediction although its worker is killed 4 times while the prediction runs', {
    timeout: 240_000,
  }, async () => {
    const fake = await startFakeReplicate({ token: TOKEN, behave: onCreate(() => ({ kind: 'prediction', latencyMs: 600_000 })) });
    const env = replicateEnv(fake);
    const config = await testConfig(env);
    const taskQueue = uniqueName('gen-kills');
    const bundlePath = path.join(config.dataDir, '..', 'workflow-bundle.js');
    await writeFile(bundlePath, (await workflowBundle()).code);
    const clipflow = createClipflowClient(server.env.client, { taskQueue });
    const jobId = uniqueName('four-kills');
    let worker: CrashWorker | undefined;
    try {
      const job = await clipflow.start({ jobId, clipPrompts: clipPrompts(1, 2), options: { minClips: 1 } });
      for (let attempt = 1; attempt <= 5; attempt++) {
        worker = startCrashWorker({
          serverAddress: server.address,
          taskQueue,
          config,
          env: { ...env, CLIPFLOW_WORKFLOW_BUNDLE: bundlePath },
        });
        await worker.ready(60_000);
        if (attempt === 5) {
          // The prediction has run through all four crashes; it ends while this worker waits on it.
          await until(
            'attempt 5 to take the prediction up',
            async () => (await job.raw.describe()).raw.pendingActivities?.[0]?.attempt === 5,
            60_000,
          );
          fake.succeed([...fake.predictions.keys()][0]!);
          break;
        }
        // Kill once this attempt runs and has heartbeated the prediction.
        await until(
          `attempt ${attempt} to heartbeat the prediction`,
          async () => {
            const [pending] = (await job.raw.describe()).raw.pendingActivities ?? [];
            const beat = Number(pending?.lastHeartbeatTime?.seconds ?? 0) * 1000 + (pending?.lastHeartbeatTime?.nanos ?? 0) / 1e6;
            const began = Number(pending?.lastStartedTime?.seconds ?? 0) * 1000 + (pending?.lastStartedTime?.nanos ?? 0) / 1e6;
            return pending?.attempt === attempt && began > 0 && beat >= began && fake.predictions.size === 1;
          },
          60_000,
        );
        await worker.kill();
      }
      const result = await job.result();
      const history = await job.raw.fetchHistory();

      expect(fake.creates).toHaveLength(1);
      expect(result.successfulClips).toBe(1);
      expect(result.clips[0]).toMatchObject({ attempts: 1, costMicroUsd: 50_000 });
      const [run] = activityRuns(history, 'generateClip');
      expect(run).toMatchObject({ outcome: 'completed', attempt: 5 });
    } finally {
      await worker?.kill();
      await fake.close();
    }
  });

  it('takes up the predictions its worker created but died before hearing of, paying once per clip', {
    timeout: 240_000,
  }, async () => {
    let worker: CrashWorker | undefined;
    // The worker dies the moment the second create reaches the provider: both predictions exist,
    // neither answer reaches it, and clip 1's id cannot have been recorded.
    const fake = await startFakeReplicate({
      token: TOKEN,
      behave: onCreate((nth) => {
        if (nth === 2 && worker) process.kill(worker.pid, 'SIGKILL');
        return { kind: 'prediction', latencyMs: 4_000 };
      }),
    });
    const env = replicateEnv(fake);
    const config = await testConfig(env);
    const taskQueue = uniqueName('gen-unheard');
    const bundlePath = path.join(config.dataDir, '..', 'workflow-bundle.js');
    await writeFile(bundlePath, (await workflowBundle()).code);
    const clipflow = createClipflowClient(server.env.client, { taskQueue });
    const start = () =>
      startCrashWorker({ serverAddress: server.address, taskQueue, config, env: { ...env, CLIPFLOW_WORKFLOW_BUNDLE: bundlePath } });
    try {
      worker = start();
      await worker.ready(60_000);
      const job = await clipflow.start({ jobId: uniqueName('unheard'), clipPrompts: clipPrompts(2, 2), options: { minClips: 2 } });
      await until('the second create', async () => fake.creates.length === 2, 60_000);
      await worker.exited;
      worker = start();
      const result = await job.result();

      expect(fake.creates.map((c) => c.prompt?.slice(0, 7)).sort()).toEqual(['clip 0:', 'clip 1:']);
      expect(result.successfulClips).toBe(2);
      expect(result.clips.map((c) => c.attempts)).toEqual([1, 1]);
      // Both clips' activities ran again on the new worker, which found the predictions instead of paying anew.
      const runs = activityRuns(await job.raw.fetchHistory(), 'generateClip');
      expect(runs.map((r) => [r.outcome, r.attempt])).toEqual([
        ['completed', 2],
        ['completed', 2],
      ]);
    } finally {
      await worker?.kill();
      await fake.close();
    }
  });

  it('fails a clip whose provider fails 3 times, after 3 predictions; one that fails twice succeeds on its third', {
    timeout: 120_000,
  }, async () => {
    // Clip 0 fails every time; clip 1 fails its first two predictions.
    const fake = await startFakeReplicate({
      token: TOKEN,
      behave: (ctx) => {
        if (ctx.route !== 'create') return undefined;
        const failing = ctx.prompt?.startsWith('clip 0:') || (ctx.prompt?.startsWith('clip 1:') && ctx.createCountForPrompt <= 2);
        return failing
          ? { kind: 'prediction', end: 'failed', error: 'GPU fell over', latencyMs: 200 }
          : { kind: 'prediction', latencyMs: 200 };
      },
    });
    const h = await harness(server, replicateEnv(fake));
    try {
      const result = await h.worker.runUntil(
        h.clipflow.start({ jobId: uniqueName('three'), clipPrompts: clipPrompts(2, 2), options: { minClips: 1 } }).then((j) => j.result()),
      );
      expect(fake.createsForPrompt('clip 0:')).toHaveLength(3);
      expect(result.failures).toEqual([expect.objectContaining({ clipIndex: 0, errorType: 'ProviderFailed', attempts: 3 })]);
      expect(fake.createsForPrompt('clip 1:')).toHaveLength(3);
      expect(result.clips).toEqual([expect.objectContaining({ clipIndex: 1, attempts: 3 })]);
      // Failed predictions of a succeeded prediction API cost nothing here; the one that made the clip does.
      expect(result.clips[0]?.costMicroUsd).toBe(50_000);
    } finally {
      await h.deps.close();
      await fake.close();
    }
  });
});
