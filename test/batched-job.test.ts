/** Jobs past one batch run in child workflows; the parent keeps the ledger, the counts and the report. */
import { readFile } from 'node:fs/promises';
import { WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevServer } from '../src/dev-server/start-dev-server.js';
import { batchWorkflowId } from '../src/shared/names.js';
import { fastHarness, jobWorkflows, type WorkflowFigures } from './support/batched-jobs.js';
import { clipPrompts, startTestServer, uniqueName } from './support/env.js';
import { activityRuns, maxOverlap } from './support/history.js';
import { until } from './support/wait.js';

let server: DevServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

/** Batches of 5, two at a time: a 23-clip job is 5 child workflows. */
const BATCHES = { CLIPFLOW_BATCH_SIZE: '5', CLIPFLOW_BATCH_WINDOW: '2' };
const KIB_256 = 256 * 1024;

interface ReportRow {
  clipIndex: number;
  success: boolean;
  outcome: string;
  errorType: string | null;
  costUsd: number;
}
interface Report {
  totalClips: number;
  successfulClips: number;
  failedClips: number;
  totalCostUsd: number;
  cancelledClips: number[];
  budget: { limitUsd: number; actualUsd: number; skippedForBudget: number[] };
  clips: ReportRow[];
}
const readReport = async (file: string) => JSON.parse(await readFile(file, 'utf8')) as Report;

