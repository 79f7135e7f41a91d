import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mediaBinaries } from '../src/media/binaries.js';
import type { Prediction, VideoProvider } from '../src/providers/provider.js';
import { TERMINAL_STATUSES } from '../src/providers/provider.js';
import { createReplicateProvider, maskSecret, retryAfterFrom } from '../src/providers/replicate.js';
import { ClipflowError, FailureType, ruleFor } from '../src/shared/failures.js';
import { behaviors, startFakeReplicate, type FakeReplicate } from './support/fake-replicate.js';
import { predictionRequest } from './support/prediction-request.js';

const TOKEN = 'r8_test_SECRET_token_0123456789';
const MAX_RETRY_AFTER_S = 60;

let fake: FakeReplicate;
let dir: string;
/** Every error any provider call threw, to check none of them carries the token. */
const errors: unknown[] = [];

function provider(overrides: Partial<Parameters<typeof createReplicateProvider>[0]> = {}): VideoProvider {
  return createReplicateProvider({ apiToken: TOKEN, baseUrl: fake.url, maxRetryAfterS: MAX_RETRY_AFTER_S, ...overrides });
}

const request = predictionRequest;

/** Runs `fn`, expecting a ClipflowError; keeps it for the token check. */
async function failure(fn: () => Promise<unknown>): Promise<ClipflowError> {
  try {
    await fn();
  } catch (err) {
    errors.push(err);
    expect(err).toBeInstanceOf(ClipflowError);
    return err as ClipflowError;
  }
  throw new Error('expected a failure');
}

async function waitForEnd(p: VideoProvider, prediction: Prediction, timeoutMs = 10_000): Promise<Prediction> {
  const deadline = Date.now() + timeoutMs;
  let current = prediction;
  const seen = [current.status];
  while (!TERMINAL_STATUSES.has(current.status)) {
    if (Date.now() > deadline) throw new Error(`prediction ${current.id} still ${current.status}`);
    await sleep(40);
    current = await p.get(current.id);
    if (seen.at(-1) !== current.status) seen.push(current.status);
  }
  return Object.assign(current, { seen });
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'replicate-provider-'));
  fake = await startFakeReplicate({ token: TOKEN, latencyMs: 300 });
});

afterEach(() => fake.setBehavior(undefined));

