import { CancellationScope, patched } from '@temporalio/workflow';
import { REPORT_PROMPT_CHARS, type JobSettings } from '../shared/activity-io.js';
import {
  type Clip,
  clipsIn,
  isStoredJob,
  type BudgetSummary,
  type GenerateClipsResult,
  type JobInput,
  type ValidJob,
  type ValidJobInput,
} from '../shared/model.js';
import { microsToUsd } from '../shared/money.js';
import { checkBudget, jobSettings, writeReport } from './activity-options.js';
import { runInBatches } from './batched-job.js';
import { BudgetLedger } from './budget-ledger.js';
import { ClipScheduler, type ScheduleResult } from './clip-scheduler.js';
import { failIfTooFew, failWithCause, handleRaiseBudget } from './job-rules.js';
import { AccountSlots } from './account-slot.js';
import { produceClip } from './produce-clip.js';
import { refuseBatchedRedo, splitRedo } from './redo.js';
import { ProgressTracker } from './progress.js';
import { validateJob, validateJobLimits } from './validate.js';
import { JobVisibility } from './visibility.js';

/**
 * Turns a job's clip prompts into validated clips: validate, then run the job in this one
 * workflow when it fits in a batch, or in child workflows of a batch each when it does not
 * (or when its clip list is in the store).
 */
export async function generateClips(input: JobInput): Promise<GenerateClipsResult> {
  const job = validateJob(input);
  const settings = await jobSettings({ options: job.options, clipCount: clipsIn(job) });
  validateJobLimits(input, settings);
  if (fitsOneWorkflow(job, settings)) return runInOneWorkflow(job, settings);
  refuseBatchedRedo(job, settings.batchSize);
  return runInBatches(job, settings);
}

/** A job of at most one batch runs here, as jobs always have (histories without a batch size all do). */
function fitsOneWorkflow(job: ValidJobInput, settings: JobSettings): job is ValidJob {
  return !isStoredJob(job) && (settings.batchSize === undefined || job.clipPrompts.length <= settings.batchSize);
}

/**
 * Check the budget, then per clip prepare its reference image and generate it (at most
 * `concurrency` at once, each within the budget), report, and succeed when at least `minClips`
 * clips were made.
 */
