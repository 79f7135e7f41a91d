/** The activities of a job in batches, with a local store and an in-memory cost tracker. */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { beforeEach, describe, expect, it } from 'vitest';
import { createLoadBatchPage } from '../src/activities/batch-page.js';
import { createPlanBatches } from '../src/activities/plan-batches.js';
import type { BatchPage, PlanBatchesInput } from '../src/shared/activity-io.js';
import type { ArtifactStore } from '../src/store/artifact-store.js';
import { createLocalStore } from '../src/store/local-store.js';
import { activityEnv, memoryCostTracker, rejection } from './support/fakes.js';
import { clipPrompts, testConfig } from './support/env.js';

const KIB_256 = 256 * 1024;
let store: ArtifactStore;
let plan: ReturnType<typeof createPlanBatches>;
let loadPage: ReturnType<typeof createLoadBatchPage>;

beforeEach(async () => {
  store = createLocalStore(await mkdtemp(path.join(os.tmpdir(), 'clipflow-batches-')));
  const config = await testConfig({ CLIPFLOW_PRICES: JSON.stringify({ 'clipflow/local-ffmpeg': { usdPerOutputSecond: 0.1 } }) });
  plan = createPlanBatches({ config, costTracker: memoryCostTracker(), store });
  loadPage = createLoadBatchPage({ store });
});

const input = (clips: unknown[], extra: Partial<PlanBatchesInput> = {}): PlanBatchesInput => ({
  jobId: 'big',
  clipPrompts: clips as PlanBatchesInput['clipPrompts'],
  clipCount: clips.length,
  batchSize: 5,
  model: 'clipflow/local-ffmpeg',
  budgetLimitMicroUsd: 10_000_000,
  minClips: 1,
  maxClips: 1_000,
  ...extra,
});

describe('planBatches', () => {
  it('splits the clips into batches in list order, with their estimates, and stores each batch’s slice', async () => {
    const clips = clipPrompts(12, 2);
    const planned = await activityEnv().run(plan, input(clips));

    expect(planned.clips).toBe(12);
    expect(planned.estimatedMicroUsd).toBe(12 * 200_000);
    expect(planned.batches.map((b) => [b.batch, b.clips, b.estimatedMicroUsd, b.cheapestMicroUsd])).toEqual([
      [0, 5, 1_000_000, 200_000],
      [1, 5, 1_000_000, 200_000],
      [2, 2, 400_000, 200_000],
    ]);
    const last = JSON.parse(await store.getText(planned.batches[2]!.sliceUri));
    expect(last.map((c: { clip: { clipIndex: number }; estimateMicroUsd: number }) => [c.clip.clipIndex, c.estimateMicroUsd])).toEqual([
      [10, 200_000],
      [11, 200_000],
    ]);
  });

  it('reads a stored clip list and checks it as any job is checked, naming the bad field', async () => {
    const clips = clipPrompts(7, 2);
    const uri = await store.putText('big/input/clips-x.json', JSON.stringify(clips), 'application/json');
    const planned = await activityEnv().run(plan, input([], { clipPrompts: undefined, clipListUri: uri, clipCount: 7 }));
    expect(planned.batches.map((b) => b.clips)).toEqual([5, 2]);

    const bad = [...clips, { ...clips[0], clipIndex: 3 }];
    const badUri = await store.putText('big/input/clips-y.json', JSON.stringify(bad), 'application/json');
    const err = await rejection(activityEnv().run(plan, input([], { clipPrompts: undefined, clipListUri: badUri, clipCount: 8 })));
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).type).toBe('InvalidInput');
    expect((err as ApplicationFailure).message).toContain('clipPrompts[7].clipIndex: duplicate clipIndex 3 (also at clipPrompts[3])');
  });

  it('refuses a list longer than the sanity limit, or not as long as the input said', async () => {
    const tooMany = await rejection(activityEnv().run(plan, input(clipPrompts(12), { maxClips: 10 })));
    expect((tooMany as ApplicationFailure).message).toContain('must contain at most 10 clip prompts (CLIPFLOW_MAX_CLIPS)');
    const uri = await store.putText('big/input/clips-z.json', JSON.stringify(clipPrompts(6)), 'application/json');
    const short = await rejection(activityEnv().run(plan, input([], { clipPrompts: undefined, clipListUri: uri, clipCount: 9 })));
    expect((short as ApplicationFailure).message).toMatch(/clipList\.clips: is 9 but the list at .* holds 6 clip prompts/);
  });
});

describe('loadBatchPage', () => {
  it('pages through a batch of the longest clips allowed, every page under 256 KiB', async () => {
    // 2,000 characters of 3-byte text in both prompts, and the longest reference URL.
    const long = '霓虹城市上空缓慢平移的镜头'.repeat(160).slice(0, 2_000);
    const url = `https://example.com/${'a'.repeat(2_048 - 20)}`;
    const clips = clipPrompts(60, 2, () => ({ prompt: long, negativePrompt: long, sceneReferenceUrl: url }));
    const { batches } = await activityEnv().run(plan, input(clips, { batchSize: 60 }));

    const seen: number[] = [];
    const sizes: number[] = [];
    for (let offset: number | undefined = 0; offset !== undefined; ) {
      const page: BatchPage = await activityEnv().run(loadPage, { sliceUri: batches[0]!.sliceUri, offset });
      sizes.push(Buffer.byteLength(JSON.stringify(page)));
      seen.push(...page.clips.map((c) => c.clip.clipIndex));
      offset = page.next;
    }
    expect(seen).toEqual(clips.map((c) => c.clipIndex));
    expect(sizes.length).toBeGreaterThan(1);
    for (const size of sizes) expect(size).toBeLessThan(KIB_256);
  });
});
