/**
 * The real generateClips workflow with VIDEO_PROVIDER=replicate against the fake Replicate API:
 * a worker crash mid-prediction, rate limits, HTTP errors, aborted predictions, cancellation,
 * the fallback model, and the API token kept out of history and logs.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { inspect } from 'node:util';
import { CancelledFailure, WorkflowFailedError } from '@temporalio/client';
import { DefaultLogger, Runtime, type LogEntry } from '@temporalio/worker';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startDevServer, type DevServer } from '../src/dev-server/start-dev-server.js';
import type { GenerateClipsInput, GenerateClipsResult } from '../src/shared/model.js';
import { startCrashWorker, type CrashWorker } from './support/crash-worker-process.js';
import { clipPrompts, uniqueName, workflowBundle } from './support/env.js';
import { behaviors, startFakeReplicate, type BehaveFn, type Behavior, type FakeReplicate } from './support/fake-replicate.js';
import { clipOfPrompt } from './support/fake-tasks.js';
import { activityRuns } from './support/history.js';
import { allText, expectValidClips, heartbeatedPredictions, within } from './support/job-checks.js';
import { harness, recordClipStarts, type Harness } from './support/job-runner.js';
import { until } from './support/wait.js';

const TOKEN = 'r8_secret_test_token_123';
/** How long a test waits for something to happen. */
const TIMEOUT_MS = 60_000;
const PRICES = {
  'acme/primary': { usdPerPrediction: 0.1 },
  'acme/fallback': { usdPerPrediction: 0.05 },
};

/** Every log line of this process's Temporal runtime (workers, activities, workflows). */
const logs: LogEntry[] = [];
const logText = (entry: LogEntry) => `${entry.level} ${entry.message} ${inspect(entry.meta, { depth: 10 })}`;
/** The child worker the crash test kills; what it printed is checked for the token later. */
let crashedWorker: CrashWorker | undefined;

let server: DevServer;
beforeAll(async () => {
  // Before anything creates the runtime (it can be installed once per process).
  Runtime.install({
    logger: new DefaultLogger('INFO', (entry) => {
      logs.push(entry);
      if (process.env.TEST_LOG_LEVEL === 'DEBUG') console.error(logText(entry));
    }),
  });
  // Bundling the workflows (once per file) overlaps with the server's start.
  [server] = await Promise.all([startDevServer(), workflowBundle()]);
});
afterAll(async () => {
  await server?.stop();
});

const fakes: FakeReplicate[] = [];
const harnesses: Harness[] = [];
afterEach(async () => {
  await Promise.all(harnesses.splice(0).map((h) => h.deps.close().catch(() => undefined)));
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});

async function fakeReplicate(behave?: BehaveFn): Promise<FakeReplicate> {
  const fake = await startFakeReplicate({ token: TOKEN, latencyMs: 300, ...(behave ? { behave } : {}) });
  fakes.push(fake);
  return fake;
}

function replicateEnv(fake: FakeReplicate, extra: Record<string, string> = {}): Record<string, string> {
  return {
    VIDEO_PROVIDER: 'replicate',
    REPLICATE_API_TOKEN: TOKEN,
    REPLICATE_BASE_URL: fake.url,
    REPLICATE_POLL_INTERVAL_MS: '200',
    VIDEO_MODEL: 'acme/primary',
    CLIPFLOW_PRICES: JSON.stringify(PRICES),
    VIDEO_GENERATOR_BUDGET_USD: '100',
    RETRY_INITIAL_INTERVAL_S: '0.5',
    ...extra,
  };
}

async function replicateHarness(fake: FakeReplicate, extra: Record<string, string> = {}): Promise<Harness> {
  const h = await harness(server, replicateEnv(fake, extra));
  harnesses.push(h);
  return h;
}

/** Creates for one clip, in order. */
const createsOf = (fake: FakeReplicate, clipIndex: number) => fake.createsForPrompt(`clip ${clipIndex}:`);

/** Scripts creates per clip: `plan(clipIndex, nthCreateOfThisClip)`. */
function perClip(plan: (clipIndex: number, nth: number) => Behavior | undefined): BehaveFn {
  return (ctx) => (ctx.route === 'create' ? plan(clipOfPrompt(ctx.prompt), ctx.createCountForPrompt) : undefined);
}