describe('a job larger than one batch', () => {
  it('runs in child workflows, never more clips at once than its concurrency, and merges every clip into the report', async () => {
    const h = await fastHarness(server, BATCHES);
    const jobId = uniqueName('batched');
    const { result, progress, workflowId } = await h.worker.runUntil(async () => {
      const job = await h.clipflow.start({ jobId, clipPrompts: clipPrompts(23, 1), options: { concurrency: 4 } });
      const result = await job.result();
      return { result, progress: await job.progress(), workflowId: job.workflowId };
    });

    expect(result.batches).toEqual({ count: 5, size: 5 });
    expect(result.successfulClips).toBe(23);
    expect(result.failedClips).toBe(0);
    expect(result.totalClips).toBe(23);
    // The result holds counts, never a list that grows with the job.
    expect(result.clips).toEqual([]);
    expect(progress).toMatchObject({ stage: 'done', total: 23, done: 23, failed: 0, running: 0, percent: 100 });

    const report = await readReport(result.reportPath!);
    expect(report.totalClips).toBe(23);
    expect(report.successfulClips).toBe(23);
    expect(report.clips.map((r) => r.clipIndex)).toEqual(Array.from({ length: 23 }, (_, i) => i));
    expect(report.clips.every((r) => r.success)).toBe(true);

    const workflows = await jobWorkflows(server.env.client, workflowId, 5);
    expect(workflows.map((w) => w.status)).toEqual(Array(6).fill('COMPLETED'));
    for (const w of workflows) {
      expect(w.events, w.workflowId).toBeLessThan(10_240);
      expect(w.largestPayloadBytes, w.workflowId).toBeLessThan(KIB_256);
    }
    // Each batch made its own clips, and the job as a whole never had more than 4 in flight.
    const runs = workflows.slice(1).map((w) => activityRuns(w.history, 'generateClip'));
    expect(runs.map((r) => r.length)).toEqual([5, 5, 5, 5, 3]);
    const peak = maxOverlap(runs.flat());
    expect(peak).toBeLessThanOrEqual(4);
    expect(peak).toBeGreaterThanOrEqual(3);
    // Each clip was created once at the provider.
    expect([...h.provider.creates.values()]).toEqual(Array(23).fill(1));
    console.log(
      `23 clips in batches of 5: events per workflow ${workflows.map((w) => `${w.workflowId.replace(workflowId, 'parent')}=${w.events}`).join(', ')}; ` +
        `largest payload ${Math.max(...workflows.map((w) => w.largestPayloadBytes))} B; peak clips in flight ${peak}`,
    );
  });

  it('cancelled, it cancels its running batches and their clips, and reports every clip', async () => {
    const h = await fastHarness(server, BATCHES, 60_000);
    const jobId = uniqueName('batched-cancel');
    const { err, workflowId } = await h.worker.runUntil(async () => {
      const job = await h.clipflow.start({ jobId, clipPrompts: clipPrompts(23, 1), options: { concurrency: 4 } });
      // Both batches of the window are generating their clips (2 each).
      await until('4 clips generating', () => h.provider.creates.size === 4, 30_000);
      await job.cancel();
      return { err: await job.result().catch((e: unknown) => e), workflowId: job.workflowId };
    });

    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    // Every prediction that was running was cancelled at the provider.
    expect(h.cancelled).toHaveLength(4);
    const workflows = await jobWorkflows(server.env.client, workflowId, 2);
    expect(workflows.map((w) => w.status)).toEqual(['CANCELLED', 'COMPLETED', 'COMPLETED']);
    // The batches after the window never started.
    await expect(server.env.client.workflow.getHandle(batchWorkflowId(workflowId, 2)).describe()).rejects.toBeInstanceOf(
      WorkflowNotFoundError,
    );

    const report = await readReport(`${h.config.outputDir}/${jobId}/production_report.json`);
    expect(report.clips).toHaveLength(23);
    expect(report.successfulClips).toBe(0);
    expect(report.clips.every((r) => r.outcome === 'cancelled')).toBe(true);
    expect(report.cancelledClips).toEqual(Array.from({ length: 23 }, (_, i) => i));
  });

  it('stops at the budget across batches: later batches get what is left, and the rest is skipped', async () => {
    // $0.10 a clip, $1.25 in all: 12 clips fit, whichever batches they are in.
    const h = await fastHarness(server, {
      ...BATCHES,
      CLIPFLOW_PRICES: JSON.stringify({ 'clipflow/local-ffmpeg': { usdPerPrediction: 0.1 } }),
    });
    const jobId = uniqueName('batched-budget');
    const result = await h.worker.runUntil(
      h.clipflow.start({ jobId, clipPrompts: clipPrompts(23, 1), options: { concurrency: 4, budgetUsd: 1.25 } }).then((j) => j.result()),
    );

    expect(result.totalCostUsd).toBeLessThanOrEqual(1.25);
    expect(result.successfulClips).toBe(12);
    expect(result.totalCostUsd).toBeCloseTo(1.2, 5);
    const report = await readReport(result.reportPath!);
    const skipped = report.clips.filter((r) => r.outcome === 'skipped');
    expect(skipped).toHaveLength(11);
    expect(skipped.every((r) => r.errorType === 'SkippedForBudget' && r.costUsd === 0)).toBe(true);
    expect(report.budget.skippedForBudget).toEqual(skipped.map((r) => r.clipIndex));
    expect(report.budget.actualUsd).toBeCloseTo(1.2, 5);
    // Only the clips that fitted were ever asked of the provider.
    expect(h.provider.creates.size).toBe(12);
  });

  it('when a batch that cost more than its allowance takes the job past its limit, the other running batch stops its clips', async () => {
    // Estimated at $0.10 a clip; batch 0's clips really cost $1.50 (15 s of hardware), batch 1's $0.10.
    const h = await fastHarness(
      server,
      {
        ...BATCHES,
        CLIPFLOW_PRICES: JSON.stringify({
          'clipflow/local-ffmpeg': { usdPerPredictSecond: 0.1, estimatedPredictSecondsPerOutputSecond: 1 },
        }),
      },
      3_000,
    );
    const clipOf = new Map<string, number>();
    const start = h.provider.start.bind(h.provider);
    h.provider.start = async (request) => {
      const prediction = await start(request);
      clipOf.set(prediction.id, request.clipIndex);
      return prediction;
    };
    const get = h.provider.get.bind(h.provider);
    h.provider.get = async (id) => {
      const prediction = await get(id);
      return prediction.status === 'succeeded' ? { ...prediction, predictTimeS: (clipOf.get(id) ?? 0) < 5 ? 15 : 1 } : prediction;
    };
    const jobId = uniqueName('batched-overrun');
    const result = await h.worker.runUntil(
      h.clipflow
        .start({ jobId, clipPrompts: clipPrompts(10, 1), options: { concurrency: 2, budgetUsd: 1, minClips: 1 } })
        .then((j) => j.result()),
    );

    const report = await readReport(result.reportPath!);
    const batch1 = report.clips.filter((r) => r.clipIndex >= 5);
    // Batch 1 was within its own allowance ($0.50 for 5 clips at $0.10) and would have made all 5.
    expect(batch1.filter((r) => r.success).length).toBeLessThan(5);
    expect(batch1.filter((r) => !r.success).every((r) => ['CancelledForBudget', 'SkippedForBudget'].includes(r.errorType ?? ''))).toBe(
      true,
    );
    expect(report.clips.find((r) => r.clipIndex === 0)).toMatchObject({ success: true, costUsd: 1.5 });
    expect(result.totalCostUsd).toBeLessThan(2);
  });

  it('raiseBudget tops up a running batch that got less than its estimate, then starts the batches that waited', async () => {
    // $0.10 a clip, $0.70 at first: batch 0 gets $0.50, batch 1 the $0.20 left (2 of its 5 clips).
    const h = await fastHarness(
      server,
      { ...BATCHES, CLIPFLOW_PRICES: JSON.stringify({ 'clipflow/local-ffmpeg': { usdPerPrediction: 0.1 } }) },
      5_000,
    );
    const jobId = uniqueName('batched-raise');
    const { result, raised } = await h.worker.runUntil(async () => {
      const job = await h.clipflow.start({ jobId, clipPrompts: clipPrompts(23, 1), options: { concurrency: 4, budgetUsd: 0.7 } });
      await until('both batches generating', () => h.provider.creates.size === 4, 30_000);
      const raised = await h.clipflow.raiseBudget(jobId, 3);
      return { result: await job.result(), raised };
    });

    // Held when the budget was raised: the clips of the three batches not started.
    expect(raised).toEqual({ limitUsd: 3, heldClips: 13 });
    expect(result.successfulClips).toBe(23);
    expect(result.totalCostUsd).toBeCloseTo(2.3, 5);
    expect([...h.provider.creates.values()]).toEqual(Array(23).fill(1));
  });

  it('starts a job whose clip list is over 256 KiB: the list goes to the store and the workflow gets its URI', async () => {
    const h = await fastHarness(server, {});
    // 24 clips whose prompt and negative prompt are 2,000 characters of 3-byte text each: about 290 KB.
    const long = '霓虹城市上空缓慢平移的镜头'.repeat(160).slice(0, 2_000);
    const clips = clipPrompts(24, 1, () => ({ prompt: long, negativePrompt: long }));
    expect(Buffer.byteLength(JSON.stringify(clips))).toBeGreaterThan(KIB_256);
    const jobId = uniqueName('big-list');
    const { result, workflowId } = await h.worker.runUntil(async () => {
      const job = await h.clipflow.start({ jobId, clipPrompts: clips, options: { concurrency: 4 } });
      return { result: await job.result(), workflowId: job.workflowId };
    });

    expect(result.successfulClips).toBe(24);
    expect(result.batches).toEqual({ count: 1, size: 400 });
    const [parent, batch] = (await jobWorkflows(server.env.client, workflowId, 1)) as [WorkflowFigures, WorkflowFigures];
    const started = parent.history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
    const input = JSON.parse(Buffer.from(started.data!).toString()) as { clipList?: { uri: string; clips: number } };
    expect(input.clipList?.clips).toBe(24);
    expect(input.clipList?.uri).toMatch(new RegExp(`/${jobId}/input/clips-[0-9a-f]{32}\\.json$`));
    expect(started.data!.length).toBeLessThan(1024);
    for (const w of [parent, batch]) expect(w.largestPayloadBytes, `${w.workflowId}: ${w.largestPayloadWhere}`).toBeLessThan(KIB_256);
    // The batch read its clips in more than one page, each under the limit.
    const markerText = (e: (typeof batch.history.events & {})[number]) =>
      Object.values(e.markerRecordedEventAttributes?.details ?? {})
        .flatMap((p) => p.payloads ?? [])
        .map((p) => Buffer.from(p.data ?? []).toString())
        .join('\n');
    const pages = batch.history.events!.map(markerText).filter((text) => text.includes('loadBatchPage'));
    expect(pages.length).toBeGreaterThanOrEqual(2);
    const report = await readReport(result.reportPath!);
    expect(report.clips.filter((r) => r.success)).toHaveLength(24);
    console.log(
      `24 clips, ${Buffer.byteLength(JSON.stringify(clips))} B of prompts: start input ${started.data!.length} B, ${pages.length} pages; ` +
        `largest payload ${parent.largestPayloadBytes} B in the parent, ${batch.largestPayloadBytes} B in the batch (${batch.largestPayloadWhere})`,
    );
  });
});
