import { log } from '@temporalio/activity';
import { ruleFor, type FailureRule } from '../shared/failures.js';
import { microsToUsd } from '../shared/money.js';
import type { ActivityDeps } from './deps.js';
import { activityTelemetry, type ActivityTelemetry } from '../telemetry/activity-telemetry.js';
import { reportKey } from '../store/keys.js';
import type { ReportInput, StoredReport } from '../shared/activity-io.js';

export interface ReportRow {
  clipIndex: number;
  /** Where the clip is in the artifact store. */
  uri: string | null;
  /** Its path on disk, when the store is a local directory. */
  path: string | null;
  success: boolean;
  outcome: 'succeeded' | FailureRule['outcome'];
  provider: string | null;
  model: string | null;
  costUsd: number;
  generationTimeS: number;
  attempts: number;
  error: string | null;
  errorType: string | null;
  /** The failure table's words for errorType. */
  reason: string | null;
  imageNote: string | null;
}

export function buildReport(input: ReportInput) {
  const clipsByIndex = new Map(input.clips.map((c) => [c.clipIndex, c]));
  const failuresByIndex = new Map(input.failures.map((f) => [f.clipIndex, f]));
  const rows: ReportRow[] = input.clipPrompts.map(({ clipIndex }) => {
    const clip = clipsByIndex.get(clipIndex);
    const failure = failuresByIndex.get(clipIndex);
    return {
      clipIndex,
      uri: clip?.uri ?? null,
      path: clip?.path ?? null,
      success: clip !== undefined,
      outcome: clip ? 'succeeded' : ruleFor(failure?.errorType).outcome,
      provider: clip?.provider ?? null,
      model: clip?.model ?? failure?.model ?? null,
      costUsd: clip?.costUsd ?? microsToUsd(failure?.costMicroUsd ?? 0),
      generationTimeS: clip?.generationTimeS ?? 0,
      attempts: clip?.attempts ?? failure?.attempts ?? 0,
      error: failure?.message ?? null,
      errorType: failure?.errorType ?? null,
      reason: failure ? ruleFor(failure.errorType).label : null,
      imageNote: clip?.imageNote ?? null,
    };
  });
  const total = input.clipPrompts.length;
  return {
    jobId: input.jobId,
    totalClips: total,
    successfulClips: input.clips.length,
    failedClips: input.failures.length,
    successRate: total === 0 ? 0 : input.clips.length / total,
    minClips: input.minClips,
    meetsMinimum: input.clips.length >= input.minClips,
    totalCostUsd: microsToUsd(input.totalCostMicroUsd),
    totalCostMicroUsd: input.totalCostMicroUsd,
    totalTimeS: input.totalGenerationTimeS,
    cancelledClips: input.cancelledClips,
    budget: {
      limitUsd: microsToUsd(input.budget.limitMicroUsd),
      spentBeforeJobUsd: microsToUsd(input.budget.spentBeforeJobMicroUsd),
      estimatedUsd: microsToUsd(input.budget.estimatedMicroUsd),
      actualUsd: microsToUsd(input.budget.actualMicroUsd),
      peakReservedUsd: microsToUsd(input.budget.peakReservedMicroUsd),
      skippedForBudget: input.budget.skippedForBudget,
      cancelledForBudget: input.budget.cancelledForBudget,
      perModel: input.budget.perModel.map((m) => ({
        model: m.model,
        clips: m.clips,
        estimatedUsd: microsToUsd(m.estimatedMicroUsd),
        actualUsd: microsToUsd(m.actualMicroUsd),
      })),
    },
    clips: rows,
  };
}

/** Counts the job's clips by how they ended, and its budget stops: once per job, when its report is stored. */
function countJob(report: ReturnType<typeof buildReport>, provider: string, { metrics }: ActivityTelemetry): void {
  for (const row of report.clips) {
    metrics.clips.inc({ outcome: row.outcome, provider: row.provider ?? provider, model: row.model ?? 'none' });
  }
  const { skippedForBudget, cancelledForBudget } = report.budget;
  if (skippedForBudget.length > 0) metrics.budgetStops.inc({ stop: 'clip_skipped' }, skippedForBudget.length);
  if (cancelledForBudget.length > 0) metrics.budgetStops.inc({ stop: 'clip_cancelled' }, cancelledForBudget.length);
}

export function createWriteReport({
  store,
  provider,
  telemetry = activityTelemetry(),
}: Pick<ActivityDeps, 'store' | 'provider' | 'telemetry'>) {
  return async function writeReport(input: ReportInput): Promise<StoredReport> {
    const report = buildReport(input);
    const uri = await store.putText(reportKey(input.jobId), `${JSON.stringify(report, null, 2)}\n`, 'application/json');
    const file = store.pathOf(uri);
    countJob(report, provider.name, telemetry);
    log.info('report written', { jobId: input.jobId, uri });
    return { uri, ...(file ? { path: file } : {}) };
  };
}
