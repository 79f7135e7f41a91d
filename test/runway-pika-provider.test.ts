/**
 * The Runway and Pika (fal) providers on their official clients against the project's fakes:
 * the bodies they send, the task states they read, one network attempt per call, and every
 * failure mapped through the failure table.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mediaBinaries } from '../src/media/binaries.js';
import { createProbe } from '../src/media/probe.js';
import { createFalPikaProvider } from '../src/providers/fal-pika.js';
import type { Prediction, PredictionRequest, VideoProvider } from '../src/providers/provider.js';
import { TERMINAL_STATUSES } from '../src/providers/provider.js';
import { createRunwayProvider, failureOfTask } from '../src/providers/runway.js';
import { ClipflowError, FailureType } from '../src/shared/failures.js';
import { startFakeFal, type FakeFal } from './support/fake-fal.js';
import { startFakeRunway, type FakeRunway } from './support/fake-runway.js';
import { taskBehaviors, type BehaveFn, type TaskBehavior } from './support/fake-tasks.js';
import { makeImage } from './support/images.js';
import { predictionRequest } from './support/prediction-request.js';
import { until } from './support/wait.js';

const RUNWAY_SECRET = 'key_runway_SECRET_0123456789abcdef';
const FAL_KEY = 'fal_SECRET_key_0123456789:abcdef';

let runway: FakeRunway;
let fal: FakeFal;
let dir: string;
let image: string;
const probe = createProbe(mediaBinaries().ffprobe);
/** Every error any provider call threw, to check none carries a secret. */
const errors: unknown[] = [];

beforeAll(async () => {
  [runway, fal] = await Promise.all([
    startFakeRunway({ token: RUNWAY_SECRET, latencyMs: 200 }),
    startFakeFal({ key: FAL_KEY, latencyMs: 200 }),
  ]);
  dir = await mkdtemp(path.join(os.tmpdir(), 'clipflow-providers-'));
  image = path.join(dir, 'reference.png');
  await makeImage(mediaBinaries().ffmpeg, image, '64x36');
});
afterAll(async () => {
  await Promise.all([runway?.close(), fal?.close()]);
  await rm(dir, { recursive: true, force: true });
  const text = errors.map((e) => `${String(e)} ${JSON.stringify(e)}`).join('\n');
  expect(text).not.toContain(RUNWAY_SECRET);
  expect(text).not.toContain(FAL_KEY);
});

const runwayProvider = (maxRetryAfterS = 60) => createRunwayProvider({ apiSecret: RUNWAY_SECRET, baseUrl: runway.url, maxRetryAfterS });
const pikaProvider = (maxRetryAfterS = 60) => createFalPikaProvider({ key: FAL_KEY, baseUrl: fal.url, maxRetryAfterS });

let clip = 100;
/** A request for a clip no other test uses, so the fakes' per-clip counts are this test's alone. */
function request(overrides: Partial<PredictionRequest> = {}): PredictionRequest {
  const clipIndex = clip++;
  return predictionRequest({ clipIndex, model: 'gen4.5', prompt: `clip ${clipIndex}: a lighthouse at dawn`, ...overrides });
}

async function settle(provider: VideoProvider, started: Prediction): Promise<Prediction> {
  return until('the prediction to end', async () => {
    const p = await provider.get(started.id);
    return TERMINAL_STATUSES.has(p.status) ? p : undefined;
  });
}

async function failure(promise: Promise<unknown>): Promise<ClipflowError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  errors.push(err);
  expect(err).toBeInstanceOf(ClipflowError);
  return err as ClipflowError;
}

function behaveFor(clipIndex: number, fn: BehaveFn): BehaveFn {
  return (ctx) => (ctx.clip === clipIndex ? fn(ctx) : undefined);
}

