/**
 * Finding the prediction an attempt started but did not live to record: by model and input among
 * the account's recent predictions, never guessing between two alike.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PredictionRequest, StartedQuery } from '../src/providers/provider.js';
import { createReplicateProvider } from '../src/providers/replicate.js';
import { predictionRequest } from './support/prediction-request.js';
import { startFakeReplicate, type FakeReplicate } from './support/fake-replicate.js';

const TOKEN = 'r8_find_started_token';
let fake: FakeReplicate;

beforeAll(async () => {
  // Pages of 2, so that a search has to follow the list's next links.
  fake = await startFakeReplicate({ token: TOKEN, latencyMs: 60_000, listPageSize: 2 });
});
afterAll(async () => {
  await fake?.close();
});

const provider = () => createReplicateProvider({ apiToken: TOKEN, baseUrl: fake.url, maxRetryAfterS: 5 });

function query(prompt: string, overrides: Partial<StartedQuery> = {}): StartedQuery {
  const { attempt: _, imagePath: __, ...asked } = predictionRequest({ jobId: 'job-find', model: 'acme/video', prompt });
  return { ...asked, withImage: false, ...overrides };
}

const request = ({ withImage: _, ...q }: StartedQuery): PredictionRequest => ({ ...q, attempt: 1 });

describe('findStarted on Replicate', () => {
  it('finds the one prediction with this model and input created since the given time, across pages', async () => {
    const p = provider();
    const since = Date.now();
    const wanted = await p.start(request(query('a red door in the snow')));
    for (const other of ['a blue door', 'a green door', 'a grey door']) await p.start(request(query(other)));
    await p.start(request(query('a red door in the snow', { model: 'acme/other-model' })));
    await p.start(request(query('a red door in the snow', { durationS: 10 })));

    const found = await p.findStarted?.(query('a red door in the snow'), since, new Set());
    expect(found?.id).toBe(wanted.id);
    expect(found?.model).toBe('acme/video');
    // Found past the first page of two.
    expect(fake.requests.filter((r) => r.method === 'GET' && r.path.startsWith('/v1/predictions?cursor=')).length).toBeGreaterThan(0);
  });

  it('leaves out predictions older than the search, and those already ended for the clip', async () => {
    const p = provider();
    const old = await p.start(request(query('an orchard at noon')));
    await new Promise((r) => setTimeout(r, 20));
    expect(await p.findStarted?.(query('an orchard at noon'), Date.now(), new Set())).toBeUndefined();
    expect(await p.findStarted?.(query('an orchard at noon'), 0, new Set([old.id]))).toBeUndefined();
    expect((await p.findStarted?.(query('an orchard at noon'), 0, new Set()))?.id).toBe(old.id);
  });

  it('does not guess between two predictions alike', async () => {
    const p = provider();
    const since = Date.now();
    await p.start(request(query('twin shots of a harbour')));
    await p.start(request(query('twin shots of a harbour')));
    expect(await p.findStarted?.(query('twin shots of a harbour'), since, new Set())).toBeUndefined();
  });

  it('tells a clip with a reference image from one without', async () => {
    const p = provider();
    const since = Date.now();
    await p.start(request(query('a kite over dunes')));
    expect(await p.findStarted?.(query('a kite over dunes', { withImage: true }), since, new Set())).toBeUndefined();
  });
});
