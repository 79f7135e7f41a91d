import { CancellationScope } from '@temporalio/workflow';
import type { BatchSummary, JobSettings, MergedReport } from '../shared/activity-io.js';
import { isStoredJob, type BudgetSummary, type GenerateClipsResult, type ValidJobInput } from '../shared/model.js';
import { microsToUsd } from '../shared/money.js';
import { mergeReport, planBatches } from './activity-options.js';
import { BatchScheduler, type BatchesOutcome } from './batch-scheduler.js';
import { BudgetLedger } from './budget-ledger.js';
import { failIfTooFew, failWithCause, handleRaiseBudget } from './job-rules.js';
import { ProgressTracker } from './progress.js';
import { JobVisibility } from './visibility.js';

/**
 * The most batches one job is split into: each adds a few dozen events to this workflow's history
 * (its child's start and end, its progress signals), so a bigger job gets bigger batches instead.
 */
export const MAX_BATCHES_PER_JOB = 250;

/**
 * A job too big for one workflow's history: plan its batches (check the clips and the budget,
 * store each batch's clips), run each batch as a child workflow within an allowance from the job's
 * budget, merge the batches' results into the report, and succeed when at least `minClips` clips
 * were made. This workflow keeps only what is job-wide: the ledger, the counts, the progress.
 */
export async function runInBatches(job: ValidJobInput, settings: JobSettings): Promise<GenerateClipsResult> {
  const total = isStoredJob(job) ? job.clipList.clips : job.clipPrompts.length;
  const visibility = new JobVisibility(job.jobId, total, settings.searchAttributes);
  const progress = new ProgressTracker(job.jobId, total, (p) => visibility.show(p, p.stage === 'done'));

  progress.stage('budget');
  const batchSize = Math.max(settings.batchSize ?? total, Math.ceil(total / MAX_BATCHES_PER_JOB));
  const plan = await planBatches({
    jobId: job.jobId,
    ...(isStoredJob(job) ? { clipListUri: job.clipList.uri } : { clipPrompts: job.clipPrompts }),
    clipCount: total,
    batchSize,
    model: settings.model,
    budgetLimitMicroUsd: settings.budgetLimitMicroUsd,
    minClips: settings.minClips,
    maxClips: settings.maxClips ?? total,
    ...(settings.clipLimits ? { clipLimits: settings.clipLimits } : {}),
  }).catch(failWithCause);
  const ledger = new BudgetLedger(plan.limitMicroUsd, plan.currentMicroUsd, plan.estimatedMicroUsd);
  progress.budgetLimit(ledger.limitMicroUsd);

  progress.stage('generating');
  const started = Date.now();
  const scheduler = new BatchScheduler({
    jobId: job.jobId,
    batches: plan.batches,
    settings,
    window: Math.min(settings.batchWindow ?? 1, settings.concurrency),
    ledger,
    onProgress: (counts) => progress.set(counts),
  });
  handleRaiseBudget(ledger, () => {
    progress.budgetLimit(ledger.limitMicroUsd);
    return scheduler.budgetRaised();
  });
  const outcome = await scheduler.run();

  progress.stage('reporting');
  const totalGenerationTimeS = (Date.now() - started) / 1000;
  const budget = budgetSummary(ledger, outcome.summaries);
  // The report is written even when the job is being cancelled.
  const report = await CancellationScope.nonCancellable(() =>
    mergeReport({
      jobId: job.jobId,
      batches: plan.batches.map(({ batch }) => {
        const notStarted = outcome.notStarted.get(batch);
        const resultParts = outcome.summaries.find((s) => s.batch === batch)?.resultUris.length ?? 0;
        return { batch, resultParts, ...(notStarted ? { notStarted } : {}) };
      }),
      minClips: settings.minClips,
      totalCostMicroUsd: ledger.actual,
      totalGenerationTimeS,
      budget,
    }),
  );
  const result = summarize(job.jobId, plan.clips, outcome, ledger, budget, report, { count: plan.batches.length, size: batchSize });
  result.totalGenerationTimeS = totalGenerationTimeS;
  visibility.summarize({
    clips: `${result.successfulClips}/${result.totalClips}`,
    failedByType: report.failuresByType,
    textOnlyClips: report.textOnlyClips,
    spentUsd: result.totalCostUsd,
    limitUsd: microsToUsd(ledger.limitMicroUsd),
    report: result.reportUri,
    batches: plan.batches.length,
  });
  progress.stage('done');

  if (outcome.cancellation) throw outcome.cancellation;
  failIfTooFew(result, settings);
  return result;
}

/** The job's budget from the ledger and the batches' per-model spend; its per-clip lists are in the report. */
function budgetSummary(
  ledger: BudgetLedger,
  summaries: readonly BatchSummary[],
): Omit<BudgetSummary, 'skippedForBudget' | 'cancelledForBudget'> {
  const perModel = new Map<string, BudgetSummary['perModel'][number]>();
  for (const row of summaries.flatMap((s) => s.perModel)) {
    const sum = perModel.get(row.model) ?? { model: row.model, clips: 0, estimatedMicroUsd: 0, actualMicroUsd: 0 };
    sum.clips += row.clips;
    sum.estimatedMicroUsd += row.estimatedMicroUsd;
    sum.actualMicroUsd += row.actualMicroUsd;
    perModel.set(row.model, sum);
  }
  return {
    limitMicroUsd: ledger.limitMicroUsd,
    spentBeforeJobMicroUsd: ledger.spentBeforeMicroUsd,
    estimatedMicroUsd: ledger.estimatedMicroUsd,
    actualMicroUsd: ledger.actual,
    peakReservedMicroUsd: ledger.peakReservedMicroUsd,
    perModel: [...perModel.values()],
  };
}

/** The job's result: its counts and the report's URI, never a list that grows with the job. */
function summarize(
  jobId: string,
  totalClips: number,
  outcome: BatchesOutcome,
  ledger: BudgetLedger,
  budget: Omit<BudgetSummary, 'skippedForBudget' | 'cancelledForBudget'>,
  report: MergedReport,
  batches: { count: number; size: number },
): GenerateClipsResult {
  const successfulClips = outcome.summaries.reduce((sum, s) => sum + s.done, 0);
  return {
    jobId,
    clips: [],
    failures: [],
    totalClips,
    successfulClips,
    failedClips: totalClips - successfulClips,
    totalCostMicroUsd: ledger.actual,
    totalCostUsd: microsToUsd(ledger.actual),
    totalGenerationTimeS: 0,
    cancelledClips: [],
    budget: { ...budget, skippedForBudget: [], cancelledForBudget: [] },
    reportUri: report.uri,
    ...(report.path ? { reportPath: report.path } : {}),
    batches,
  };
}