describe('runway provider against the fake Runway API', () => {
  it('text-to-video: creates once with model, ratio and duration, polls to SUCCEEDED and saves the real MP4', async () => {
    const provider = runwayProvider();
    const req = request({ aspectRatio: '9:16', durationS: 4 });
    const done = await settle(provider, await provider.start(req));
    expect(done.status).toBe('succeeded');
    const creates = runway.book.createsOf(req.clipIndex);
    expect(creates.map((c) => c.status)).toEqual([200]);
    expect(creates[0]?.input).toEqual({ model: 'gen4.5', promptText: req.prompt, ratio: '720:1280', duration: 4 });
    const out = path.join(dir, 'runway.mp4');
    await provider.saveOutput(done, out, 50_000_000);
    const facts = await probe(out);
    expect([facts.codec, facts.width, facts.height]).toEqual(['h264', 1280, 720]);
  });

  it('image-to-video: the prepared reference image reaches Runway as a data URI, byte for byte', async () => {
    const provider = runwayProvider();
    const req = request({ model: 'gen4_turbo', imagePath: image });
    await provider.start(req);
    const sent = String(runway.book.createsOf(req.clipIndex)[0]?.input?.promptImage);
    expect(sent.startsWith('data:image/png;base64,')).toBe(true);
    expect(Buffer.from(sent.split(',')[1] ?? '', 'base64').equals(await readFile(image))).toBe(true);
  });

  it('an image-only model without an image is refused before anything is paid (ProviderRefused, fallback)', async () => {
    const req = request({ model: 'gen4_turbo' });
    const err = await failure(runwayProvider().start(req));
    expect(err.type).toBe(FailureType.ProviderRefused);
    expect(runway.book.createsOf(req.clipIndex)).toEqual([]);
  });

  it('maps answers through the table, one request each: unknown model, 401, other 400s, moderation, 500, 429 with Retry-After (capped)', async () => {
    const unknown = request({ model: 'gen9_imaginary' });
    expect((await failure(runwayProvider().start(unknown))).type).toBe(FailureType.ModelUnavailable);

    const cases: { behavior: TaskBehavior; type: FailureType; retryAfterMs: number | undefined; cap: number }[] = [
      { behavior: taskBehaviors.unauthorized(), type: FailureType.Auth, retryAfterMs: undefined, cap: 60 },
      {
        behavior: {
          kind: 'http',
          status: 400,
          body: { error: 'Validation of body failed', issues: [{ path: ['ratio'], message: 'Invalid enum value' }] },
        },
        type: FailureType.InvalidInput,
        retryAfterMs: undefined,
        cap: 60,
      },
      {
        behavior: { kind: 'http', status: 400, body: { error: 'The prompt was rejected by content moderation.' } },
        type: FailureType.ContentRejected,
        retryAfterMs: undefined,
        cap: 60,
      },
      { behavior: taskBehaviors.serverError(500), type: FailureType.ProviderFailed, retryAfterMs: undefined, cap: 60 },
      { behavior: taskBehaviors.rateLimited(7), type: FailureType.RateLimited, retryAfterMs: 7_000, cap: 60 },
      { behavior: taskBehaviors.rateLimited(36_000), type: FailureType.RateLimited, retryAfterMs: 2_000, cap: 2 },
    ];
    for (const { behavior, type, retryAfterMs, cap } of cases) {
      const req = request();
      runway.book.behave = behaveFor(req.clipIndex, () => behavior);
      const err = await failure(runwayProvider(cap).start(req));
      expect([err.type, err.retryAfterMs]).toEqual([type, retryAfterMs]);
      // The client's own retries are off: the fake saw exactly one create.
      expect(runway.book.createsOf(req.clipIndex)).toHaveLength(1);
    }
    runway.book.behave = undefined;
    expect(runway.requests.filter((r) => r.path.startsWith('/v1/')).every((r) => r.authorized)).toBe(true);
  });

  it('a FAILED task ends the wait with its failureCode mapped: SAFETY.* is ContentRejected', async () => {
    const req = request();
    runway.book.behave = behaveFor(req.clipIndex, () => taskBehaviors.failed('SAFETY.INPUT.TEXT', 'The prompt did not pass moderation.'));
    const provider = runwayProvider();
    const done = await settle(provider, await provider.start(req));
    runway.book.behave = undefined;
    expect([done.status, done.errorType]).toEqual(['failed', FailureType.ContentRejected]);
    expect(done.error).toContain('SAFETY.INPUT.TEXT');
    expect(failureOfTask('INTERNAL.BAD_OUTPUT.CODE01')).toBeUndefined();
    expect(failureOfTask('ASSET.INVALID')).toBe(FailureType.ProviderRefused);
  });

  it('cancel deletes the task at Runway; an unknown task is PredictionNotFound', async () => {
    const req = request();
    runway.book.behave = behaveFor(req.clipIndex, () => taskBehaviors.slow(30_000));
    const provider = runwayProvider();
    const started = await provider.start(req);
    runway.book.behave = undefined;
    await provider.cancel(started.id);
    expect(runway.book.cancels.filter((c) => c.clip === req.clipIndex).map((c) => c.stateBefore)).toEqual(['queued']);
    expect((await provider.get(started.id)).status).toBe('canceled');
    expect((await failure(provider.get('00000000-0000-0000-0000-000000000000'))).type).toBe(FailureType.PredictionNotFound);
  });
});

