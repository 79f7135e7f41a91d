import { log } from '@temporalio/activity';
import {
  REPORT_PROMPT_CHARS,
  type MergedReport,
  type MergeReportInput,
  type NotStarted,
  type PlannedClip,
  type ReportInput,
} from '../shared/activity-io.js';
import { FailureType } from '../shared/failures.js';
import type { Clip, ClipFailure } from '../shared/model.js';
import { batchResultsKey, batchSliceKey, reportKey } from '../store/keys.js';
import type { ActivityDeps } from './deps.js';
import { activityTelemetry } from '../telemetry/activity-telemetry.js';
import { buildReport, countJob } from './write-report.js';

const NOT_STARTED: Record<NotStarted, { errorType: string; message: string }> = {
  cancelled: { errorType: FailureType.Cancelled, message: 'not started: the job was cancelled' },
  budget: { errorType: FailureType.SkippedForBudget, message: 'not started: its batch did not fit under the budget limit' },
  failed: { errorType: FailureType.Error, message: 'its batch workflow failed; see the batch workflow in Temporal' },
};

/**
 * The production report of a job run in batches: every batch's clips and failures, read back
 * from the store, and a row for each clip of a batch that never started; the same report a
 * one-workflow job writes. Its counts come back so the workflow can summarize without the rows.
 */
export function createMergeReport({
  store,
  provider,
  telemetry = activityTelemetry(),
}: Pick<ActivityDeps, 'store' | 'provider' | 'telemetry'>) {
  return async function mergeReport(input: MergeReportInput): Promise<MergedReport> {
    const clipPrompts: ReportInput['clipPrompts'] = [];
    const clips: Clip[] = [];
    const failures: ClipFailure[] = [];
    for (const batch of input.batches) {
      const slice = JSON.parse(await store.getText(store.uriOf(batchSliceKey(input.jobId, batch.batch)))) as PlannedClip[];
      clipPrompts.push(
        ...slice.map(({ clip }) => ({ clipIndex: clip.clipIndex, prompt: Array.from(clip.prompt).slice(0, REPORT_PROMPT_CHARS).join('') })),
      );
      for (let n = 0; n < batch.resultParts; n++) {
        const text = await store.getText(store.uriOf(batchResultsKey(input.jobId, batch.batch, n)));
        const part = JSON.parse(text) as { clips: Clip[]; failures: ClipFailure[] };
        clips.push(...part.clips);
        failures.push(...part.failures);
      }
      if (batch.notStarted) {
        const why = NOT_STARTED[batch.notStarted];
        failures.push(...slice.map(({ clip }) => ({ clipIndex: clip.clipIndex, ...why, attempts: 0, costMicroUsd: 0 })));
      }
    }
    const byIndex = <T extends { clipIndex: number }>(a: T, b: T) => a.clipIndex - b.clipIndex;
    clips.sort(byIndex);
    failures.sort(byIndex);
    const indexesOf = (type: string) => failures.filter((f) => f.errorType === type).map((f) => f.clipIndex);
    const report = buildReport({
      jobId: input.jobId,
      clipPrompts,
      clips,
      failures,
      totalCostMicroUsd: input.totalCostMicroUsd,
      totalGenerationTimeS: input.totalGenerationTimeS,
      minClips: input.minClips,
      budget: {
        ...input.budget,
        skippedForBudget: indexesOf(FailureType.SkippedForBudget),
        cancelledForBudget: indexesOf(FailureType.CancelledForBudget),
      },
      cancelledClips: indexesOf(FailureType.Cancelled),
    });
    const uri = await store.putText(reportKey(input.jobId), `${JSON.stringify(report, null, 2)}\n`, 'application/json');
    countJob(report, provider.name, telemetry);
    const file = store.pathOf(uri);
    const failuresByType: Record<string, number> = {};
    for (const f of failures) failuresByType[f.errorType] = (failuresByType[f.errorType] ?? 0) + 1;
    log.info('report merged from batches', { jobId: input.jobId, uri, batches: input.batches.length, clips: clipPrompts.length });
    return { uri, ...(file ? { path: file } : {}), failuresByType, textOnlyClips: clips.filter((c) => c.imageNote).length };
  };
}
