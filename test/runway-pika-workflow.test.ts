/**
 * The real generateClips workflow with VIDEO_PROVIDER=runway and VIDEO_PROVIDER=pika against the
 * project's fake Runway and fal APIs: a job end to end with a reference image, a worker SIGKILLed
 * while tasks run, a cancelled job, and the provider's secret kept out of history, logs and reports.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { inspect } from 'node:util';
import { CancelledFailure, type WorkflowFailedError } from '@temporalio/client';
import { DefaultLogger, Runtime, type LogEntry } from '@temporalio/worker';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startDevServer, type DevServer } from '../src/dev-server/start-dev-server.js';
import { mediaBinaries } from '../src/media/binaries.js';
import type { GenerateClipsResult } from '../src/shared/model.js';
import { startCrashWorker, type CrashWorker } from './support/crash-worker-process.js';
import { clipPrompts, uniqueName, workflowBundle } from './support/env.js';
import { startFakeFal } from './support/fake-fal.js';
import { startFakeRunway } from './support/fake-runway.js';
import { sendBytes, sendJson, serve, type BehaveFn, type FakeServer, type TaskBehavior, type TaskBook } from './support/fake-tasks.js';
import { makeImage } from './support/images.js';
import { allText, expectValidClips, heartbeatedPredictions, within } from './support/job-checks.js';
import { harness, type Harness } from './support/job-runner.js';
import { until } from './support/wait.js';

const TIMEOUT_MS = 60_000;

interface Fake {
  url: string;
  book: TaskBook;
  requests: { path: string; authorized: boolean }[];
  close(): Promise<void>;
}

/** One provider under test: how to start its fake and point a worker at it. */
interface Target {
  provider: 'runway' | 'pika';
  secret: string;
  model: string;
  usdPerSecond: number;
  /** The durations its model makes: Runway gen4.5 2 to 10 s, Pika 5 or 10 s. */
  durationS: number;
  start(behave?: BehaveFn): Promise<Fake>;
  env(fake: Fake): Record<string, string>;
  /** What a 401 echoing the secret looks like from this API. */
  echo401(): TaskBehavior;
  /** The reference image as the fake received it. */
  sentImage(fake: Fake, input: Record<string, unknown>): Buffer | undefined;
}

const RUNWAY_SECRET = 'key_runway_workflow_SECRET_5f3a9c';
const FAL_KEY = 'fal_workflow_SECRET_7e1b2d:9c8a';

const TARGETS: Target[] = [
  {
    provider: 'runway',
    secret: RUNWAY_SECRET,
    model: 'gen4.5',
    usdPerSecond: 0.12,
    durationS: 2,
    start: (behave) => startFakeRunway({ token: RUNWAY_SECRET, latencyMs: 400, ...(behave ? { behave } : {}) }),
    env: (fake) => ({ RUNWAYML_API_SECRET: RUNWAY_SECRET, RUNWAYML_BASE_URL: fake.url, RUNWAY_POLL_INTERVAL_MS: '200' }),
    echo401: () => ({
      kind: 'http',
      status: 401,
      body: { error: `API key ${RUNWAY_SECRET} is invalid (Authorization: Bearer ${RUNWAY_SECRET})` },
    }),
    sentImage: (_fake, input) => {
      const uri = String(input.promptImage ?? '');
      return uri.startsWith('data:') ? Buffer.from(uri.split(',')[1] ?? '', 'base64') : undefined;
    },
  },
  {
    provider: 'pika',
    secret: FAL_KEY,
    model: 'fal-ai/pika/v2.2',
    usdPerSecond: 0.04,
    durationS: 5,
    start: (behave) => startFakeFal({ key: FAL_KEY, latencyMs: 400, ...(behave ? { behave } : {}) }),
    env: (fake) => ({ FAL_KEY, FAL_BASE_URL: fake.url, FAL_POLL_INTERVAL_MS: '200' }),
    echo401: () => ({ kind: 'http', status: 401, body: { detail: `key ${FAL_KEY} is not valid (Authorization: Key ${FAL_KEY})` } }),
    sentImage: (fake, input) => (fake as Fake & { uploads: Map<string, { bytes: Buffer }> }).uploads.get(String(input.image_url))?.bytes,
  },
];

const logs: LogEntry[] = [];
const logText = (entry: LogEntry) => `${entry.level} ${entry.message} ${inspect(entry.meta, { depth: 10 })}`;
/** What the SIGKILLed workers printed, checked for secrets at the end. */
const crashOutputs: CrashWorker[] = [];