describe('pika provider through fal against the fake fal API', () => {
  it('image-to-video: uploads the image to fal storage, submits with its URL, and saves the real MP4', async () => {
    const provider = pikaProvider();
    const req = request({ model: 'fal-ai/pika/v2.2', imagePath: image });
    const started = await provider.start(req);
    expect(started.id).toMatch(/^fal-ai\/pika\/v2\.2\/requests\//);
    const done = await settle(provider, started);
    expect(done.status).toBe('succeeded');
    const [create] = fal.book.createsOf(req.clipIndex);
    expect(create?.model).toBe('fal-ai/pika/v2.2/image-to-video');
    const sentUrl = String(create?.input?.image_url);
    expect(fal.uploads.get(sentUrl)?.bytes.equals(await readFile(image))).toBe(true);
    expect(create?.input).toMatchObject({ prompt: req.prompt, duration: 5, resolution: '720p' });
    const out = path.join(dir, 'pika.mp4');
    await provider.saveOutput(done, out, 50_000_000);
    expect((await probe(out)).codec).toBe('h264');
  });

  it('text-to-video sends the aspect ratio; an unknown endpoint is ModelUnavailable', async () => {
    const req = request({ model: 'fal-ai/pika/v2.2', aspectRatio: '1:1' });
    await pikaProvider().start(req);
    expect(fal.book.createsOf(req.clipIndex)[0]).toMatchObject({ model: 'fal-ai/pika/v2.2/text-to-video', input: { aspect_ratio: '1:1' } });
    expect((await failure(pikaProvider().start(request({ model: 'fal-ai/pika/v9' })))).type).toBe(FailureType.ModelUnavailable);
  });

  it('one network attempt per call although the fal client retries 429 and 5xx by itself', async () => {
    const req = request({ model: 'fal-ai/pika/v2.2' });
    fal.book.behave = behaveFor(req.clipIndex, () => taskBehaviors.rateLimited(9));
    const err = await failure(pikaProvider().start(req));
    expect([err.type, err.retryAfterMs]).toEqual([FailureType.RateLimited, 9_000]);
    expect(fal.book.createsOf(req.clipIndex)).toHaveLength(1);

    const polled = request({ model: 'fal-ai/pika/v2.2' });
    fal.book.behave = behaveFor(polled.clipIndex, (ctx) =>
      ctx.route === 'get' ? taskBehaviors.serverError(503) : taskBehaviors.slow(30_000),
    );
    const provider = pikaProvider();
    const started = await provider.start(polled);
    const before = fal.requests.length;
    expect((await failure(provider.get(started.id))).type).toBe(FailureType.ProviderFailed);
    expect(fal.requests.length - before).toBe(1);
    fal.book.behave = undefined;
    await provider.cancel(started.id);
  });

  it('a content-policy failure is ContentRejected; cancel reaches fal', async () => {
    const req = request({ model: 'fal-ai/pika/v2.2' });
    fal.book.behave = behaveFor(req.clipIndex, () => taskBehaviors.failed('content_policy_violation', 'flagged by a content checker'));
    const provider = pikaProvider();
    const done = await settle(provider, await provider.start(req));
    expect([done.status, done.errorType]).toEqual(['failed', FailureType.ContentRejected]);

    const slow = request({ model: 'fal-ai/pika/v2.2' });
    fal.book.behave = behaveFor(slow.clipIndex, () => taskBehaviors.slow(30_000));
    const started = await provider.start(slow);
    fal.book.behave = undefined;
    await provider.cancel(started.id);
    expect(fal.book.cancels.filter((c) => c.clip === slow.clipIndex).map((c) => c.stateBefore)).toEqual(['queued']);
  });
});
