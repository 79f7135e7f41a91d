import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { beforeAll, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { createActivities, type ActivityDeps } from '../src/activities/index.js';
import type { GenerateClipProgress } from '../src/activities/generate-clip.js';
import { createLocalStore } from '../src/store/local-store.js';
import { clipKey, reportKey } from '../src/store/keys.js';
import type { ReportInput } from '../src/shared/activity-io.js';
import { loadConfig, type Config } from '../src/config/index.js';
import { createPgliteCostTracker } from '../src/cost/pglite-tracker.js';
import type { CostTracker } from '../src/cost/tracker.js';
import { VIDEO_STAGE } from '../src/cost/tracker.js';
import { mediaBinaries } from '../src/media/binaries.js';
import type { downloadImage } from '../src/media/image-download.js';
import { createContentCheck } from '../src/media/content-check.js';
import { createFrameMaker } from '../src/media/frames.js';
import { checkClip, createProbe } from '../src/media/probe.js';
import { createLocalProvider } from '../src/providers/local.js';
import type { VideoProvider } from '../src/providers/provider.js';
import { ClipflowError, FailureType } from '../src/shared/failures.js';
import type { Clip, ClipPrompt } from '../src/shared/model.js';
import { usdToMicros } from '../src/shared/money.js';
import { activityTelemetry } from '../src/telemetry/activity-telemetry.js';
import { testConfig, uniqueName } from './support/env.js';
import { activityEnv, FAKE_MODEL, FakeProvider, memoryCostTracker, prediction, recordingProvider, rejection } from './support/fakes.js';

const run = promisify(execFile);
const media = mediaBinaries();
const probe = createProbe(media.ffprobe);

const LOCAL_MODEL = 'clipflow/local-ffmpeg';
/** Non-zero prices, so that recorded costs say something. */
const PRICES = {
  [LOCAL_MODEL]: { usdPerOutputSecond: 0.05 },
  [FAKE_MODEL]: { usdPerPrediction: 0.25, usdPerPredictSecond: 0.01 },
};

let scratch: string;
/** A valid clip (1280x720, 2 s) rendered once by the local provider. */
let goodMp4: string;
/** A clip that cannot pass validation: 320x240, 0.5 s. */
let smallMp4: string;

beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'clipflow-activities-'));
  const local = createLocalProvider({ ffmpeg: media.ffmpeg, workDir: path.join(scratch, 'render') });
  const started = await local.start({
    jobId: 'fixture',
    clipIndex: 0,
    attempt: 1,
    model: LOCAL_MODEL,
    prompt: 'fixture: waves on a beach at dusk',
    durationS: 2,
    aspectRatio: '16:9',
    width: 1280,
    height: 720,
    fps: 24,
    deadlineS: 60,
  });
  let current = started;
  while (current.status === 'processing' || current.status === 'starting') {
    await sleep(50);
    current = await local.get(started.id);
  }
  expect(current.status).toBe('succeeded');
  goodMp4 = path.join(scratch, 'good.mp4');
  await local.saveOutput(current, goodMp4, 1e9);

  smallMp4 = path.join(scratch, 'small.mp4');
  await run(media.ffmpeg, [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    'testsrc=size=320x240:rate=24',
    '-t',
    '0.5',
    '-c:v',
    'libx264',
    '-pix_fmt',
    'yuv420p',
    smallMp4,
  ]);
});

let config: Config;
beforeEach(async () => {
  config = await testConfig({ CLIPFLOW_PRICES: JSON.stringify(PRICES) });
});

/** Where the local store (OUTPUT_DIR) keeps an artifact. */
const inStore = (key: string) => path.join(config.outputDir, key);

function activities(overrides: Partial<ActivityDeps> & { provider: VideoProvider }) {
  return createActivities({
    probe,
    contentCheck: createContentCheck(media.ffmpeg, config.contentChecks),
    frames: createFrameMaker(media.ffmpeg),
    costTracker: memoryCostTracker(),
    store: createLocalStore(config.outputDir),
    config,
    pollIntervalMs: 10,
    ...overrides,
  });
}

function clipPrompt(clipIndex: number, extra: Partial<ClipPrompt> = {}): ClipPrompt {
  return { clipIndex, prompt: `clip ${clipIndex}: a lighthouse in a storm`, durationS: 2, aspectRatio: '16:9', ...extra };
}

/** Heartbeats as the states they told, in order: while a clip is checked the same one repeats every second. */
function distinct(beats: unknown[]): unknown[] {
  return beats.filter((beat, i) => i === 0 || JSON.stringify(beat) !== JSON.stringify(beats[i - 1]));
}

/** The record a failed generation leaves in the clip's heartbeat and failure details. */
function failedAttempt(generation: number, errorType: string) {
  return { generation, model: FAKE_MODEL, errorType, message: expect.any(String) };
}