async function runInOneWorkflow(job: ValidJob, settings: JobSettings): Promise<GenerateClipsResult> {
  const visibility = new JobVisibility(job.jobId, job.clipPrompts.length, settings.searchAttributes);
  const progress = new ProgressTracker(job.jobId, job.clipPrompts.length, (p) => visibility.show(p, p.stage === 'done'));
  // A redo's kept clips are done before it starts: no activity, no cost, not in the estimate.
  const { kept, toMake } = splitRedo(job);
  if (kept.length > 0) progress.set({ done: kept.length, failed: 0, running: 0, spentMicroUsd: 0 });

  progress.stage('budget');
  const budget = await checkBudget({
    jobId: job.jobId,
    clips: toMake.map(({ clipIndex, durationS }) => ({ clipIndex, durationS })),
    model: settings.model,
    budgetLimitMicroUsd: settings.budgetLimitMicroUsd,
    minClips: Math.max(0, settings.minClips - kept.length),
  }).catch(failWithCause);
  const ledger = new BudgetLedger(budget.limitMicroUsd, budget.currentMicroUsd, budget.estimatedMicroUsd);
  progress.budgetLimit(ledger.limitMicroUsd);

  progress.stage('generating');
  const started = Date.now();
  // Clips at a provider account with a limit across jobs wait their turn there.
  const slots = new AccountSlots(settings);
  const scheduler = new ClipScheduler({
    clips: toMake,
    concurrency: () => settings.concurrency,
    ledger,
    estimateOf: (clipIndex) => budget.perClipMicroUsd[clipIndex] ?? 0,
    produce: (clip) => produceClip(job.jobId, clip, settings, slots),
    onStart: () => progress.clipStarted(),
    onEnd: (outcome) =>
      outcome.ok ? progress.clipSucceeded(outcome.clip.costMicroUsd) : progress.clipFailed(outcome.failure.costMicroUsd),
  });
  handleRaiseBudget(ledger, () => {
    progress.budgetLimit(ledger.limitMicroUsd);
    scheduler.wake();
    return scheduler.heldForBudget;
  });
  const outcome = await scheduler.run();
  // Clips that never started (the job was cancelled, or no budget was left) are failures in the
  // report, so in the progress and the search attributes too. Patched: older histories lack it.
  const notStarted = outcome.failures.length - progress.snapshot().failed;
  if (notStarted > 0 && patched(COUNT_NOT_STARTED_CLIPS)) progress.clipsNotStarted(notStarted);

  progress.stage('reporting');
  const result = summarize(job, outcome, kept, ledger, (Date.now() - started) / 1000);
  // The report is written even when the job is being cancelled.
  const report = await CancellationScope.nonCancellable(() =>
    writeReport({
      jobId: job.jobId,
      clipPrompts: job.clipPrompts.map(({ clipIndex, prompt }) => ({
        clipIndex,
        prompt: Array.from(prompt).slice(0, REPORT_PROMPT_CHARS).join(''),
      })),
      clips: result.clips,
      failures: result.failures,
      totalCostMicroUsd: result.totalCostMicroUsd,
      totalGenerationTimeS: result.totalGenerationTimeS,
      minClips: settings.minClips,
      budget: result.budget,
      cancelledClips: result.cancelledClips,
    }),
  );
  result.reportUri = report.uri;
  if (report.path) result.reportPath = report.path;
  if (report.htmlUri) result.reportHtmlUri = report.htmlUri;
  if (report.htmlPath) result.reportHtmlPath = report.htmlPath;
  if (report.contactSheetUri) result.contactSheetUri = report.contactSheetUri;
  visibility.summarize({
    clips: `${result.successfulClips}/${result.totalClips}`,
    failed: result.failures.map((f) => `${f.clipIndex}:${f.errorType}`),
    textOnly: result.clips.filter((c) => c.imageNote).map((c) => c.clipIndex),
    spentUsd: result.totalCostUsd,
    limitUsd: microsToUsd(result.budget.limitMicroUsd),
    report: result.reportUri,
  });
  progress.stage('done');

  if (outcome.cancellation) throw outcome.cancellation;
  failIfTooFew(result, settings);
  return result;
}

const COUNT_NOT_STARTED_CLIPS = 'progress-counts-not-started-clips';

function summarize(
  job: ValidJob,
  outcome: ScheduleResult,
  kept: Clip[],
  ledger: BudgetLedger,
  totalGenerationTimeS: number,
): GenerateClipsResult {
  const byIndex = <T extends { clipIndex: number }>(a: T, b: T) => a.clipIndex - b.clipIndex;
  const budget: BudgetSummary = {
    limitMicroUsd: ledger.limitMicroUsd,
    spentBeforeJobMicroUsd: ledger.spentBeforeMicroUsd,
    estimatedMicroUsd: ledger.estimatedMicroUsd,
    actualMicroUsd: ledger.actual,
    peakReservedMicroUsd: ledger.peakReservedMicroUsd,
    skippedForBudget: [...outcome.skippedForBudget].sort((a, b) => a - b),
    cancelledForBudget: [...outcome.cancelledForBudget].sort((a, b) => a - b),
    perModel: [...ledger.perModel].map(([model, row]) => ({ model, ...row })),
  };
  return {
    jobId: job.jobId,
    clips: [...kept, ...outcome.clips].sort(byIndex),
    failures: [...outcome.failures].sort(byIndex),
    totalClips: job.clipPrompts.length,
    successfulClips: kept.length + outcome.clips.length,
    failedClips: outcome.failures.length,
    totalCostMicroUsd: ledger.actual,
    totalCostUsd: microsToUsd(ledger.actual),
    totalGenerationTimeS,
    cancelledClips: [...outcome.cancelledClips].sort((a, b) => a - b),
    budget,
    reportUri: '',
  };
}