async function runJob(h: Harness, input: GenerateClipsInput): Promise<GenerateClipsResult> {
  return h.worker.runUntil(h.clipflow.start(input).then((job) => job.result()));
}

const isRunning = (fake: FakeReplicate, id: string) => ['starting', 'processing'].includes(fake.predictions.get(id)?.status ?? '');

describe('generateClips on the Replicate provider (fake API)', () => {
  it('a worker SIGKILLed with 3 predictions running resumes them elsewhere: one create per clip', async () => {
    // Clips 0, 1 and 5 are quick; 2, 3 and 4 run for 8 s, long enough to be running at the kill.
    const fake = await fakeReplicate(
      perClip((clipIndex) => ({ kind: 'prediction', latencyMs: [2, 3, 4].includes(clipIndex) ? 8_000 : 600 })),
    );
    const env = replicateEnv(fake, { CLIP_HEARTBEAT_TIMEOUT_S: '3' });
    const replacement = await harness(server, env);
    harnesses.push(replacement);
    const { config, taskQueue } = replacement;
    const startsByReplacement = recordClipStarts(replacement);

    const firstWorker = startCrashWorker({ serverAddress: server.address, taskQueue, config, env, captureOutput: true });
    crashedWorker = firstWorker;
    try {
      await firstWorker.ready(TIMEOUT_MS);

      const jobId = uniqueName('rep-crash');
      const job = await replacement.clipflow.start({ jobId, clipPrompts: clipPrompts(6, 2), options: { concurrency: 3 } });
      // Kill once 2 clips are saved and 3 predictions run at the fake, each heartbeated to the server.
      const runningAtKill = await until(
        '2 clips done and 3 predictions running and heartbeated',
        async () => {
          if (firstWorker.readLog().filter((l) => l.event === 'saved').length < 2) return undefined;
          const running = [...fake.predictions.keys()].filter((id) => isRunning(fake, id));
          if (running.length < 3) return undefined;
          const beaten = await heartbeatedPredictions(replacement, jobId);
          return running.every((id) => beaten.includes(id)) ? running : undefined;
        },
        TIMEOUT_MS,
      );
      await firstWorker.kill();
      const firstPid = firstWorker.pid;
      expect(runningAtKill).toHaveLength(3);
      expect([...fake.predictions.values()].filter((p) => p.status === 'succeeded')).toHaveLength(2);
      const killedAt = Date.now();

      const { result, history } = await replacement.worker.runUntil(async () => ({
        result: await job.result(),
        history: await job.raw.fetchHistory(),
      }));
      console.log(`crash: job finished ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill`);

      expect(result.successfulClips).toBe(6);
      expect(result.failures).toEqual([]);
      await expectValidClips(result);
      // Exactly one prediction was created per clip, across both workers.
      for (let i = 0; i < 6; i++)
        expect(
          createsOf(fake, i).map((c) => c.status),
          `clip ${i}`,
        ).toEqual([201]);
      expect(fake.creates).toHaveLength(6);
      // The replacement created only the clip nobody had started; the running ones it took up from
      // the heartbeat details of the killed attempts.
      expect(startsByReplacement).toEqual([5]);
      const resumed = logs
        .filter((e) => e.message === 'resuming prediction')
        .map((e) => String(e.meta?.predictionId))
        .filter((id) => runningAtKill.includes(id));
      expect(resumed.sort()).toEqual([...runningAtKill].sort());

      const runs = activityRuns(history, 'generateClip');
      const clipOf = (input: unknown) => (input as { clip: { clipIndex: number } }).clip.clipIndex;
      const resumedRuns = runs.filter((r) => [2, 3, 4].includes(clipOf(r.input)));
      expect(resumedRuns).toHaveLength(3);
      for (const run of resumedRuns) {
        expect(run.outcome).toBe('completed');
        expect(run.attempt).toBeGreaterThanOrEqual(2);
        expect(run.identity.startsWith(`${firstPid}@`)).toBe(false);
      }
      for (const clip of result.clips.filter((c) => [0, 1].includes(c.clipIndex))) expect(clip.attempts).toBe(1);
    } finally {
      await firstWorker.kill();
    }
  });

  it('honours Retry-After on a 429 create, and caps an absurd one at REPLICATE_MAX_RETRY_AFTER_S', async () => {
    const firstThrottled = (retryAfter: number) => perClip((_clip, nth) => (nth === 1 ? behaviors.rateLimited(retryAfter) : undefined));

    // Two jobs side by side: Retry-After 5 with the default cap (60 s), and Retry-After 36000
    // (10 hours) with REPLICATE_MAX_RETRY_AFTER_S=2. The policy's own first interval is 0.5 s.
    const fake = await fakeReplicate(firstThrottled(5));
    const capped = await fakeReplicate(firstThrottled(36_000));
    const [h, h2] = await Promise.all([replicateHarness(fake), replicateHarness(capped, { REPLICATE_MAX_RETRY_AFTER_S: '2' })]);
    const [result, result2] = await Promise.all([
      runJob(h, { jobId: uniqueName('rep-429'), clipPrompts: clipPrompts(1) }),
      runJob(h2, { jobId: uniqueName('rep-429-cap'), clipPrompts: clipPrompts(1) }),
    ]);

    const creates = createsOf(fake, 0);
    expect(creates.map((c) => c.status)).toEqual([429, 201]);
    const gap = creates[1]!.time - creates[0]!.time;
    console.log(`429 Retry-After 5: next create after ${gap} ms`);
    expect(gap).toBeGreaterThanOrEqual(5_000);
    expect(gap).toBeLessThan(8_000);
    expect(result.clips[0]?.attempts).toBe(2);

    // Capped: after about 2 s, neither hours nor the policy's 0.5 s.
    const creates2 = createsOf(capped, 0);
    expect(creates2.map((c) => c.status)).toEqual([429, 201]);
    const gap2 = creates2[1]!.time - creates2[0]!.time;
    console.log(`429 Retry-After 36000 capped at 2 s: next create after ${gap2} ms`);
    expect(gap2).toBeGreaterThanOrEqual(2_000);
    expect(gap2).toBeLessThan(4_500);
    expect(result2.clips[0]?.attempts).toBe(2);
  });

  it('401 and 422 are attempted once (Auth, InvalidInput); 500 twice then success takes 3 attempts', async () => {
    const fake = await fakeReplicate(
      perClip((clipIndex, nth) => {
        if (clipIndex === 0) return behaviors.unauthorized();
        if (clipIndex === 1) return behaviors.invalidInput();
        if (clipIndex === 2 && nth <= 2) return behaviors.serverError(500);
        return undefined;
      }),
    );
    const h = await replicateHarness(fake);
    const result = await runJob(h, { jobId: uniqueName('rep-http'), clipPrompts: clipPrompts(3), options: { minClips: 1 } });

    expect(createsOf(fake, 0).map((c) => c.status)).toEqual([401]);
    expect(createsOf(fake, 1).map((c) => c.status)).toEqual([422]);
    expect(createsOf(fake, 2).map((c) => c.status)).toEqual([500, 500, 201]);
    expect(result.failures).toEqual([
      expect.objectContaining({ clipIndex: 0, errorType: 'Auth', attempts: 1 }),
      expect.objectContaining({ clipIndex: 1, errorType: 'InvalidInput', attempts: 1 }),
    ]);
    expect(result.failures[0]?.message).toContain('HTTP 401');
    expect(result.failures[1]?.message).toContain('HTTP 422');
    expect(result.clips.map((c) => [c.clipIndex, c.attempts, c.model])).toEqual([[2, 3, 'acme/primary']]);
    await expectValidClips(result);
  });

  it('an aborted prediction ends the wait: retried once it aborts, failed when it always aborts', async () => {
    const fake = await fakeReplicate(
      perClip((clipIndex, nth) => (clipIndex === 1 || (clipIndex === 0 && nth === 1) ? behaviors.aborted() : undefined)),
    );
    const h = await replicateHarness(fake, { RETRY_INITIAL_INTERVAL_S: '0.2' });
    const started = Date.now();
    const result = await within(
      30_000,
      'the job with aborted predictions',
      runJob(h, { jobId: uniqueName('rep-aborted'), clipPrompts: clipPrompts(2), options: { minClips: 1 } }),
    );
    const elapsedMs = Date.now() - started;
    console.log(`aborted predictions: job done in ${elapsedMs} ms`);
    expect(elapsedMs).toBeLessThan(20_000);

    expect(createsOf(fake, 0)).toHaveLength(2);
    expect(result.clips.map((c) => [c.clipIndex, c.attempts])).toEqual([[0, 2]]);
    // Clip 1 aborts every time: each generation made one prediction, and the clip failed after all 3.
    const clip1Ids = createsOf(fake, 1).map((c) => c.predictionId!);
    expect(clip1Ids).toHaveLength(3);
    for (const id of clip1Ids) expect(fake.predictions.get(id)?.status).toBe('aborted');
    expect(result.failures).toEqual([expect.objectContaining({ clipIndex: 1, errorType: 'ProviderFailed', attempts: 3 })]);
    expect(result.failures[0]?.message).toMatch(/ended aborted/);
    await expectValidClips(result);
  });

  it('an output that goes black, or freezes, is rejected by its content check and made again', async () => {
    const fake = await fakeReplicate(
      perClip((clipIndex, nth) => (nth === 1 && clipIndex > 0 ? behaviors.badPicture(clipIndex === 1 ? 'black' : 'frozen') : undefined)),
    );
    const h = await replicateHarness(fake, { RETRY_INITIAL_INTERVAL_S: '0.2' });
    const result = await runJob(h, { jobId: uniqueName('rep-picture'), clipPrompts: clipPrompts(3) });

    expect([0, 1, 2].map((i) => createsOf(fake, i).length)).toEqual([1, 2, 2]);
    expect(result.clips.map((c) => [c.clipIndex, c.attempts])).toEqual([
      [0, 1],
      [1, 2],
      [2, 2],
    ]);
    const found = (i: number) => result.clips[i]!.failedAttempts?.map((a) => [a.errorType, a.findings?.map((f) => f.kind)]);
    expect(found(1)).toEqual([['ValidationFailed', ['black']]]);
    expect(found(2)).toEqual([['ValidationFailed', ['frozen']]]);
    expect(result.clips[1]!.failedAttempts![0]!.message).toMatch(/failed its content check: black from 0\.[67]\d s to 2\.00 s/);
    await expectValidClips(result);
  });

  it('cancelling the job cancels every running prediction within 5 s and reports the clips cancelled', async () => {
    const fake = await fakeReplicate(perClip(() => behaviors.slow(60_000)));
    const h = await replicateHarness(fake);
    const jobId = uniqueName('rep-cancel');
    const { err, cancelRequestedAt, running } = await h.worker.runUntil(async () => {
      const job = await h.clipflow.start({ jobId, clipPrompts: clipPrompts(4), options: { concurrency: 3 } });
      const running = await until(
        '3 predictions running and heartbeated',
        async () => {
          const ids = [...fake.predictions.keys()].filter((id) => isRunning(fake, id));
          if (ids.length < 3) return undefined;
          const beaten = await heartbeatedPredictions(h, jobId);
          return ids.every((id) => beaten.includes(id)) ? ids : undefined;
        },
        TIMEOUT_MS,
      );
      const cancelRequestedAt = Date.now();
      await job.cancel();
      const err = await within(30_000, 'the cancelled job', job.result()).catch((e: unknown) => e);
      return { err, cancelRequestedAt, running };
    });

    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);

    expect(running).toHaveLength(3);
    const latencies = running.map((id) => {
      const cancel = fake.cancels.find((c) => c.predictionId === id);
      expect(cancel, `a cancel for ${id}`).toBeDefined();
      return cancel!.time - cancelRequestedAt;
    });
    console.log(`cancel: predictions cancelled ${latencies.join(', ')} ms after the cancel request`);
    for (const latency of latencies) expect(latency).toBeLessThan(5_000);
    for (const id of running) expect(fake.predictions.get(id)?.status).toBe('canceled');
    // The 4th clip never started: no prediction for it.
    expect(fake.creates).toHaveLength(3);

    const report = JSON.parse(await readFile(path.join(h.config.outputDir, jobId, 'production_report.json'), 'utf8'));
    expect(report.cancelledClips).toEqual([0, 1, 2, 3]);
    expect(report.successfulClips).toBe(0);
    expect(report.clips.map((r: { clipIndex: number; errorType: string }) => [r.clipIndex, r.errorType])).toEqual([
      [0, 'Cancelled'],
      [1, 'Cancelled'],
      [2, 'Cancelled'],
      [3, 'Cancelled'],
    ]);
  });

  it('a primary model answering 404 is asked once, and the clip is made by the fallback model', async () => {
    const fake = await fakeReplicate((ctx) => (ctx.route === 'create' && ctx.model === 'acme/primary' ? behaviors.notFound() : undefined));
    const h = await replicateHarness(fake, { VIDEO_FALLBACK_MODEL: 'acme/fallback' });
    const jobId = uniqueName('rep-fallback');
    const { result, history } = await h.worker.runUntil(async () => {
      const job = await h.clipflow.start({ jobId, clipPrompts: clipPrompts(2) });
      return { result: await job.result(), history: await job.raw.fetchHistory() };
    });

    expect(result.successfulClips).toBe(2);
    for (const clip of result.clips) {
      expect(clip.model).toBe('acme/fallback');
      expect(clip.provider).toBe('replicate');
      expect(clip.costUsd).toBeCloseTo(0.05, 6);
      expect(createsOf(fake, clip.clipIndex).map((c) => [c.model, c.status])).toEqual([
        ['acme/primary', 404],
        ['acme/fallback', 201],
      ]);
    }
    await expectValidClips(result);
    // ModelUnavailable is not retried: each primary activity ran a single attempt.
    const primaryRuns = activityRuns(history, 'generateClip').filter((r) => (r.input as { model: string }).model === 'acme/primary');
    expect(primaryRuns.map((r) => [r.attempt, r.outcome])).toEqual([
      [1, 'failed'],
      [1, 'failed'],
    ]);
  });

  it('keeps the API token out of the workflow history and out of every log, even when a 401 echoes it', async () => {
    const echo: Behavior = {
      kind: 'http',
      status: 401,
      body: { title: 'Unauthenticated', detail: `token ${TOKEN} is not valid here (Authorization: Bearer ${TOKEN})`, status: 401 },
    };
    const fake = await fakeReplicate(perClip((clipIndex) => (clipIndex === 0 ? echo : undefined)));
    const h = await replicateHarness(fake);
    const jobId = uniqueName('rep-token');
    const { result, history } = await h.worker.runUntil(async () => {
      const job = await h.clipflow.start({ jobId, clipPrompts: clipPrompts(2), options: { minClips: 1 } });
      return { result: await job.result(), history: await job.raw.fetchHistory() };
    });
    expect(result.successfulClips).toBe(1);
    expect(result.failures).toEqual([expect.objectContaining({ clipIndex: 0, errorType: 'Auth', attempts: 1 })]);
    // The token was really sent (every API request authorized) and really echoed back.
    const apiRequests = fake.requests.filter((r) => r.path.startsWith('/v1/'));
    expect(apiRequests.length).toBeGreaterThan(0);
    expect(apiRequests.every((r) => r.authorized)).toBe(true);

    const historyText = [JSON.stringify(history), ...allText(history)].join('\n');
    // Decoding worked (the prompts travel in payloads) and the echoed 401 reached the history, masked.
    expect(historyText).toContain('a slow pan over a neon city');
    expect(historyText).toContain('HTTP 401');
    expect(historyText).toContain('****');
    expect(historyText).not.toContain(TOKEN);
    expect(historyText).not.toContain(Buffer.from(TOKEN).toString('base64'));

    // The worker logs of this whole file: the echo was logged, masked; the token never.
    const lines = logs.map(logText);
    expect(lines.some((l) => l.includes('HTTP 401') && l.includes('****'))).toBe(true);
    const leaking = lines.filter((l) => l.includes(TOKEN));
    expect(leaking).toEqual([]);
    expect(crashedWorker?.output() ?? '').not.toContain(TOKEN);
    expect(await readFile(result.reportPath!, 'utf8')).not.toContain(TOKEN);
  });
});