let server: DevServer;
let images: FakeServer;
let referenceImage: Buffer;
beforeAll(async () => {
  Runtime.install({ logger: new DefaultLogger('INFO', (entry) => logs.push(entry)) });
  const file = path.join(await import('node:os').then((os) => os.tmpdir()), `${uniqueName('reference')}.png`);
  await makeImage(mediaBinaries().ffmpeg, file, '320x180');
  referenceImage = await readFile(file);
  // The reference image, on an origin the workers may fetch from (IMAGE_ALLOW_PRIVATE_HOSTS).
  images = await serve((req, res) =>
    req.url.pathname === '/scene.png' ? sendBytes(res, referenceImage, 'image/png') : sendJson(res, 404, {}),
  );
  [server] = await Promise.all([startDevServer(), workflowBundle()]);
});
afterAll(async () => {
  await images?.close();
  await server?.stop();
});

const fakes: Fake[] = [];
const harnesses: Harness[] = [];
afterEach(async () => {
  await Promise.all(harnesses.splice(0).map((h) => h.deps.close().catch(() => undefined)));
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});

async function setUp(target: Target, behave?: BehaveFn, extra: Record<string, string> = {}) {
  const fake = await target.start(behave);
  fakes.push(fake);
  const env = {
    VIDEO_PROVIDER: target.provider,
    VIDEO_FALLBACK_MODEL: '',
    CLIPFLOW_PRICES: JSON.stringify({ [target.model]: { usdPerOutputSecond: target.usdPerSecond } }),
    VIDEO_GENERATOR_BUDGET_USD: '100',
    RETRY_INITIAL_INTERVAL_S: '0.5',
    IMAGE_ALLOW_PRIVATE_HOSTS: 'true',
    ...target.env(fake),
    ...extra,
  };
  const h = await harness(server, env);
  harnesses.push(h);
  return { fake, h, env };
}

const slowFor =
  (clips: number[], ms: number): BehaveFn =>
  (ctx) =>
    ctx.route === 'create' && clips.includes(ctx.clip) ? { kind: 'task', latencyMs: ms } : undefined;

/** Waits until 3 tasks are in flight at the fake, each heartbeated to the server (a prediction id ends with its task id). */
function threeHeartbeated(fake: Fake, h: Harness, jobId: string): Promise<string[]> {
  return until(
    '3 tasks in flight, each heartbeated',
    async () => {
      const ids = fake.book.inFlight().map((t) => t.id);
      if (ids.length < 3) return undefined;
      const beaten = await heartbeatedPredictions(h, jobId);
      return ids.every((id) => beaten.some((b) => b.endsWith(id))) ? ids : undefined;
    },
    TIMEOUT_MS,
  );
}

