import { CancellationScope, getExternalWorkflowHandle, setHandler, workflowInfo } from '@temporalio/workflow';
import type { BatchInput, BatchPage, BatchProgress, BatchSummary, PlannedClip } from '../shared/activity-io.js';
import type { Clip, ClipFailure } from '../shared/model.js';
import { batchProgressSignal, extendAllowanceSignal, stopForBudgetSignal } from '../shared/names.js';
import { loadBatchPage, writeBatchResults } from './activity-options.js';
import { BudgetLedger } from './budget-ledger.js';
import { ClipScheduler, type ScheduleResult } from './clip-scheduler.js';
import { AccountSlots } from './account-slot.js';
import { produceClip } from './produce-clip.js';
import { ProgressTracker } from './progress.js';

/** How many times a batch tells its parent how far it has come (besides its result at the end). */
const PROGRESS_REPORTS = 4;
/** A part of a batch's results, in characters of JSON: at most 3 bytes each, well under 256 KiB. */
const RESULT_PART_CHARS = 64 * 1024;

/**
 * One batch of a big job, as a child workflow: load its clips from the store page by page, make
 * them as a one-workflow job does (at most its share of the job's concurrency at once, within the
 * allowance the parent reserved for it), store its results, and return its counts. Cancelled with
 * the job, it stops its clips and still stores and returns what it made.
 */
export async function generateClipsBatch(input: BatchInput): Promise<BatchSummary> {
  const { jobId, batch, settings } = input;
  const planned = await loadClips(input.sliceUri);
  const estimates = new Map(planned.map((p) => [p.clip.clipIndex, p.estimateMicroUsd]));
  const estimated = planned.reduce((sum, p) => sum + p.estimateMicroUsd, 0);
  const ledger = new BudgetLedger(input.allowanceMicroUsd, 0, estimated);
  const progress = new ProgressTracker(jobId, planned.length, tellParent(batch, planned.length, input.concurrency));

  progress.stage('generating');
  const started = Date.now();
  // Clips at a provider account with a limit across jobs wait their turn there.
  const slots = new AccountSlots(settings);
  const scheduler = new ClipScheduler({
    clips: planned.map((p) => p.clip),
    concurrency: () => input.concurrency,
    ledger,
    estimateOf: (clipIndex) => estimates.get(clipIndex) ?? 0,
    produce: (clip) => produceClip(jobId, clip, settings, slots),
    onStart: () => progress.clipStarted(),
    onEnd: (outcome) =>
      outcome.ok ? progress.clipSucceeded(outcome.clip.costMicroUsd) : progress.clipFailed(outcome.failure.costMicroUsd),
  });
  setHandler(extendAllowanceSignal, ({ addMicroUsd }) => {
    ledger.raiseLimit(ledger.limitMicroUsd + addMicroUsd);
    scheduler.wake();
  });
  setHandler(stopForBudgetSignal, () => scheduler.stopAllForBudget());
  const outcome = await scheduler.run();

  progress.stage('reporting');
  // Stored even when the job is being cancelled: the report lists what was made.
  const resultUris = await CancellationScope.nonCancellable(() => storeResults(jobId, batch, outcome));
  progress.stage('done');
  return {
    batch,
    clips: planned.length,
    done: outcome.clips.length,
    failed: outcome.failures.length,
    running: 0,
    spentMicroUsd: ledger.actual,
    cancelled: outcome.cancelledClips.length,
    skippedForBudget: outcome.skippedForBudget.length,
    cancelledForBudget: outcome.cancelledForBudget.length,
    peakReservedMicroUsd: ledger.peakReservedMicroUsd,
    generationTimeS: (Date.now() - started) / 1000,
    perModel: [...ledger.perModel].map(([model, row]) => ({ model, ...row })),
    resultUris,
    jobCancelled: outcome.cancellation !== undefined,
  };
}

/** The batch's clips, a page at a time: each page is one activity result, under the payload limit. */
async function loadClips(sliceUri: string): Promise<PlannedClip[]> {
  const clips: PlannedClip[] = [];
  for (let offset: number | undefined = 0; offset !== undefined; ) {
    const page: BatchPage = await loadBatchPage({ sliceUri, offset });
    clips.push(...page.clips);
    offset = page.next;
  }
  return clips;
}

/**
 * Signals the parent a few times per batch: once the first clips run, then each time another
 * quarter of the batch has ended. Each signal is an event in both histories, so never per clip.
 */
function tellParent(
  batch: number,
  clips: number,
  concurrency: number,
): (p: { done: number; failed: number; running: number; spentMicroUsd: number }) => void {
  const parentId = workflowInfo().parent?.workflowId;
  const step = Math.max(1, Math.ceil(clips / PROGRESS_REPORTS));
  let firstWave = false;
  let reportedEnded = 0;
  return ({ done, failed, running, spentMicroUsd }) => {
    if (!parentId) return;
    const ended = done + failed;
    const wave = !firstWave && running >= Math.min(concurrency, clips);
    if (!wave && (ended - reportedEnded < step || ended === clips)) return;
    firstWave = true;
    reportedEnded = ended;
    const progress: BatchProgress = { batch, done, failed, running, spentMicroUsd };
    // A parent that has closed (or a job being cancelled) needs no progress.
    void getExternalWorkflowHandle(parentId)
      .signal(batchProgressSignal, progress)
      .catch(() => undefined);
  };
}

/** The batch's clips and failures in parts, each small enough for one activity's input. */
async function storeResults(jobId: string, batch: number, outcome: ScheduleResult): Promise<string[]> {
  const parts: { clips: Clip[]; failures: ClipFailure[] }[] = [];
  let part = { clips: [] as Clip[], failures: [] as ClipFailure[] };
  let chars = 0;
  const add = (kind: 'clips' | 'failures', item: Clip | ClipFailure) => {
    const size = JSON.stringify(item).length;
    if (chars > 0 && chars + size > RESULT_PART_CHARS) {
      parts.push(part);
      part = { clips: [], failures: [] };
      chars = 0;
    }
    (part[kind] as (Clip | ClipFailure)[]).push(item);
    chars += size;
  };
  for (const clip of outcome.clips) add('clips', clip);
  for (const failure of outcome.failures) add('failures', failure);
  parts.push(part);
  const uris: string[] = [];
  for (const [index, { clips, failures }] of parts.entries()) {
    uris.push(await writeBatchResults({ jobId, batch, part: index, clips, failures }));
  }
  return uris;
}