afterAll(async () => {
  await fake?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('replicate provider against the fake API', () => {
  it('creates by model, polls to succeeded and saves the real MP4', async () => {
    const p = provider();
    const started = await p.start(request({ prompt: 'lifecycle by model', negativePrompt: 'blurry' }));
    expect(started.model).toBe('minimax/video-01');
    expect(['starting', 'processing']).toContain(started.status);

    const create = fake.createsForPrompt('lifecycle by model');
    expect(create).toHaveLength(1);
    expect(create[0]?.model).toBe('minimax/video-01');
    expect(create[0]?.input).toEqual({ prompt: 'lifecycle by model', negative_prompt: 'blurry', duration: 5, aspect_ratio: '16:9' });
    const createRequest = fake.requests.find((r) => r.method === 'POST' && r.path === '/v1/models/minimax/video-01/predictions');
    expect(createRequest?.headers.authorization).toBeUndefined();
    expect(createRequest?.authorized).toBe(true);

    const finished = (await waitForEnd(p, started)) as Prediction & { seen: string[] };
    expect(finished.status).toBe('succeeded');
    expect(finished.seen).toContain('processing');
    expect(finished.model).toBe('minimax/video-01');
    expect(finished.predictTimeS).toBeGreaterThan(0);
    expect(finished.output).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/delivery\/.+\.mp4$/);

    const destination = path.join(dir, 'lifecycle.mp4');
    await p.saveOutput(finished, destination, 50_000_000);
    const saved = await readFile(destination);
    expect(saved.length).toBeGreaterThan(100_000);
    expect(saved.equals(fake.outputBytes)).toBe(true);
    expect((await readdir(dir)).filter((f) => f.includes('.download'))).toEqual([]);

    const { ffprobe } = mediaBinaries();
    const probe = spawnSync(
      ffprobe,
      [
        '-v',
        'error',
        '-select_streams',
        'v:0',
        '-show_entries',
        'stream=codec_name,width,height:format=duration',
        '-of',
        'json',
        destination,
      ],
      { encoding: 'utf8' },
    );
    const info = JSON.parse(probe.stdout) as {
      streams: { codec_name: string; width: number; height: number }[];
      format: { duration: string };
    };
    expect(info.streams[0]).toMatchObject({ codec_name: 'h264', width: 1280, height: 720 });
    expect(Number(info.format.duration)).toBeGreaterThanOrEqual(1);
  });

  it('creates by version through POST /predictions, taking the output from an array', async () => {
    fake.setBehavior((ctx) => (ctx.route === 'create' ? { kind: 'prediction', outputAs: 'array', predictTimeS: 42.5 } : undefined));
    const p = provider();
    const model = 'wan-video/wan-2.1-t2v-480p:0123456789abcdef';
    const started = await p.start(request({ model, prompt: 'by version' }));
    const [create] = fake.createsForPrompt('by version');
    expect(create?.version).toBe('0123456789abcdef');
    expect(create?.model).toBeUndefined();
    expect(fake.requests.some((r) => r.method === 'POST' && r.path === '/v1/predictions')).toBe(true);
    expect(started.model).toBe(model);
    const finished = await waitForEnd(p, started);
    expect(finished.status).toBe('succeeded');
    expect(finished.model).toBe(model);
    expect(finished.predictTimeS).toBe(42.5);
    expect(finished.output).toMatch(/\/delivery\/.+\.mp4$/);
  });

  it('sends the clip deadline as Cancel-After, and the server honours it', async () => {
    const p = provider();
    const started = await p.start(request({ prompt: 'deadline header', deadlineS: 299.2 }));
    expect(fake.createsForPrompt('deadline header')[0]?.cancelAfter).toBe('300s');
    expect(fake.predictions.get(started.id)?.cancelAfterMs).toBe(300_000);

    // A deadline shorter than the render: the server stops the prediction by itself, as
    // Replicate does: canceled when it was running, aborted when it had not started yet.
    fake.setBehavior((ctx) => (ctx.route === 'create' ? behaviors.slow(ctx.prompt === 'deadline, running' ? 2_000 : 8_000) : undefined));
    const [running, queued] = await Promise.all([
      p.start(request({ prompt: 'deadline, running', deadlineS: 1 })),
      p.start(request({ prompt: 'deadline, queued', deadlineS: 1 })),
    ]);
    const [runningEnd, queuedEnd] = await Promise.all([waitForEnd(p, running), waitForEnd(p, queued)]);
    expect(runningEnd.status).toBe('canceled');
    expect(queuedEnd.status).toBe('aborted');
    expect(fake.predictions.get(running.id)?.deadlineReached).toBe(true);
    expect(fake.predictions.get(queued.id)?.deadlineReached).toBe(true);
    expect(fake.cancels.map((c) => c.predictionId)).not.toContain(running.id);
  });

  it('uploads the reference image through the files API and passes its URL as the model input', async () => {
    const image = path.join(dir, 'reference.png');
    const bytes = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    await writeFile(image, bytes);
    const p = provider();

    await p.start(request({ prompt: 'with image, minimax', imagePath: image }));
    const minimax = fake.createsForPrompt('with image, minimax')[0];
    const url = minimax?.input?.first_frame_image;
    expect(typeof url).toBe('string');
    expect(minimax?.input?.image).toBeUndefined();
    const upload = [...fake.uploads.values()].find((u) => u.url === url);
    expect(upload?.bytes.equals(bytes)).toBe(true);
    expect(upload?.contentType).toBe('image/png');
    expect(upload?.name).toBe('reference.png');
    // The uploaded file is served back at its URL.
    expect(Buffer.from(await (await fetch(url as string)).arrayBuffer()).equals(bytes)).toBe(true);

    // Other models get the generic `image` key; the table can rename or drop inputs.
    await provider().start(request({ model: 'acme/i2v', prompt: 'with image, generic', imagePath: image }));
    expect(fake.createsForPrompt('with image, generic')[0]?.input?.image).toMatch(/\/v1\/files\/.+\/download$/);
    await provider({ modelInputs: { 'acme/custom': { image: 'start_image', duration: null, extra: { fps: 24 } } } }).start(
      request({ model: 'acme/custom', prompt: 'with image, custom', imagePath: image }),
    );
    const custom = fake.createsForPrompt('with image, custom')[0]?.input;
    expect(custom).toMatchObject({ start_image: expect.any(String), fps: 24, aspect_ratio: '16:9' });
    expect(custom).not.toHaveProperty('duration');
  });

  it('maps a wrong token (401) to Auth, non-retryable', async () => {
    const p = createReplicateProvider({ apiToken: 'r8_wrong_token_abcdef', baseUrl: fake.url, maxRetryAfterS: 60 });
    const err = await failure(() => p.start(request({ prompt: 'wrong token' })));
    expect(err.type).toBe(FailureType.Auth);
    expect(ruleFor(err.type).retryable).toBe(false);
    expect(err.message).not.toContain('r8_wrong_token_abcdef');

    fake.setBehavior((ctx) => (ctx.route === 'create' ? behaviors.forbidden() : undefined));
    const forbidden = await failure(() => provider().start(request({ prompt: 'forbidden' })));
    expect(forbidden.type).toBe(FailureType.Auth);
    expect(ruleFor(forbidden.type).retryable).toBe(false);
  });

  it('never lets the token into an error, even when the server echoes it', async () => {
    fake.setBehavior((ctx) =>
      ctx.route === 'create' ? behaviors.status(401, { detail: `Invalid token: ${TOKEN} (Authorization: Bearer ${TOKEN})` }) : undefined,
    );
    const err = await failure(() => provider().start(request({ prompt: 'echoed token' })));
    expect(err.type).toBe(FailureType.Auth);
    expect(err.message).not.toContain(TOKEN);
    expect(err.message).toContain('****');
  });

  it('maps 422 and a plain 400 to InvalidInput, non-retryable', async () => {
    fake.setBehavior((ctx) => (ctx.route === 'create' ? behaviors.invalidInput() : undefined));
    const err = await failure(() => provider().start(request({ prompt: 'invalid input' })));
    expect(err.type).toBe(FailureType.InvalidInput);
    expect(ruleFor(err.type).retryable).toBe(false);
    expect(err.message).toContain('duration must be one of 5, 10');

    fake.setBehavior((ctx) => (ctx.route === 'create' ? behaviors.badRequest('malformed request') : undefined));
    const bad = await failure(() => provider().start(request({ prompt: 'bad request' })));
    expect(bad.type).toBe(FailureType.InvalidInput);
    expect(ruleFor(bad.type).retryable).toBe(false);
  });

  it('maps content-policy rejections to ContentRejected (HTTP 400 and a flagged prediction)', async () => {
    fake.setBehavior((ctx) => (ctx.route === 'create' ? behaviors.contentPolicy() : undefined));
    const err = await failure(() => provider().start(request({ prompt: 'rejected prompt' })));
    expect(err.type).toBe(FailureType.ContentRejected);
    expect(ruleFor(err.type).retryable).toBe(false);

    fake.setBehavior((ctx) => (ctx.route === 'create' ? behaviors.contentFlagged() : undefined));
    const p = provider();
    const flagged = await waitForEnd(p, await p.start(request({ prompt: 'flagged output' })));
    expect(flagged.status).toBe('failed');
    expect(flagged.errorType).toBe(FailureType.ContentRejected);
    expect(flagged.error).toContain('flagged as sensitive');

    // An ordinary failure is returned as it is, for the activity to decide.
    fake.setBehavior((ctx) => (ctx.route === 'create' ? behaviors.failed('CUDA out of memory') : undefined));
    const failed = await waitForEnd(p, await p.start(request({ prompt: 'ordinary failure' })));
    expect(failed.status).toBe('failed');
    expect(failed.error).toBe('CUDA out of memory');
    expect(failed.errorType).toBeUndefined();
  });

  it('maps 404 on create to ModelUnavailable (not retried: the clip goes to the fallback model)', async () => {
    const strict = await startFakeReplicate({ token: TOKEN, knownModels: ['minimax/video-01'] });
    try {
      const p = createReplicateProvider({ apiToken: TOKEN, baseUrl: strict.url, maxRetryAfterS: 60 });
      const err = await failure(() => p.start(request({ model: 'nobody/no-such-model', prompt: 'missing model' })));
      expect(err.type).toBe(FailureType.ModelUnavailable);
      expect(ruleFor(err.type)).toMatchObject({ retryable: false, fallback: true });
      expect(strict.creates).toHaveLength(1);
      await expect(p.start(request({ prompt: 'known model' }))).resolves.toMatchObject({ model: 'minimax/video-01' });
    } finally {
      await strict.close();
    }
  });

  it('maps 429 with Retry-After: 5 to RateLimited after exactly one request (no client retries)', async () => {
    fake.setBehavior((ctx) => (ctx.route === 'create' ? behaviors.rateLimited(5) : undefined));
    const before = fake.requests.length;
    const err = await failure(() => provider().start(request({ prompt: 'rate limited 5' })));
    expect(err.type).toBe(FailureType.RateLimited);
    expect(err.retryAfterMs).toBe(5000);
    expect(ruleFor(err.type).retryable).toBe(true);
    expect(fake.createsForPrompt('rate limited 5')).toHaveLength(1);
    expect(fake.requests.length - before).toBe(1);
  });

  it('caps a long Retry-After at maxRetryAfterS', async () => {
    fake.setBehavior((ctx) => (ctx.route === 'create' ? behaviors.rateLimited(36_000) : undefined));
    const err = await failure(() => provider().start(request({ prompt: 'rate limited long' })));
    expect(err.type).toBe(FailureType.RateLimited);
    expect(err.retryAfterMs).toBe(MAX_RETRY_AFTER_S * 1000);
    expect(fake.createsForPrompt('rate limited long')).toHaveLength(1);
  });

  it('reads the wait from a "resets in ~7s" body and from an HTTP-date Retry-After', async () => {
    fake.setBehavior((ctx) => (ctx.route === 'create' ? behaviors.rateLimitedResetsIn(7) : undefined));
    const err = await failure(() => provider().start(request({ prompt: 'rate limited body' })));
    expect(err.type).toBe(FailureType.RateLimited);
    expect(err.retryAfterMs).toBe(7000);
    expect(fake.createsForPrompt('rate limited body')).toHaveLength(1);

    const date = new Date(Date.now() + 20_000).toUTCString();
    fake.setBehavior((ctx) => (ctx.route === 'create' ? behaviors.rateLimited(date) : undefined));
    const dated = await failure(() => provider().start(request({ prompt: 'rate limited date' })));
    expect(dated.retryAfterMs).toBeGreaterThan(15_000);
    expect(dated.retryAfterMs).toBeLessThanOrEqual(20_000);

    expect(retryAfterFrom(null, '{"retry_after": 12}', 60)).toBe(12_000);
    expect(retryAfterFrom(null, 'no hint', 60)).toBeUndefined();
  });

  it('maps 500 to ProviderFailed retryable after exactly one request, for create and for get', async () => {
    fake.setBehavior((ctx) => (ctx.route === 'create' ? behaviors.serverError(500) : undefined));
    const before = fake.requests.length;
    const err = await failure(() => provider().start(request({ prompt: 'server error' })));
    expect(err.type).toBe(FailureType.ProviderFailed);
    expect(ruleFor(err.type).retryable).toBe(true);
    expect(fake.requests.length - before).toBe(1);

    // GETs are retried on 5xx by the client too; still one request.
    fake.setBehavior(undefined);
    const p = provider();
    const started = await p.start(request({ prompt: 'get fails' }));
    fake.setBehavior((ctx) => (ctx.route === 'get' ? behaviors.serverError(503) : undefined));
    const gets = () => fake.requests.filter((r) => r.path === `/v1/predictions/${started.id}`).length;
    const getsBefore = gets();
    const getErr = await failure(() => p.get(started.id));
    expect(getErr.type).toBe(FailureType.ProviderFailed);
    expect(ruleFor(getErr.type).retryable).toBe(true);
    expect(gets() - getsBefore).toBe(1);
  });

  it('maps network errors and timeouts to ProviderFailed retryable', async () => {
    const closed = createReplicateProvider({ apiToken: TOKEN, baseUrl: 'http://127.0.0.1:1/v1', maxRetryAfterS: 60 });
    const refused = await failure(() => closed.start(request({ prompt: 'refused' })));
    expect(refused.type).toBe(FailureType.ProviderFailed);
    expect(ruleFor(refused.type).retryable).toBe(true);

    fake.setBehavior((ctx) => (ctx.route === 'create' ? behaviors.hang(3_000) : undefined));
    const startedAt = Date.now();
    const timedOut = await failure(() => provider({ requestTimeoutMs: 200 }).start(request({ prompt: 'hangs' })));
    expect(timedOut.type).toBe(FailureType.ProviderFailed);
    expect(ruleFor(timedOut.type).retryable).toBe(true);
    expect(timedOut.message).toContain('timed out');
    expect(Date.now() - startedAt).toBeLessThan(2_500);
    expect(fake.createsForPrompt('hangs')).toHaveLength(1);
  });

  it('returns an aborted prediction with status aborted', async () => {
    fake.setBehavior((ctx) => (ctx.route === 'create' ? behaviors.aborted() : undefined));
    const p = provider();
    const ended = await waitForEnd(p, await p.start(request({ prompt: 'aborted one' })));
    expect(ended.status).toBe('aborted');
    expect(ended.output).toBeUndefined();
  });

  it('cancels a running prediction; cancelling an unknown or finished one is a no-op', async () => {
    fake.setBehavior((ctx) => (ctx.route === 'create' ? behaviors.slow(10_000) : undefined));
    const p = provider();
    const started = await p.start(request({ prompt: 'to cancel' }));
    await p.cancel(started.id);
    expect(fake.cancels.map((c) => c.predictionId)).toContain(started.id);
    expect(fake.predictions.get(started.id)?.status).toBe('canceled');
    expect((await p.get(started.id)).status).toBe('canceled');

    await expect(p.cancel('no-such-prediction')).resolves.toBeUndefined();
    await expect(p.cancel(started.id)).resolves.toBeUndefined();
  });

  it('refuses an output over the cap and leaves no file behind', async () => {
    const p = provider();
    const finished = await waitForEnd(p, await p.start(request({ prompt: 'too big' })));
    expect(finished.status).toBe('succeeded');
    const cap = Math.floor(fake.outputBytes.length / 2);

    // Content-Length over the cap.
    const declared = path.join(dir, 'declared.mp4');
    const err = await failure(() => p.saveOutput(finished, declared, cap));
    expect(err.type).toBe(FailureType.ProviderRefused);

    // No Content-Length: the stream is cut off once it passes the cap.
    const streamed = path.join(dir, 'streamed.mp4');
    const chunked = { ...finished, output: `${finished.output}?chunked=1` };
    const streamErr = await failure(() => p.saveOutput(chunked, streamed, cap));
    expect(streamErr.type).toBe(FailureType.ProviderRefused);

    const left = await readdir(dir);
    expect(left).not.toContain('declared.mp4');
    expect(left).not.toContain('streamed.mp4');
    expect(left.filter((f) => f.includes('.download'))).toEqual([]);

    // Under the cap the chunked download works.
    await p.saveOutput(chunked, streamed, fake.outputBytes.length);
    expect((await readFile(streamed)).equals(fake.outputBytes)).toBe(true);
  });

  it('masks the token in arbitrary text', () => {
    expect(maskSecret(`x ${TOKEN} y Bearer abc.def`, TOKEN)).toBe('x **** y Bearer ****');
  });

  it('never put the token into any thrown error', () => {
    expect(errors.length).toBeGreaterThan(10);
    for (const err of errors) {
      const text = [String(err), (err as Error).stack ?? '', JSON.stringify(err)].join('\n');
      expect(text).not.toContain(TOKEN);
    }
  });
});