/** Narrows a rejection to the ApplicationFailure the activity must throw. */
function asFailure(err: unknown): ApplicationFailure {
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

async function jobFiles(jobId: string): Promise<string[]> {
  const dir = path.join(config.outputDir, jobId);
  return existsSync(dir) ? readdir(dir) : [];
}

describe('generateClip', () => {
  it('renders a valid clip with the local provider, heartbeats the prediction and records its cost once', async () => {
    const provider = recordingProvider(createLocalProvider({ ffmpeg: media.ffmpeg, workDir: path.join(scratch, 'local-happy') }));
    const costTracker = await createPgliteCostTracker(path.join(scratch, 'pglite-happy'));
    onTestFinished(() => costTracker.close());
    const { generateClip } = activities({ provider, costTracker });
    const env = activityEnv({ attempt: 3 });
    const jobId = uniqueName('local');

    const clip = await env.run(generateClip, {
      jobId,
      clip: clipPrompt(2, { negativePrompt: 'blurry' }),
      model: LOCAL_MODEL,
      maxGenerations: 3,
      imageNote: 'reference image not used: HTTP 404',
    });

    // The file: in the store, and it passes the same validation the activity applies.
    const expected = inStore(clipKey(jobId, 2));
    expect(expected).toBe(path.join(config.outputDir, jobId, 'clip_002.mp4'));
    expect(clip.path).toBe(expected);
    expect(clip.uri).toBe(pathToFileURL(expected).href);
    const facts = await probe(expected);
    expect(() => checkClip(expected, facts, config.generation)).not.toThrow();
    expect(facts.codec).toBe('h264');
    expect((await jobFiles(jobId)).sort()).toEqual(['clip_002.mp4', 'posters']); // no .partial left behind

    expect(clip).toMatchObject({
      clipIndex: 2,
      provider: 'local',
      model: LOCAL_MODEL,
      attempts: 1,
      width: 1280,
      height: 720,
      durationS: facts.durationS,
      sizeBytes: facts.sizeBytes,
      imageNote: 'reference image not used: HTTP 404',
    });
    expect(clip.durationS).toBeGreaterThanOrEqual(config.generation.minDurationS);
    expect(clip.generationTimeS).toBeGreaterThan(0);

    // The request the provider got follows from the prompt, the config and the attempt.
    expect(provider.calls.start).toHaveLength(1);
    expect(provider.calls.start[0]).toEqual({
      jobId,
      clipIndex: 2,
      attempt: 1, // the first generation, whichever activity attempt runs it
      model: LOCAL_MODEL,
      prompt: 'clip 2: a lighthouse in a storm',
      negativePrompt: 'blurry',
      durationS: 2,
      aspectRatio: '16:9',
      width: 1280,
      height: 720,
      fps: config.generation.fps,
      deadlineS: config.job.clipTimeoutS,
    });

    // Every heartbeat names the prediction, so a retry can find it again.
    expect(env.heartbeats.length).toBeGreaterThanOrEqual(1);
    const first = env.heartbeats[0] as GenerateClipProgress;
    expect(first).toEqual({ predictionId: expect.any(String), model: LOCAL_MODEL, generations: 0, spentMicroUsd: 0 });
    for (const beat of env.heartbeats) expect(beat).toEqual(first);
    expect(provider.calls.get.every((id) => id === first.predictionId)).toBe(true);

    // Cost: one entry, keyed by the prediction id, priced by the probed duration.
    const cost = usdToMicros(0.05 * facts.durationS);
    expect(clip.costMicroUsd).toBe(cost);
    expect(clip.costUsd).toBeCloseTo(cost / 1e6, 9);
    const entries = await costTracker.entries(jobId);
    expect(entries).toEqual([
      { jobId, stage: VIDEO_STAGE, clipIndex: 2, key: first.predictionId, amountMicroUsd: cost, model: LOCAL_MODEL },
    ]);
    expect(await costTracker.getTotalCost(jobId)).toBe(cost);
  });

  it('resumes the heartbeated prediction instead of starting a new one', async () => {
    const provider = new FakeProvider({
      start: () => {
        throw new Error('start() must not be called when resuming');
      },
      get: (id, n) => {
        if (id !== 'p-1') throw new Error(`unexpected get(${id})`);
        return n === 0 ? prediction('p-1', 'processing') : prediction('p-1', 'succeeded', { output: goodMp4, predictTimeS: 12 });
      },
    });
    const costTracker = memoryCostTracker();
    const { generateClip } = activities({ provider, costTracker });
    const env = activityEnv({ attempt: 2, heartbeatDetails: { predictionId: 'p-1', model: FAKE_MODEL } });
    const jobId = uniqueName('resume');

    const clip = await env.run(generateClip, { jobId, clip: clipPrompt(0), model: FAKE_MODEL, maxGenerations: 3 });

    expect(provider.calls.start).toEqual([]);
    expect(provider.calls.get).toEqual(['p-1', 'p-1']); // resume lookup, then one poll to 'succeeded'
    expect(provider.calls.saveOutput).toEqual([
      // The output lands in the attempt's own scratch directory until it has passed.
      { predictionId: 'p-1', destination: expect.stringMatching(/clipflow-clip-[^/]+\/output\.mp4$/), maxBytes: 2_000_000_000 },
    ]);
    expect(env.heartbeats.length).toBeGreaterThanOrEqual(1);
    for (const beat of env.heartbeats) expect(beat).toEqual({ predictionId: 'p-1', model: FAKE_MODEL, generations: 0, spentMicroUsd: 0 });

    // Resumed after a crash: still its first generation.
    expect(clip).toMatchObject({ clipIndex: 0, provider: 'fake', model: FAKE_MODEL, attempts: 1, width: 1280, height: 720 });
    expect((await probe(clip.path!)).sizeBytes).toBe(clip.sizeBytes);
    // $0.25 per prediction + 12 s of hardware at $0.01/s.
    expect(clip.costMicroUsd).toBe(370_000);
    expect(costTracker.all).toEqual([{ jobId, stage: VIDEO_STAGE, clipIndex: 0, key: 'p-1', amountMicroUsd: 370_000, model: FAKE_MODEL }]);
  });

  it('takes up a heartbeated prediction that already succeeded, without polling or paying again', async () => {
    const provider = new FakeProvider({
      get: (id) => prediction(id, 'succeeded', { output: goodMp4 }),
    });
    const jobId = uniqueName('paid');
    // The earlier attempt recorded the cost, then its worker died before the clip was in place.
    const earlier = { jobId, stage: VIDEO_STAGE, clipIndex: 5, key: 'p-9', amountMicroUsd: 250_000, model: FAKE_MODEL };
    const costTracker = memoryCostTracker([earlier]);
    const { generateClip } = activities({ provider, costTracker });
    const env = activityEnv({ attempt: 2, heartbeatDetails: { predictionId: 'p-9', model: FAKE_MODEL } });

    const clip = await env.run(generateClip, { jobId, clip: clipPrompt(5), model: FAKE_MODEL, maxGenerations: 3 });

    expect(provider.calls.start).toEqual([]);
    expect(provider.calls.get).toEqual(['p-9']);
    expect(distinct(env.heartbeats)).toEqual([{ predictionId: 'p-9', model: FAKE_MODEL, generations: 0, spentMicroUsd: 0 }]);
    expect(existsSync(clip.path!)).toBe(true);
    expect(costTracker.all).toEqual([earlier]); // recorded once, not twice
    // The clip still costs what its prediction cost, though the tracker already had it.
    expect(clip.costMicroUsd).toBe(250_000);
    expect(await costTracker.getTotalCost(jobId)).toBe(250_000);
  });

  it.each([
    { case: 'failed', get: () => prediction('p-1', 'failed', { error: 'GPU fell over' }), ended: ['p-1'] },
    { case: 'canceled', get: () => prediction('p-1', 'canceled'), ended: ['p-1'] },
    {
      case: 'unknown to the provider',
      get: () => {
        throw new ClipflowError(FailureType.PredictionNotFound, 'prediction p-1 is unknown to the fake provider');
      },
    },
  ])('starts a new prediction when the heartbeated one is $case', async ({ get, ...rest }) => {
    // A prediction that has ended is remembered, so no later attempt takes it for one of its own.
    const ended = 'ended' in rest ? { ended: rest.ended } : {};
    const provider = new FakeProvider({
      output: goodMp4,
      get: (id, n) => (id === 'p-1' ? get() : prediction(id, n === 0 ? 'processing' : 'succeeded')),
    });
    const costTracker = memoryCostTracker();
    const { generateClip } = activities({ provider, costTracker });
    const env = activityEnv({ attempt: 2, heartbeatDetails: { predictionId: 'p-1', model: FAKE_MODEL } });
    const jobId = uniqueName('restart');

    const clip = await env.run(generateClip, { jobId, clip: clipPrompt(1), model: FAKE_MODEL, maxGenerations: 3 });

    expect(provider.calls.get[0]).toBe('p-1');
    expect(provider.calls.start).toHaveLength(1);
    expect(provider.calls.start[0]).toMatchObject({ jobId, clipIndex: 1, attempt: 1, model: FAKE_MODEL });
    expect(provider.calls.get.slice(1).every((id) => id === 'new-1')).toBe(true);
    expect(env.heartbeats[0]).toEqual({ predictionId: 'new-1', model: FAKE_MODEL, generations: 0, spentMicroUsd: 0, ...ended });
    expect(clip.path).toBe(inStore(clipKey(jobId, 1)));
    expect(costTracker.all.map((e) => e.key)).toEqual(['new-1']);
  });

  it('starts a new generation after one that ended (its prediction is no longer heartbeated)', async () => {
    const provider = new FakeProvider({
      output: goodMp4,
      get: (id, n) => prediction(id, n === 0 ? 'processing' : 'succeeded', { output: goodMp4 }),
    });
    const { generateClip } = activities({ provider });
    const env = activityEnv({ attempt: 2, heartbeatDetails: { model: FAKE_MODEL, generations: 1, spentMicroUsd: 0 } });

    const clip = await env.run(generateClip, { jobId: uniqueName('rejected'), clip: clipPrompt(0), model: FAKE_MODEL, maxGenerations: 3 });

    expect(provider.calls.start).toHaveLength(1);
    expect(provider.calls.start[0]?.attempt).toBe(2);
    expect(clip.attempts).toBe(2);
  });

  it('fails the attempt, without starting another prediction, when the provider cannot be asked about the heartbeated one', async () => {
    const provider = new FakeProvider({
      get: () => {
        throw new ClipflowError(FailureType.RateLimited, 'HTTP 429', 5000);
      },
    });
    const { generateClip } = activities({ provider });
    const env = activityEnv({ attempt: 2, heartbeatDetails: { predictionId: 'p-1', model: FAKE_MODEL } });

    const failure = asFailure(
      await rejection(env.run(generateClip, { jobId: uniqueName('busy'), clip: clipPrompt(0), model: FAKE_MODEL, maxGenerations: 3 })),
    );

    expect(failure.type).toBe('RateLimited');
    expect(failure.nextRetryDelay).toBeDefined();
    expect(provider.calls.start).toEqual([]);
    // The prediction may still run: this generation has not ended, the next attempt asks again.
    expect(failure.details).toEqual([{ generations: 0, spentMicroUsd: 0 }]);
    expect(env.heartbeats).toEqual([]);
  });

  it('does not resume a prediction that was made for another model', async () => {
    const provider = new FakeProvider({ output: goodMp4 });
    const { generateClip } = activities({ provider });
    const env = activityEnv({ attempt: 2, heartbeatDetails: { predictionId: 'p-1', model: 'another/model' } });

    await env.run(generateClip, { jobId: uniqueName('fallback'), clip: clipPrompt(0), model: FAKE_MODEL, maxGenerations: 3 });

    expect(provider.calls.get).not.toContain('p-1');
    expect(provider.calls.start).toHaveLength(1);
  });

  it('on cancellation stops polling, cancels the prediction at the provider and rejects with CancelledFailure', async () => {
    const provider = new FakeProvider({ start: () => prediction('c-1', 'processing'), get: (id) => prediction(id, 'processing') });
    const costTracker = memoryCostTracker();
    const { generateClip } = activities({ provider, costTracker });
    const env = activityEnv();
    env.once('heartbeat', () => setTimeout(() => env.cancel(), 50));
    const jobId = uniqueName('cancel');

    const err = await rejection(env.run(generateClip, { jobId, clip: clipPrompt(0), model: FAKE_MODEL, maxGenerations: 3 }));

    expect(err).toBeInstanceOf(CancelledFailure);
    expect(provider.calls.cancel).toEqual(['c-1']);
    expect(provider.calls.get.length).toBeGreaterThanOrEqual(1); // it was polling until then
    const polls = provider.calls.get.length;
    await sleep(50);
    expect(provider.calls.get.length).toBe(polls); // and polls no more
    expect(provider.calls.saveOutput).toEqual([]);
    expect(costTracker.all).toEqual([]);
    expect(await jobFiles(jobId)).toEqual([]);
  });

  it('on cancellation kills a running local render', async () => {
    const local = createLocalProvider({ ffmpeg: media.ffmpeg, workDir: path.join(scratch, 'local-cancel'), delayMs: 30_000 });
    const provider = recordingProvider(local);
    const { generateClip } = activities({ provider });
    const env = activityEnv();
    env.once('heartbeat', () => setTimeout(() => env.cancel(), 50));
    const t0 = Date.now();

    const err = await rejection(
      env.run(generateClip, { jobId: uniqueName('cancel-local'), clip: clipPrompt(0), model: LOCAL_MODEL, maxGenerations: 3 }),
    );

    expect(err).toBeInstanceOf(CancelledFailure);
    expect(Date.now() - t0).toBeLessThan(10_000);
    const id = (env.heartbeats[0] as GenerateClipProgress).predictionId!;
    expect(provider.calls.cancel).toEqual([id]);
    expect((await local.get(id)).status).toBe('canceled');
  });

  it('turns an Auth error from start() into a non-retryable ApplicationFailure carrying the attempt', async () => {
    const provider = new FakeProvider({
      start: () => {
        throw new ClipflowError(FailureType.Auth, 'the API token was refused');
      },
    });
    const { generateClip } = activities({ provider });
    const env = activityEnv({ attempt: 2 });

    const failure = asFailure(
      await rejection(env.run(generateClip, { jobId: uniqueName('auth'), clip: clipPrompt(0), model: FAKE_MODEL, maxGenerations: 3 })),
    );

    expect(failure.type).toBe('Auth');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toBe('the API token was refused');
    expect(failure.details).toEqual([{ generations: 1, spentMicroUsd: 0, failedAttempts: [failedAttempt(1, 'Auth')] }]);
    expect(distinct(env.heartbeats)).toEqual([
      {
        model: FAKE_MODEL,
        generations: 1,
        spentMicroUsd: 0,
        creatingSince: expect.any(Number),
        failedAttempts: [failedAttempt(1, 'Auth')],
      },
    ]);
  });

  it('generates on the provider its input names, and refuses one the worker does not serve', async () => {
    const primary = new FakeProvider({ name: 'runway' });
    const fallback = new FakeProvider({
      name: 'pika',
      start: () => {
        throw new TypeError('reached the fallback');
      },
    });
    const { generateClip } = activities({ provider: primary, providers: { pika: { provider: fallback, pollIntervalMs: 10 } } });
    const input = { jobId: uniqueName('which'), clip: clipPrompt(0), model: FAKE_MODEL, maxGenerations: 3 };

    const onPika = asFailure(await rejection(activityEnv({ attempt: 1 }).run(generateClip, { ...input, provider: 'pika' })));
    expect([onPika.type, fallback.calls.start.length, primary.calls.start.length]).toEqual(['TypeError', 1, 0]);

    const unknown = asFailure(await rejection(activityEnv({ attempt: 1 }).run(generateClip, { ...input, provider: 'replicate' })));
    expect([unknown.type, unknown.nonRetryable, unknown.message]).toEqual([
      'Misconfigured',
      true,
      'provider replicate is not configured on this worker (it serves runway, pika)',
    ]);
    expect(primary.calls.start.length + fallback.calls.start.length).toBe(1);
  });

  it('turns an unexpected error into a retryable ApplicationFailure named after it', async () => {
    const provider = new FakeProvider({
      start: () => {
        throw new TypeError('socket hang up');
      },
    });
    const { generateClip } = activities({ provider });
    const env = activityEnv({ attempt: 1 });

    const failure = asFailure(
      await rejection(env.run(generateClip, { jobId: uniqueName('oops'), clip: clipPrompt(0), model: FAKE_MODEL, maxGenerations: 3 })),
    );

    expect(failure.type).toBe('TypeError');
    expect(failure.nonRetryable).toBe(false);
    expect(failure.details).toEqual([{ generations: 1, spentMicroUsd: 0, failedAttempts: [failedAttempt(1, 'TypeError')] }]);
  });

  it('fails with ContentRejected (non-retryable) when the prediction ends failed with that type', async () => {
    const provider = new FakeProvider({
      start: () => prediction('r-1', 'starting'),
      get: (id) => prediction(id, 'failed', { error: 'flagged as sensitive', errorType: FailureType.ContentRejected }),
    });
    const costTracker = memoryCostTracker();
    const { generateClip } = activities({ provider, costTracker });
    const env = activityEnv({ attempt: 1 });
    const jobId = uniqueName('content');

    const failure = asFailure(await rejection(env.run(generateClip, { jobId, clip: clipPrompt(4), model: FAKE_MODEL, maxGenerations: 3 })));

    expect(failure.type).toBe('ContentRejected');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toBe('prediction r-1 ended failed: flagged as sensitive');
    expect(failure.details).toEqual([{ generations: 1, spentMicroUsd: 0, failedAttempts: [failedAttempt(1, 'ContentRejected')] }]);
    expect(provider.calls.saveOutput).toEqual([]);
    expect(costTracker.all).toEqual([]);
    expect(await jobFiles(jobId)).toEqual([]);
  });

  it('fails with a retryable ProviderFailed when the prediction fails without a type', async () => {
    const provider = new FakeProvider({ get: (id) => prediction(id, 'failed', { error: 'CUDA out of memory' }) });
    const { generateClip } = activities({ provider });
    // Its fourth activity attempt, but the earlier ones were crashes: this is its first generation.
    const env = activityEnv({ attempt: 4 });

    const failure = asFailure(
      await rejection(env.run(generateClip, { jobId: uniqueName('pf'), clip: clipPrompt(0), model: FAKE_MODEL, maxGenerations: 3 })),
    );

    expect(failure.type).toBe('ProviderFailed');
    expect(failure.nonRetryable).toBe(false);
    expect(failure.message).toBe('prediction new-1 ended failed: CUDA out of memory');
    expect(failure.details).toEqual([{ generations: 1, spentMicroUsd: 0, failedAttempts: [failedAttempt(1, 'ProviderFailed')] }]);
  });

  it('makes the failure final once the clip has failed maxGenerations generations on this model', async () => {
    const provider = new FakeProvider({ get: (id) => prediction(id, 'failed', { error: 'CUDA out of memory' }) });
    const { generateClip } = activities({ provider });
    const env = activityEnv({ attempt: 7, heartbeatDetails: { model: FAKE_MODEL, generations: 2, spentMicroUsd: 0 } });

    const failure = asFailure(
      await rejection(env.run(generateClip, { jobId: uniqueName('pf3'), clip: clipPrompt(0), model: FAKE_MODEL, maxGenerations: 3 })),
    );

    expect(failure.type).toBe('ProviderFailed');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.details).toEqual([{ generations: 3, spentMicroUsd: 0, failedAttempts: [failedAttempt(3, 'ProviderFailed')] }]);
    expect(provider.calls.start[0]?.attempt).toBe(3);
  });

  it('rejects a truncated MP4 whose header is intact, and one with no moov box, as ValidationFailed saying what', async () => {
    const whole = await readFile(goodMp4);
    const truncated = path.join(scratch, 'truncated.mp4');
    await writeFile(truncated, whole.subarray(0, Math.floor(whole.length / 3)));
    // Written with its index last, then cut in half: the moov box never arrived.
    const moovLast = path.join(scratch, 'moov-last.mp4');
    await run(media.ffmpeg, ['-hide_banner', '-v', 'error', '-y', '-i', goodMp4, '-c', 'copy', moovLast]);
    const noMoov = path.join(scratch, 'no-moov.mp4');
    await writeFile(noMoov, (await readFile(moovLast)).subarray(0, Math.floor(whole.length / 2)));

    for (const [output, said] of [
      [truncated, /^clip .*\/clip_004\.mp4 failed its content check: decoding stopped at \d\.\d\d s of 2\.00 s \(\d+ frames decoded\)/],
      [noMoov, /^clip .*\/clip_004\.mp4 is not a readable video: the MP4 has no moov box \(its index\): the file is cut short/],
    ] as const) {
      const provider = new FakeProvider({ start: (req) => ({ id: 'cut-1', model: req.model, status: 'succeeded', output }) });
      const jobId = uniqueName('cut');
      const failure = asFailure(
        await rejection(
          activityEnv().run(activities({ provider }).generateClip, { jobId, clip: clipPrompt(4), model: FAKE_MODEL, maxGenerations: 3 }),
        ),
      );
      expect(failure.type).toBe('ValidationFailed');
      expect(failure.nonRetryable).toBe(false);
      expect(failure.message).toMatch(said);
      expect(await jobFiles(jobId)).toEqual([]);
    }
  });

  it('rejects an output that fails validation, naming each problem, and leaves no clip file', async () => {
    const provider = new FakeProvider({ start: (req) => ({ id: 'v-1', model: req.model, status: 'succeeded', output: smallMp4 }) });
    const costTracker = memoryCostTracker();
    const { generateClip } = activities({ provider, costTracker });
    const env = activityEnv({ attempt: 1 });
    const jobId = uniqueName('invalid');

    const failure = asFailure(await rejection(env.run(generateClip, { jobId, clip: clipPrompt(3), model: FAKE_MODEL, maxGenerations: 3 })));

    expect(failure.type).toBe('ValidationFailed');
    expect(failure.nonRetryable).toBe(false); // a new generation may pass
    // The prediction was paid for although its output was refused.
    expect(failure.details).toEqual([{ generations: 1, spentMicroUsd: 250_000, failedAttempts: [failedAttempt(1, 'ValidationFailed')] }]);
    expect(failure.message).toContain('short side 240 px (320x240) is under 720 px');
    expect(failure.message).toMatch(/duration [\d.]+ s is under 1 s/);
    expect(failure.message).toMatch(/size \d+ B is under 100000 B/);
    // A prediction that finished at once is still heartbeated before its output is fetched; then
    // the generation has ended, and the retry makes a new one.
    expect(distinct(env.heartbeats)).toEqual([
      { predictionId: 'v-1', model: FAKE_MODEL, generations: 0, spentMicroUsd: 0 },
      {
        model: FAKE_MODEL,
        generations: 1,
        spentMicroUsd: 250_000,
        creatingSince: expect.any(Number),
        ended: ['v-1'],
        failedAttempts: [failedAttempt(1, 'ValidationFailed')],
      },
    ]);

    expect(existsSync(inStore(clipKey(jobId, 3)))).toBe(false);
    expect(await jobFiles(jobId)).toEqual([]);
    // The prediction succeeded, so it was paid for even though the clip is unusable.
    expect(costTracker.all).toEqual([{ jobId, stage: VIDEO_STAGE, clipIndex: 3, key: 'v-1', amountMicroUsd: 250_000, model: FAKE_MODEL }]);
  });

  describe('what earlier attempts of the clip paid', () => {
    it('adds it to the cost of a clip that succeeds, and heartbeats it unchanged', async () => {
      const provider = new FakeProvider({
        output: goodMp4,
        get: (id, n) => prediction(id, n === 0 ? 'processing' : 'succeeded', { output: goodMp4 }),
      });
      const costTracker = memoryCostTracker();
      const { generateClip } = activities({ provider, costTracker });
      const env = activityEnv({
        attempt: 2,
        heartbeatDetails: { model: FAKE_MODEL, generations: 1, spentMicroUsd: 250_000 } satisfies GenerateClipProgress,
      });
      const jobId = uniqueName('spent-ok');

      const clip = await env.run(generateClip, { jobId, clip: clipPrompt(0), model: FAKE_MODEL, maxGenerations: 3 });

      expect(provider.calls.start).toHaveLength(1);
      expect(env.heartbeats.length).toBeGreaterThanOrEqual(1);
      for (const beat of env.heartbeats)
        expect(beat).toEqual({ predictionId: 'new-1', model: FAKE_MODEL, generations: 1, spentMicroUsd: 250_000 });
      // $0.25 earlier + $0.25 for this prediction.
      expect(clip.costMicroUsd).toBe(500_000);
      expect(clip.costUsd).toBe(0.5);
      expect(clip.attempts).toBe(2);
      // The tracker records only this attempt's prediction, at its own price.
      expect(costTracker.all).toEqual([
        { jobId, stage: VIDEO_STAGE, clipIndex: 0, key: 'new-1', amountMicroUsd: 250_000, model: FAKE_MODEL },
      ]);
    });

    it("adds this attempt's cost to it when the output fails validation again", async () => {
      const provider = new FakeProvider({ start: (req) => ({ id: 'v-2', model: req.model, status: 'succeeded', output: smallMp4 }) });
      const costTracker = memoryCostTracker();
      const { generateClip } = activities({ provider, costTracker });
      const env = activityEnv({
        attempt: 2,
        heartbeatDetails: { model: FAKE_MODEL, generations: 1, spentMicroUsd: 250_000 } satisfies GenerateClipProgress,
      });
      const jobId = uniqueName('spent-invalid');

      const failure = asFailure(
        await rejection(env.run(generateClip, { jobId, clip: clipPrompt(3), model: FAKE_MODEL, maxGenerations: 3 })),
      );

      expect(failure.type).toBe('ValidationFailed');
      expect(failure.details).toEqual([{ generations: 2, spentMicroUsd: 500_000, failedAttempts: [failedAttempt(2, 'ValidationFailed')] }]);
      expect(distinct(env.heartbeats)).toEqual([
        { predictionId: 'v-2', model: FAKE_MODEL, generations: 1, spentMicroUsd: 250_000 },
        {
          model: FAKE_MODEL,
          generations: 2,
          spentMicroUsd: 500_000,
          creatingSince: expect.any(Number),
          ended: ['v-2'],
          failedAttempts: [failedAttempt(2, 'ValidationFailed')],
        },
      ]);
      expect(costTracker.all).toEqual([
        { jobId, stage: VIDEO_STAGE, clipIndex: 3, key: 'v-2', amountMicroUsd: 250_000, model: FAKE_MODEL },
      ]);
    });

    it('reports it when the attempt fails before paying anything', async () => {
      const provider = new FakeProvider({
        start: () => {
          throw new ClipflowError(FailureType.Auth, 'the API token was refused');
        },
      });
      const { generateClip } = activities({ provider });
      const env = activityEnv({
        attempt: 2,
        heartbeatDetails: { model: FAKE_MODEL, generations: 1, spentMicroUsd: 100_000 } satisfies GenerateClipProgress,
      });

      const failure = asFailure(
        await rejection(
          env.run(generateClip, { jobId: uniqueName('spent-auth'), clip: clipPrompt(0), model: FAKE_MODEL, maxGenerations: 3 }),
        ),
      );

      expect(failure.type).toBe('Auth');
      expect(failure.nonRetryable).toBe(true);
      expect(failure.details).toEqual([{ generations: 2, spentMicroUsd: 100_000, failedAttempts: [failedAttempt(2, 'Auth')] }]);
      expect(distinct(env.heartbeats)).toEqual([
        {
          model: FAKE_MODEL,
          generations: 2,
          spentMicroUsd: 100_000,
          creatingSince: expect.any(Number),
          failedAttempts: [failedAttempt(2, 'Auth')],
        },
      ]);
    });

    it('carries from a rejected attempt to the next through the last heartbeat', async () => {
      const provider = new FakeProvider({
        start: (req, n) => ({ id: `p-${n + 1}`, model: req.model, status: 'succeeded', output: n === 0 ? smallMp4 : goodMp4 }),
      });
      const costTracker = memoryCostTracker();
      const { generateClip } = activities({ provider, costTracker });
      const jobId = uniqueName('spent-chain');

      const first = activityEnv({ attempt: 1 });
      const failure = asFailure(
        await rejection(first.run(generateClip, { jobId, clip: clipPrompt(1), model: FAKE_MODEL, maxGenerations: 3 })),
      );
      expect(failure.details).toEqual([{ generations: 1, spentMicroUsd: 250_000, failedAttempts: [failedAttempt(1, 'ValidationFailed')] }]);

      // Temporal hands the next attempt the last details heartbeated by the one before.
      const second = activityEnv({ attempt: 2, heartbeatDetails: first.heartbeats.at(-1) });
      const clip = await second.run(generateClip, { jobId, clip: clipPrompt(1), model: FAKE_MODEL, maxGenerations: 3 });

      expect(provider.calls.start).toHaveLength(2);
      expect(provider.calls.get).toEqual([]); // the rejected p-1 is not looked up again
      expect(clip.costMicroUsd).toBe(500_000);
      expect(await costTracker.getTotalCost(jobId)).toBe(500_000);
      expect(costTracker.all.map((e) => [e.key, e.amountMicroUsd])).toEqual([
        ['p-1', 250_000],
        ['p-2', 250_000],
      ]);
    });
  });
});

