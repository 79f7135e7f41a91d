import { setTimeout as sleep } from 'node:timers/promises';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { ApplicationFailure } from '@temporalio/common';
import type { Prediction } from '../src/providers/provider.js';
import type { DevServer } from '../src/dev-server/start-dev-server.js';
import { clipPrompts, startTestServer, uniqueName } from './support/env.js';
import { harness } from './support/job-runner.js';

let server: DevServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

const MODEL = 'clipflow/local-ffmpeg';
const perClip = (usd: number) => JSON.stringify({ [MODEL]: { usdPerPrediction: usd } });

const backends = [
  { name: 'PGlite', env: {} as Record<string, string> },
  { name: 'PostgreSQL', env: process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : undefined },
];
if (!backends[1]!.env)
  console.warn('DATABASE_URL is not set: the budget suite runs on PGlite only (the globalSetup in vitest.config.ts sets it)');

describe.each(backends.filter((b) => b.env))('budget that holds, costs on $name', ({ env: dbEnv }) => {
  const env = (extra: Record<string, string>) => ({ ...dbEnv!, ...extra });

  it('generates exactly the clips the budget covers and skips the rest', async () => {
    // $0.50 a clip, $2.00 budget: 4 of 6.
    const h = await harness(server, env({ CLIPFLOW_PRICES: perClip(0.5), VIDEO_GENERATOR_BUDGET_USD: '2' }));
    const result = await h.worker.runUntil(
      h.clipflow
        .start({ jobId: uniqueName('four-of-six'), clipPrompts: clipPrompts(6, 1.5), options: { concurrency: 3 } })
        .then((j) => j.result()),
    );
    expect(result.successfulClips).toBe(4);
    expect(result.totalCostMicroUsd).toBe(2_000_000);
    expect(result.totalCostMicroUsd).toBeLessThanOrEqual(result.budget.limitMicroUsd);
    expect(result.budget.skippedForBudget).toHaveLength(2);
    expect(result.failures.map((f) => f.errorType)).toEqual(['SkippedForBudget', 'SkippedForBudget']);
    expect(result.budget.peakReservedMicroUsd).toBeLessThanOrEqual(2_000_000);
    const report = JSON.parse(await readFile(result.reportPath!, 'utf8'));
    expect(report.budget).toMatchObject({ limitUsd: 2, spentBeforeJobUsd: 0, estimatedUsd: 3, actualUsd: 2 });
    expect(report.budget.skippedForBudget).toEqual(result.budget.skippedForBudget);
    expect(report.budget.perModel).toEqual([{ model: MODEL, clips: 4, estimatedUsd: 2, actualUsd: 2 }]);
  });

  it('stops the job when clips cost twice their estimate, passing the limit by at most one clip', async () => {
    // Estimated at $0.20 a clip (1 hardware second per output second at $0.10); each really takes 4 s: $0.40.
    const prices = JSON.stringify({ [MODEL]: { usdPerPredictSecond: 0.1, estimatedPredictSecondsPerOutputSecond: 1 } });
    const h = await harness(
      server,
      env({ CLIPFLOW_PRICES: prices, VIDEO_GENERATOR_BUDGET_USD: '1', LOCAL_PROVIDER_FAULTS: '1:slow=4000,2:slow=4000' }),
      (deps) => {
        // Every prediction reports 4 s of hardware time, however it is learnt of.
        const { provider } = deps;
        const fourSeconds = (p: Prediction): Prediction => (p.status === 'succeeded' ? { ...p, predictTimeS: 4 } : p);
        const get = provider.get.bind(provider);
        const settled = provider.settled?.bind(provider);
        provider.get = async (id) => fourSeconds(await get(id));
        if (settled) provider.settled = async (id) => fourSeconds(await settled(id));
        return deps;
      },
    );
    const result = await h.worker.runUntil(
      h.clipflow
        .start({ jobId: uniqueName('overrun'), clipPrompts: clipPrompts(6, 2), options: { concurrency: 3, minClips: 1 } })
        .then((j) => j.result()),
    );
    const oneClip = Math.max(...result.clips.map((c) => c.costMicroUsd));
    expect(oneClip).toBe(400_000);
    expect(result.totalCostMicroUsd).toBeLessThanOrEqual(result.budget.limitMicroUsd + oneClip);
    expect(result.successfulClips).toBeLessThan(6);
    // The clip started last was stopped mid-generation; the ones never started were skipped.
    expect(result.budget.cancelledForBudget.length + result.budget.skippedForBudget.length).toBe(6 - result.successfulClips);
    expect(result.budget.cancelledForBudget.length).toBeGreaterThanOrEqual(1);
    expect(result.budget.perModel[0]).toMatchObject({ model: MODEL });
    expect(result.budget.perModel[0]!.actualMicroUsd).toBe(2 * result.budget.perModel[0]!.estimatedMicroUsd);
  });

  it('records a retried cost once: one row per clip, and the ledger total equals the result', async () => {
    const h = await harness(server, env({ CLIPFLOW_PRICES: perClip(0.25) }), (deps) => {
      const record = deps.costTracker.record.bind(deps.costTracker);
      // Every record is sent twice, as a retried activity would.
      deps.costTracker.record = async (entry) => {
        const first = await record(entry);
        const again = await record(entry);
        expect(again).toBe(false);
        return first;
      };
      return deps;
    });
    const jobId = uniqueName('once');
    const result = await h.worker.runUntil(h.clipflow.start({ jobId, clipPrompts: clipPrompts(4, 1.5) }).then((j) => j.result()));
    const rows = await h.deps.costTracker.entries(jobId);
    expect(rows.map((r) => r.clipIndex).sort()).toEqual([0, 1, 2, 3]);
    expect(await h.deps.costTracker.getTotalCost(jobId)).toBe(result.totalCostMicroUsd);
    expect(result.totalCostMicroUsd).toBe(1_000_000);
    await h.deps.close();
  });

  it('counts spend recorded by another stage of the job in the pre-flight check', async () => {
    const h = await harness(server, env({ CLIPFLOW_PRICES: perClip(0.5), VIDEO_GENERATOR_BUDGET_USD: '2' }));
    const jobId = uniqueName('prior');
    await h.deps.costTracker.record({ jobId, stage: 'audio', clipIndex: -1, key: 'mix-1', amountMicroUsd: 1_200_000 });
    let starts = 0;
    const start = h.deps.provider.start.bind(h.deps.provider);
    h.deps.provider.start = async (request) => {
      starts++;
      return start(request);
    };
    const err = await h.worker.runUntil(
      h.clipflow
        .start({ jobId, clipPrompts: clipPrompts(3, 1.5) })
        .then((j) => j.result())
        .catch((e: unknown) => e),
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause.type).toBe('BudgetExceeded');
    expect(cause.message).toContain('$1.20 already spent');
    expect(starts).toBe(0);

    // With room for two of them, two are made and the total stays under the limit.
    const jobId2 = uniqueName('prior2');
    await h.deps.costTracker.record({ jobId: jobId2, stage: 'audio', clipIndex: -1, key: 'mix-1', amountMicroUsd: 1_000_000 });
    // A second worker on the same ledger (the first one's tracker: PGlite serves one process).
    const h2 = await harness(server, env({ CLIPFLOW_PRICES: perClip(0.5), VIDEO_GENERATOR_BUDGET_USD: '2' }), (d) => ({
      ...d,
      costTracker: h.deps.costTracker,
    }));
    const result = await h2.worker.runUntil(
      h2.clipflow.start({ jobId: jobId2, clipPrompts: clipPrompts(4, 1.5), options: { minClips: 2 } }).then((j) => j.result()),
    );
    expect(result.successfulClips).toBe(2);
    expect(result.budget.spentBeforeJobMicroUsd).toBe(1_000_000);
    expect(await h.deps.costTracker.getTotalCost(jobId2)).toBe(2_000_000);
  });

  it('starts the clips held back for budget when the budget is raised mid-job', async () => {
    const h = await harness(
      server,
      env({ CLIPFLOW_PRICES: perClip(0.5), VIDEO_GENERATOR_BUDGET_USD: '1', LOCAL_PROVIDER_DELAY_MS: '2500' }),
    );
    const jobId = uniqueName('raise');
    const result = await h.worker.runUntil(async () => {
      const job = await h.clipflow.start({ jobId, clipPrompts: clipPrompts(5, 1.5), options: { concurrency: 5, minClips: 2 } });
      for (let i = 0; i < 100 && (await job.progress().catch(() => undefined))?.running !== 2; i++) await sleep(100);
      // The progress measures the spend against the job's limit, and then against the raised one.
      expect(await job.progress()).toMatchObject({ running: 2, budgetLimitMicroUsd: 1_000_000 });
      // A lower limit is refused by the workflow's validator, naming the values.
      const refused = await h.clipflow.raiseBudget(jobId, 0.5).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
      expect(String((refused as WorkflowUpdateFailedError).cause?.message)).toContain('must be above the current limit $1.00');
      const raised = await h.clipflow.raiseBudget(jobId, 3);
      expect(raised).toEqual({ limitUsd: 3, heldClips: 3 });
      expect((await job.progress()).budgetLimitMicroUsd).toBe(3_000_000);
      return job.result();
    });
    expect(result.successfulClips).toBe(5);
    expect(result.budget.skippedForBudget).toEqual([]);
    expect(result.budget.limitMicroUsd).toBe(3_000_000);
    expect(result.totalCostMicroUsd).toBe(2_500_000);
  });
});