describe.each(TARGETS)('generateClips on $provider (fake API)', (target) => {
  it('a job end to end: clips validated, the reference image reached the provider, each cost recorded once, report right', async () => {
    const { fake, h } = await setUp(target);
    const jobId = uniqueName(`${target.provider}-e2e`);
    const prompts = clipPrompts(3, target.durationS, (i) => (i === 1 ? { sceneReferenceUrl: `${images.origin}/scene.png` } : {}));
    const result: GenerateClipsResult = await h.worker.runUntil(
      h.clipflow.start({ jobId, clipPrompts: prompts }).then((job) => job.result()),
    );

    expect(result.successfulClips).toBe(3);
    expect(result.failures).toEqual([]);
    await expectValidClips(result);
    for (const clip of result.clips) expect([clip.provider, clip.model, clip.attempts]).toEqual([target.provider, target.model, 1]);
    // One task per clip; clip 1's carried the very bytes of its reference image, the others none.
    const accepted = fake.book.acceptedCreates();
    expect(accepted.map((c) => c.clip).sort()).toEqual([0, 1, 2]);
    const withImage = accepted.filter((c) => target.sentImage(fake, c.input ?? {}) !== undefined);
    expect(withImage.map((c) => c.clip)).toEqual([1]);
    expect(target.sentImage(fake, withImage[0]?.input ?? {})?.equals(referenceImage)).toBe(true);

    // Each task paid once, keyed by its id, priced from the table by the clip's measured seconds.
    const entries = await h.deps.costTracker.entries(jobId);
    const taskIds = accepted.map((c) => c.taskId);
    expect(entries).toHaveLength(3);
    for (const entry of entries) {
      expect(taskIds.some((id) => id !== undefined && entry.key.endsWith(id))).toBe(true);
      const clip = result.clips.find((c) => c.clipIndex === entry.clipIndex)!;
      expect(entry.amountMicroUsd).toBe(Math.round(target.usdPerSecond * clip.durationS * 1e6));
      expect(clip.costMicroUsd).toBe(entry.amountMicroUsd);
    }
    const report = JSON.parse(await readFile(result.reportPath!, 'utf8'));
    const spent = entries.reduce((sum, e) => sum + e.amountMicroUsd, 0);
    expect(report.successfulClips).toBe(3);
    expect(report.totalCostUsd).toBeCloseTo(spent / 1e6, 6);
    expect(report.clips.map((c: { clipIndex: number; provider: string }) => [c.clipIndex, c.provider])).toEqual([
      [0, target.provider],
      [1, target.provider],
      [2, target.provider],
    ]);
  });

  it('a worker SIGKILLed while 3 tasks run: the job finishes elsewhere and the fake saw one create per clip', async () => {
    // Clips 2, 3, 4 run 8 s: running when the worker dies; the others are quick.
    const { fake, h, env } = await setUp(target, slowFor([2, 3, 4], 8_000), { CLIP_HEARTBEAT_TIMEOUT_S: '3' });
    const crashEnv = { ...env, CLIP_HEARTBEAT_TIMEOUT_S: '3' };
    const first = startCrashWorker({
      serverAddress: server.address,
      taskQueue: h.taskQueue,
      config: h.config,
      env: crashEnv,
      captureOutput: true,
    });
    crashOutputs.push(first);
    try {
      await first.ready(TIMEOUT_MS);
      const jobId = uniqueName(`${target.provider}-crash`);
      const job = await h.clipflow.start({ jobId, clipPrompts: clipPrompts(6, target.durationS), options: { concurrency: 3 } });
      const runningAtKill = await threeHeartbeated(fake, h, jobId);
      await first.kill();
      const result = await h.worker.runUntil(job.result());

      expect(runningAtKill).toHaveLength(3);
      expect(result.successfulClips).toBe(6);
      await expectValidClips(result);
      // Exactly one create per clip across both workers: the running tasks were taken up, not made again.
      for (let clip = 0; clip < 6; clip++)
        expect(
          fake.book.createsOf(clip).map((c) => c.status),
          `clip ${clip}`,
        ).toEqual([200]);
      expect(fake.book.cancels).toEqual([]);
    } finally {
      await first.kill();
    }
  });

  it('cancelling the job cancels every in-flight task at the fake within 5 s', async () => {
    const { fake, h } = await setUp(target, slowFor([0, 1, 2, 3], 60_000));
    const jobId = uniqueName(`${target.provider}-cancel`);
    const { err, cancelledAt, running } = await h.worker.runUntil(async () => {
      const job = await h.clipflow.start({ jobId, clipPrompts: clipPrompts(4, target.durationS), options: { concurrency: 3 } });
      const running = await threeHeartbeated(fake, h, jobId);
      const cancelledAt = Date.now();
      await job.cancel();
      const err = await within(30_000, 'the cancelled job', job.result()).catch((e: unknown) => e);
      return { err, cancelledAt, running };
    });
    expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    expect(running).toHaveLength(3);
    const latencies = running.map((id) => {
      const cancel = fake.book.cancels.find((c) => c.taskId === id);
      expect(cancel, `a cancel for ${id}`).toBeDefined();
      return cancel!.time - cancelledAt;
    });
    console.log(`${target.provider} cancel: tasks cancelled ${latencies.join(', ')} ms after the request`);
    for (const latency of latencies) expect(latency).toBeLessThan(5_000);
    expect(fake.book.inFlight()).toEqual([]);
    expect(fake.book.acceptedCreates()).toHaveLength(3);
  });

  it('keeps the secret out of the history, every log and the report, even when a 401 echoes it', async () => {
    const { fake, h } = await setUp(target, (ctx) => (ctx.route === 'create' && ctx.clip === 0 ? target.echo401() : undefined));
    const jobId = uniqueName(`${target.provider}-secret`);
    const { result, history } = await h.worker.runUntil(async () => {
      const job = await h.clipflow.start({ jobId, clipPrompts: clipPrompts(2, target.durationS), options: { minClips: 1 } });
      return { result: await job.result(), history: await job.raw.fetchHistory() };
    });
    expect(result.failures).toEqual([expect.objectContaining({ clipIndex: 0, errorType: 'Auth', attempts: 1 })]);
    // The secret was really sent on every API call, and really echoed back.
    expect(fake.requests.filter((r) => !r.path.startsWith('/delivery/')).every((r) => r.authorized)).toBe(true);

    const historyText = [JSON.stringify(history), ...allText(history)].join('\n');
    expect(historyText).toContain('HTTP 401');
    expect(historyText).toContain('****');
    expect(historyText).not.toContain(target.secret);
    expect(historyText).not.toContain(Buffer.from(target.secret).toString('base64'));
    const lines = logs.map(logText);
    expect(lines.some((l) => l.includes('HTTP 401') && l.includes('****'))).toBe(true);
    expect(lines.filter((l) => l.includes(target.secret))).toEqual([]);
    for (const worker of crashOutputs) expect(worker.output()).not.toContain(target.secret);
    expect(await readFile(result.reportPath!, 'utf8')).not.toContain(target.secret);
  });
});