describe('checkBudget', () => {
  const MINIMAX = 'minimax/video-01'; // $0.50 per prediction
  const WAN = 'wan-video/wan-2.1-t2v-480p'; // $0.000975 per hardware second, 40 s per output second

  function budgetActivities(costTracker: CostTracker) {
    return activities({ provider: new FakeProvider(), costTracker });
  }

  it('refuses an estimate over the limit with a non-retryable BudgetExceeded naming the dollars', async () => {
    const { checkBudget } = budgetActivities(memoryCostTracker());
    const env = activityEnv();
    const jobId = uniqueName('over');
    const clips = [0, 1, 2].map((clipIndex) => ({ clipIndex, durationS: 5 }));

    const failure = asFailure(
      await rejection(env.run(checkBudget, { jobId, clips, model: MINIMAX, budgetLimitMicroUsd: usdToMicros(1), minClips: 3 })),
    );

    expect(failure.type).toBe(FailureType.BudgetExceeded);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toBe(
      `job ${jobId}: estimated cost $1.50 for 3 clips ($1.50 for the minimum of 3) plus $0.00 already spent (current) exceeds the budget limit $1.00`,
    );
    expect(failure.details).toEqual([
      { currentMicroUsd: 0, estimatedMicroUsd: 1_500_000, minimumMicroUsd: 1_500_000, limitMicroUsd: 1_000_000 },
    ]);
  });

  it('lets a job whose minimum fits go ahead, leaving the rest to the ledger', async () => {
    const { checkBudget } = budgetActivities(memoryCostTracker());
    const clips = [0, 1, 2, 3].map((clipIndex) => ({ clipIndex, durationS: 5 }));
    // $2.00 for all four, $1.00 for the minimum of two: a $1.20 limit lets it start.
    const result = await activityEnv().run(checkBudget, {
      jobId: uniqueName('some'),
      clips,
      model: MINIMAX,
      budgetLimitMicroUsd: 1_200_000,
      minClips: 2,
    });
    expect(result.estimatedMicroUsd).toBe(2_000_000);
  });

  it('returns per-clip estimates when the job fits the budget', async () => {
    const { checkBudget } = budgetActivities(memoryCostTracker());
    const env = activityEnv();

    const result = await env.run(checkBudget, {
      jobId: uniqueName('under'),
      clips: [
        { clipIndex: 0, durationS: 5 },
        { clipIndex: 7, durationS: 2 },
      ],
      model: WAN,
      budgetLimitMicroUsd: usdToMicros(2),
      minClips: 2,
    });

    // 5 s -> 200 hardware seconds -> $0.195; 2 s -> 80 s -> $0.078.
    expect(result).toEqual({
      currentMicroUsd: 0,
      estimatedMicroUsd: 273_000,
      limitMicroUsd: 2_000_000,
      perClipMicroUsd: { 0: 195_000, 7: 78_000 },
    });
  });

  it('accepts an estimate exactly at the limit', async () => {
    const { checkBudget } = budgetActivities(memoryCostTracker());
    const result = await activityEnv().run(checkBudget, {
      jobId: uniqueName('exact'),
      clips: [{ clipIndex: 0, durationS: 4 }],
      model: MINIMAX,
      budgetLimitMicroUsd: 500_000,
      minClips: 1,
    });
    expect(result.estimatedMicroUsd).toBe(500_000);
  });

  it("counts the job's earlier spend from the tracker, and only that job's", async () => {
    const costTracker = await createPgliteCostTracker(path.join(scratch, 'pglite-spent'));
    onTestFinished(() => costTracker.close());
    const jobId = uniqueName('spent');
    await costTracker.record({ jobId, stage: VIDEO_STAGE, clipIndex: 0, key: 'old-1', amountMicroUsd: 200_000 });
    await costTracker.record({ jobId, stage: VIDEO_STAGE, clipIndex: 1, key: 'old-2', amountMicroUsd: 100_000 });
    await costTracker.record({ jobId: 'someone-else', stage: VIDEO_STAGE, clipIndex: 0, key: 'x', amountMicroUsd: 9_000_000 });
    const { checkBudget } = budgetActivities(costTracker);
    const clips = [{ clipIndex: 2, durationS: 3 }];

    // $0.30 spent + $0.50 estimated fits $0.80 ...
    const fits = await activityEnv().run(checkBudget, { jobId, clips, model: MINIMAX, budgetLimitMicroUsd: 800_000, minClips: 1 });
    expect(fits).toMatchObject({ currentMicroUsd: 300_000, estimatedMicroUsd: 500_000, perClipMicroUsd: { 2: 500_000 } });

    // ... but not $0.75, though the estimate alone would.
    const failure = asFailure(
      await rejection(activityEnv().run(checkBudget, { jobId, clips, model: MINIMAX, budgetLimitMicroUsd: 750_000, minClips: 1 })),
    );
    expect(failure.type).toBe('BudgetExceeded');
    expect(failure.message).toContain('estimated cost $0.50');
    expect(failure.message).toContain('$0.30 already spent');
    expect(failure.message).toContain('budget limit $0.75');
    expect(failure.details).toEqual([
      { currentMicroUsd: 300_000, estimatedMicroUsd: 500_000, minimumMicroUsd: 500_000, limitMicroUsd: 750_000 },
    ]);
  });
});

