/**
 * Fallback across providers on the real dev server: Runway (fake) as the primary, Pika through fal
 * (fake) as the fallback. A clip Runway cannot make goes to Pika inside the same job, and the result
 * and both reports say who made it and why; a content rejection stays with Runway unless configured.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startDevServer, type DevServer } from '../src/dev-server/start-dev-server.js';
import type { GenerateClipsResult } from '../src/shared/model.js';
import { clipPrompts, uniqueName, workflowBundle } from './support/env.js';
import { startFakeFal } from './support/fake-fal.js';
import { startFakeRunway } from './support/fake-runway.js';
import { taskBehaviors as behaviors, type BehaveFn } from './support/fake-tasks.js';
import { expectValidClips } from './support/job-checks.js';
import { harness, type Harness } from './support/job-runner.js';

const RUNWAY_SECRET = 'key_runway_fallback_SECRET';
const FAL_KEY = 'fal_fallback_SECRET:1a2b';
const PIKA = 'fal-ai/pika/v2.2';
/** Both models make 5 s clips. */
const DURATION_S = 5;

let server: DevServer;
beforeAll(async () => {
  [server] = await Promise.all([startDevServer(), workflowBundle()]);
});
afterAll(async () => {
  await server?.stop();
});

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close().catch(() => undefined)));
});

/** A worker on Runway with Pika as its fallback, each behind its fake. */
async function setUp(runwayBehave: BehaveFn, extra: Record<string, string> = {}) {
  const runway = await startFakeRunway({ token: RUNWAY_SECRET, latencyMs: 300, behave: runwayBehave });
  const fal = await startFakeFal({ key: FAL_KEY, latencyMs: 300 });
  closers.push(runway.close, fal.close);
  const h: Harness = await harness(server, {
    VIDEO_PROVIDER: 'runway',
    VIDEO_FALLBACK_PROVIDER: 'pika',
    CLIPFLOW_PRICES: JSON.stringify({ 'gen4.5': { usdPerOutputSecond: 0.12 }, [PIKA]: { usdPerOutputSecond: 0.04 } }),
    VIDEO_GENERATOR_BUDGET_USD: '100',
    RETRY_INITIAL_INTERVAL_S: '0.5',
    CLIP_MAX_GENERATIONS: '2',
    RUNWAYML_API_SECRET: RUNWAY_SECRET,
    RUNWAYML_BASE_URL: runway.url,
    RUNWAY_POLL_INTERVAL_MS: '200',
    FAL_KEY,
    FAL_BASE_URL: fal.url,
    FAL_POLL_INTERVAL_MS: '200',
    ...extra,
  });
  closers.push(() => h.deps.close());
  return { runway, fal, h };
}

/** Runs a job that succeeds with one clip made, so that a clip failing is reported rather than failing the job. */
async function run(h: Harness, prefix: string, clips: number): Promise<GenerateClipsResult> {
  const start = { jobId: uniqueName(prefix), clipPrompts: clipPrompts(clips, DURATION_S), options: { minClips: 1 } };
  return h.worker.runUntil(h.clipflow.start(start).then((job) => job.result()));
}

const rejectedForSafety: BehaveFn = (ctx) =>
  ctx.route === 'create' && ctx.clip === 1 ? behaviors.failed('SAFETY.INPUT.TEXT', 'prompt flagged by moderation') : undefined;

describe('fallback from Runway to Pika (fakes)', () => {
  it('a clip Runway fails every time is made by Pika, priced at Pika’s price; result and reports say why', async () => {
    const { runway, fal, h } = await setUp((ctx) => (ctx.route === 'create' && ctx.clip === 1 ? behaviors.serverError(500) : undefined));
    const result = await run(h, 'fallback-500', 3);

    expect(result.successfulClips).toBe(3);
    expect(result.failures).toEqual([]);
    await expectValidClips(result);
    const made = result.clips.map((c) => [c.clipIndex, c.provider, c.model]);
    expect(made).toEqual([
      [0, 'runway', 'gen4.5'],
      [1, 'pika', PIKA],
      [2, 'runway', 'gen4.5'],
    ]);
    const clip1 = result.clips.find((c) => c.clipIndex === 1)!;
    expect(clip1.fallback).toMatchObject({ fromProvider: 'runway', fromModel: 'gen4.5', errorType: 'ProviderFailed' });
    expect(clip1.fallback?.message).toMatch(/500/);
    expect(result.clips.filter((c) => c.clipIndex !== 1).every((c) => c.fallback === undefined)).toBe(true);
    // Runway was asked CLIP_MAX_GENERATIONS times for clip 1, Pika once and only for it.
    expect(fal.book.acceptedCreates().map((c) => c.clip)).toEqual([1]);
    expect(
      runway.book
        .acceptedCreates()
        .map((c) => c.clip)
        .sort(),
    ).toEqual([0, 2]);
    expect(clip1.failedAttempts?.map((a) => a.model)).toEqual(['gen4.5', 'gen4.5']);
    // Pika's clip is paid at Pika's price, recorded under its model.
    expect(clip1.costMicroUsd).toBe(Math.round(0.04 * clip1.durationS * 1e6));
    const entries = await h.deps.costTracker.entries(result.jobId);
    expect(entries.find((e) => e.clipIndex === 1)?.model).toBe(PIKA);

    const report = JSON.parse(await readFile(result.reportPath!, 'utf8'));
    const row = report.clips.find((c: { clipIndex: number }) => c.clipIndex === 1);
    expect([row.provider, row.model, row.fallback?.fromProvider, row.fallback?.errorType]).toEqual([
      'pika',
      PIKA,
      'runway',
      'ProviderFailed',
    ]);
    expect(report.clips.find((c: { clipIndex: number }) => c.clipIndex === 0).fallback).toBeNull();
    const html = await readFile(result.reportHtmlPath!, 'utf8');
    expect(html).toContain('<dt>Fallback</dt><dd>from runway · gen4.5 after <span class="bad">ProviderFailed</span>');
  });

  it('a content rejection the table keeps from the fallback is not sent to Pika', async () => {
    const { fal, h } = await setUp(rejectedForSafety);
    const result = await run(h, 'fallback-rejected', 2);

    expect(result.successfulClips).toBe(1);
    expect(result.failures).toMatchObject([{ clipIndex: 1, errorType: 'ContentRejected', provider: 'runway', model: 'gen4.5' }]);
    expect(result.failures[0]?.fallback).toBeUndefined();
    expect(fal.book.acceptedCreates()).toEqual([]);
  });

  it('…unless VIDEO_FALLBACK_ON_CONTENT_REJECTED sends it on', async () => {
    const { fal, h } = await setUp(rejectedForSafety, { VIDEO_FALLBACK_ON_CONTENT_REJECTED: 'true' });
    const result = await run(h, 'fallback-rejected-on', 2);

    expect(result.successfulClips).toBe(2);
    const clip1 = result.clips.find((c) => c.clipIndex === 1)!;
    expect([clip1.provider, clip1.fallback?.errorType]).toEqual(['pika', 'ContentRejected']);
    expect(fal.book.acceptedCreates().map((c) => c.clip)).toEqual([1]);
  });
});