describe('writeReport', () => {
  /** A row's fields from the content check and the prompt, for clips made without them. */
  const unchecked = (durationS: number | null) => ({
    prompt: null,
    durationS,
    contentCheck: null,
    failedAttempts: [],
    findings: [],
    posterUri: null,
    stripUri: null,
    keptFrom: null,
  });

  function clip(clipIndex: number, extra: Partial<Clip> = {}): Clip {
    return {
      clipIndex,
      uri: `file:///out/job/clip_00${clipIndex}.mp4`,
      path: `/out/job/clip_00${clipIndex}.mp4`,
      durationS: 2,
      width: 1280,
      height: 720,
      sizeBytes: 400_000,
      provider: 'replicate',
      model: 'minimax/video-01',
      costMicroUsd: 500_000,
      costUsd: 0.5,
      attempts: 1,
      generationTimeS: 40,
      ...extra,
    };
  }

  it('counts each clip by outcome, provider and model, and the clips stopped for budget, when the report is stored', async () => {
    const telemetry = activityTelemetry();
    const { writeReport } = activities({ provider: new FakeProvider({ name: 'replicate' }), telemetry });
    const failure = (clipIndex: number, errorType: string, model?: string) => ({
      clipIndex,
      errorType,
      message: errorType,
      attempts: model ? 1 : 0,
      costMicroUsd: 0,
      ...(model ? { model } : {}),
    });
    const input: ReportInput = {
      jobId: uniqueName('counted'),
      clipPrompts: [0, 1, 2, 3, 4].map((clipIndex) => ({ clipIndex })),
      clips: [clip(0), clip(1, { model: 'acme/fallback' })],
      failures: [
        failure(2, 'CancelledForBudget', 'minimax/video-01'),
        failure(3, 'SkippedForBudget'),
        failure(4, 'ProviderFailed', 'acme/fallback'),
      ],
      totalCostMicroUsd: 1_000_000,
      totalGenerationTimeS: 80,
      minClips: 2,
      budget: {
        limitMicroUsd: 1_000_000,
        spentBeforeJobMicroUsd: 0,
        estimatedMicroUsd: 2_500_000,
        actualMicroUsd: 1_000_000,
        peakReservedMicroUsd: 1_000_000,
        skippedForBudget: [3],
        cancelledForBudget: [2],
        perModel: [],
      },
      cancelledClips: [],
    };
    await activityEnv().run(writeReport, input);

    const values = async (metric: { get(): Promise<{ values: { labels: object; value: number }[] }> }) =>
      (await metric.get()).values.map(({ labels, value }) => ({ ...labels, value }));
    expect(await values(telemetry.metrics.clips)).toEqual(
      expect.arrayContaining([
        { outcome: 'succeeded', provider: 'replicate', model: 'minimax/video-01', value: 1 },
        { outcome: 'succeeded', provider: 'replicate', model: 'acme/fallback', value: 1 },
        { outcome: 'cancelled', provider: 'replicate', model: 'minimax/video-01', value: 1 },
        { outcome: 'skipped', provider: 'replicate', model: 'none', value: 1 },
        { outcome: 'failed', provider: 'replicate', model: 'acme/fallback', value: 1 },
      ]),
    );
    expect((await values(telemetry.metrics.clips)).reduce((sum, v) => sum + v.value, 0)).toBe(5);
    expect(await values(telemetry.metrics.budgetStops)).toEqual([
      { stop: 'clip_skipped', value: 1 },
      { stop: 'clip_cancelled', value: 1 },
    ]);
  });
  it('writes production_report.json with totals, success rate, budget and one row per clip prompt', async () => {
    const { writeReport } = activities({ provider: new FakeProvider() });
    const jobId = uniqueName('report');
    const input: ReportInput = {
      jobId,
      clipPrompts: [{ clipIndex: 0 }, { clipIndex: 1 }, { clipIndex: 2 }, { clipIndex: 3 }],
      clips: [clip(0, { imageNote: 'reference image not used: HTTP 404' }), clip(2, { attempts: 3, generationTimeS: 95.5 })],
      failures: [
        { clipIndex: 1, errorType: 'ContentRejected', message: 'prediction r-1 ended failed: flagged', attempts: 1, costMicroUsd: 0 },
        {
          clipIndex: 3,
          errorType: 'ValidationFailed',
          message: 'clip failed validation: short side 240 px',
          attempts: 4,
          costMicroUsd: 250_000,
        },
      ],
      totalCostMicroUsd: 1_250_000,
      totalGenerationTimeS: 135.5,
      minClips: 2,
      budget: {
        limitMicroUsd: 5_000_000,
        spentBeforeJobMicroUsd: 250_000,
        estimatedMicroUsd: 2_000_000,
        actualMicroUsd: 1_250_000,
        peakReservedMicroUsd: 1_500_000,
        skippedForBudget: [],
        cancelledForBudget: [],
        perModel: [{ model: 'minimax/video-01', clips: 3, estimatedMicroUsd: 1_500_000, actualMicroUsd: 1_250_000 }],
      },
      cancelledClips: [],
    };

    const stored = await activityEnv().run(writeReport, input);
    const file = stored.path!;

    expect(file).toBe(inStore(reportKey(jobId)));
    expect(file).toBe(path.join(config.outputDir, jobId, 'production_report.json'));
    expect(stored.uri).toBe(pathToFileURL(file).href);
    // The temp files were renamed away; report.html and the contact sheet sit beside the JSON.
    expect((await jobFiles(jobId)).sort()).toEqual(['contact_sheet.jpg', 'production_report.json', 'report.html']);
    expect(stored.htmlPath).toBe(path.join(config.outputDir, jobId, 'report.html'));
    expect(stored.contactSheetUri).toBe(pathToFileURL(path.join(config.outputDir, jobId, 'contact_sheet.jpg')).href);
    const report = JSON.parse(await readFile(file, 'utf8'));
    expect(report).toEqual({
      jobId,
      workflowId: 'test',
      webUiUrl: 'http://localhost:8233/namespaces/default/workflows/test',
      contactSheetUri: stored.contactSheetUri,
      totalClips: 4,
      successfulClips: 2,
      failedClips: 2,
      successRate: 0.5,
      minClips: 2,
      meetsMinimum: true,
      totalCostUsd: 1.25,
      totalCostMicroUsd: 1_250_000,
      totalTimeS: 135.5,
      cancelledClips: [],
      budget: {
        limitUsd: 5,
        spentBeforeJobUsd: 0.25,
        estimatedUsd: 2,
        actualUsd: 1.25,
        peakReservedUsd: 1.5,
        skippedForBudget: [],
        cancelledForBudget: [],
        perModel: [{ model: 'minimax/video-01', clips: 3, estimatedUsd: 1.5, actualUsd: 1.25 }],
      },
      clips: [
        {
          clipIndex: 0,
          uri: 'file:///out/job/clip_000.mp4',
          path: '/out/job/clip_000.mp4',
          success: true,
          outcome: 'succeeded',
          provider: 'replicate',
          model: 'minimax/video-01',
          fallback: null,
          costUsd: 0.5,
          generationTimeS: 40,
          attempts: 1,
          error: null,
          errorType: null,
          reason: null,
          imageNote: 'reference image not used: HTTP 404',
          ...unchecked(2),
        },
        {
          clipIndex: 1,
          uri: null,
          path: null,
          success: false,
          outcome: 'failed',
          provider: null,
          model: null,
          fallback: null,
          costUsd: 0,
          generationTimeS: 0,
          attempts: 1,
          error: 'prediction r-1 ended failed: flagged',
          errorType: 'ContentRejected',
          reason: 'content rejected',
          imageNote: null,
          ...unchecked(null),
        },
        {
          clipIndex: 2,
          uri: 'file:///out/job/clip_002.mp4',
          path: '/out/job/clip_002.mp4',
          success: true,
          outcome: 'succeeded',
          provider: 'replicate',
          model: 'minimax/video-01',
          fallback: null,
          costUsd: 0.5,
          generationTimeS: 95.5,
          attempts: 3,
          error: null,
          errorType: null,
          reason: null,
          imageNote: null,
          ...unchecked(2),
        },
        {
          clipIndex: 3,
          uri: null,
          path: null,
          success: false,
          outcome: 'failed',
          provider: null,
          model: null,
          fallback: null,
          costUsd: 0.25,
          generationTimeS: 0,
          attempts: 4,
          error: 'clip failed validation: short side 240 px',
          errorType: 'ValidationFailed',
          reason: 'clip failed validation',
          imageNote: null,
          ...unchecked(null),
        },
      ],
    });
  });

  it('reports a job under its minimum, and replaces an earlier report', async () => {
    const { writeReport } = activities({ provider: new FakeProvider() });
    const jobId = uniqueName('report-min');
    const base: ReportInput = {
      jobId,
      clipPrompts: [{ clipIndex: 0 }, { clipIndex: 1 }, { clipIndex: 2 }],
      clips: [clip(1)],
      failures: [],
      totalCostMicroUsd: 500_000,
      totalGenerationTimeS: 40,
      minClips: 2,
      budget: {
        limitMicroUsd: 2_000_000,
        spentBeforeJobMicroUsd: 0,
        estimatedMicroUsd: 1_500_000,
        actualMicroUsd: 500_000,
        peakReservedMicroUsd: 1_500_000,
        skippedForBudget: [],
        cancelledForBudget: [],
        perModel: [],
      },
      cancelledClips: [],
    };
    await activityEnv().run(writeReport, { ...base, clips: [], totalCostMicroUsd: 0 });
    const { path: file } = await activityEnv().run(writeReport, base);

    const report = JSON.parse(await readFile(file!, 'utf8'));
    expect(report).toMatchObject({ totalClips: 3, successfulClips: 1, failedClips: 0, meetsMinimum: false, totalCostUsd: 0.5 });
    expect(report.successRate).toBeCloseTo(1 / 3, 12);
    // A prompt that neither produced a clip nor failed (e.g. never run) still gets its row.
    expect(
      report.clips.map((r: { clipIndex: number; success: boolean; attempts: number }) => [r.clipIndex, r.success, r.attempts]),
    ).toEqual([
      [0, false, 0],
      [1, true, 1],
      [2, false, 0],
    ]);
    expect((await jobFiles(jobId)).sort()).toEqual(['contact_sheet.jpg', 'production_report.json', 'report.html']);
  });
});

describe('prepareImage', () => {
  type Download = typeof downloadImage;

  it('returns ok:false with the reason when the download fails, without throwing', async () => {
    const failing: Download = async () => {
      throw new ClipflowError(FailureType.ImageRejected, 'image https://example.com/a.png: server answered HTTP 404');
    };
    const { prepareImage } = activities({ provider: new FakeProvider(), downloadImage: failing });

    const result = await activityEnv().run(prepareImage, { jobId: uniqueName('img'), clipIndex: 0, url: 'https://example.com/a.png' });

    expect(result).toEqual({ ok: false, reason: 'image https://example.com/a.png: server answered HTTP 404' });
  });

  it('returns ok:false even for a thrown non-Error', async () => {
    const failing: Download = async () => {
      throw 'connection reset';
    };
    const { prepareImage } = activities({ provider: new FakeProvider(), downloadImage: failing });

    const result = await activityEnv().run(prepareImage, { jobId: uniqueName('img'), clipIndex: 0, url: 'https://example.com/a.png' });

    expect(result).toEqual({ ok: false, reason: 'connection reset' });
  });

  it('with the real downloader refuses a private address (SSRF guard) as ok:false', async () => {
    const { prepareImage } = activities({ provider: new FakeProvider() });

    const result = await activityEnv().run(prepareImage, { jobId: uniqueName('img'), clipIndex: 0, url: 'http://127.0.0.1:9/secret.png' });

    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toContain('not a public address');
  });

  it('returns ok:true with the store URI of the image, downloaded to a scratch file with the image settings', async () => {
    const calls: Parameters<Download>[] = [];
    const succeeding: Download = async (...args) => {
      calls.push(args);
      await writeFile(`${args[1]}.png`, 'png bytes');
      return { path: `${args[1]}.png`, sizeBytes: 9, format: 'png' };
    };
    const { prepareImage } = activities({ provider: new FakeProvider(), downloadImage: succeeding });
    const jobId = uniqueName('img');

    const result = await activityEnv().run(prepareImage, { jobId, clipIndex: 12, url: 'https://example.com/b.png' });

    const stored = path.join(config.outputDir, jobId, 'refs', 'clip_012.png');
    expect(result).toEqual({ ok: true, uri: pathToFileURL(stored).href });
    expect(await readFile(stored, 'utf8')).toBe('png bytes');
    expect(calls).toHaveLength(1);
    const [url, destination, settings, options] = calls[0]!;
    expect(url).toBe('https://example.com/b.png');
    // Downloaded outside the store, and the scratch file is gone once stored.
    expect(destination.startsWith(config.outputDir)).toBe(false);
    expect(existsSync(`${destination}.png`)).toBe(false);
    expect(settings).toEqual(config.image);
    // The activity's cancellation signal is handed down, so a cancelled activity stops downloading.
    expect(options?.signal).toBeInstanceOf(AbortSignal);
    expect(options?.signal?.aborted).toBe(false);
  });
});

describe('jobSettings', () => {
  it('takes the config defaults, capping the default minClips at the clip count', async () => {
    const { jobSettings } = activities({ provider: new FakeProvider() });

    const small = await activityEnv().run(jobSettings, { clipCount: 2 });
    expect(small).toEqual({
      environment: 'development',
      concurrency: 3,
      minClips: 2,
      budgetLimitMicroUsd: 2_000_000,
      clipTimeoutS: 300,
      heartbeatTimeoutS: 5,
      retry: { initialIntervalS: 2, backoffCoefficient: 2, maximumIntervalS: 8, maxGenerations: 3, maximumAttempts: 10 },
      provider: 'local',
      model: LOCAL_MODEL,
      searchAttributes: true,
      clipLimits: { acceptedBy: `the local provider (${LOCAL_MODEL})`, minDurationS: 1, maxDurationS: 60 },
      maxClips: 100_000,
      batchSize: 400,
      batchWindow: 2,
    });
    expect(small).not.toHaveProperty('fallbackModel');

    const large = await activityEnv().run(jobSettings, { clipCount: 10 });
    expect(large.minClips).toBe(3);
  });

  it("lets the job's options override concurrency, minClips and budget", async () => {
    const { jobSettings } = activities({ provider: new FakeProvider() });

    const settings = await activityEnv().run(jobSettings, {
      clipCount: 10,
      options: { concurrency: 7, minClips: 9, budgetUsd: 12.34 },
    });

    expect(settings).toMatchObject({ concurrency: 7, minClips: 9, budgetLimitMicroUsd: 12_340_000 });
    // What the options do not name stays as configured.
    expect(settings).toMatchObject({ clipTimeoutS: config.job.clipTimeoutS, model: LOCAL_MODEL, provider: 'local' });

    const partial = await activityEnv().run(jobSettings, { clipCount: 10, options: { budgetUsd: 0.5 } });
    expect(partial).toMatchObject({ concurrency: 3, minClips: 3, budgetLimitMicroUsd: 500_000 });
  });

  it('carries the fallback model of the production configuration', async () => {
    config = loadConfig({ CLIPFLOW_ENV: 'production', OUTPUT_DIR: config.outputDir });
    const { jobSettings } = activities({ provider: new FakeProvider() });

    const settings = await activityEnv().run(jobSettings, { clipCount: 4 });

    expect(settings).toMatchObject({
      environment: 'production',
      provider: 'replicate',
      model: 'minimax/video-01',
      fallbackModel: 'wavespeedai/wan-2.1-t2v-720p',
      budgetLimitMicroUsd: 50_000_000,
    });
  });
});
