import { ApplicationFailure, Context, log } from '@temporalio/activity';
import type { BatchPlan, JobPlan, PlanBatchesInput, PlannedClip } from '../shared/activity-io.js';
import { FailureType } from '../shared/failures.js';
import { checkJob, MAX_CLIPS_SETTING, summarizeProblems, type ClipPrompt } from '../shared/model.js';
import { batchSliceKey } from '../store/keys.js';
import { assessBudget } from './check-budget.js';
import type { ActivityDeps } from './deps.js';

/**
 * A big job's first step: reads its clip list (from the store, or as the workflow got it), checks
 * it as a one-workflow job is checked, checks the budget, and writes each batch's clips with their
 * estimates to the store, where the batch's child workflow reads them. Only the batches' sizes and
 * estimates come back, so the result stays small however many clips the job has.
 */
export function createPlanBatches(deps: Pick<ActivityDeps, 'config' | 'costTracker' | 'store' | 'telemetry'>) {
  const { store } = deps;
  return async function planBatches(input: PlanBatchesInput): Promise<JobPlan> {
    const { jobId, batchSize } = input;
    const clipPrompts = input.clipPrompts ?? (input.clipListUri ? await readClipList(input.clipListUri) : []);
    const checked = checkJob({ jobId, clipPrompts }, input.clipLimits, { maxClips: input.maxClips, setting: MAX_CLIPS_SETTING });
    if (!checked.ok) {
      const { fields, message } = summarizeProblems(checked.problems);
      throw ApplicationFailure.create({
        type: FailureType.InvalidInput,
        message: `invalid input: ${message}`,
        nonRetryable: true,
        details: [{ fields, problems: checked.problems.length }],
      });
    }
    const clips = checked.job.clipPrompts;
    if (clips.length !== input.clipCount) {
      throw ApplicationFailure.create({
        type: FailureType.InvalidInput,
        message: `invalid input: clipList.clips: is ${input.clipCount} but the list at ${input.clipListUri} holds ${clips.length} clip prompts`,
        nonRetryable: true,
      });
    }
    const budget = await assessBudget(deps, {
      jobId,
      clips: clips.map(({ clipIndex, durationS }) => ({ clipIndex, durationS })),
      model: input.model,
      budgetLimitMicroUsd: input.budgetLimitMicroUsd,
      minClips: input.minClips,
    });
    const batches: BatchPlan[] = [];
    for (let first = 0; first < clips.length; first += batchSize) {
      const batch = batches.length;
      const slice: PlannedClip[] = clips
        .slice(first, first + batchSize)
        .map((clip) => ({ clip, estimateMicroUsd: budget.perClipMicroUsd[clip.clipIndex] ?? 0 }));
      const estimates = slice.map((c) => c.estimateMicroUsd);
      // The same key and content on a retry: a batch already started reads what it read before.
      const sliceUri = await store.putText(batchSliceKey(jobId, batch), JSON.stringify(slice), 'application/json');
      Context.current().heartbeat(batch);
      batches.push({
        batch,
        sliceUri,
        clips: slice.length,
        estimatedMicroUsd: estimates.reduce((a, b) => a + b, 0),
        cheapestMicroUsd: Math.min(...estimates),
      });
    }
    log.info('job planned in batches', { jobId, clips: clips.length, batches: batches.length, batchSize });
    const { currentMicroUsd, estimatedMicroUsd, limitMicroUsd } = budget;
    return { clips: clips.length, batches, currentMicroUsd, estimatedMicroUsd, limitMicroUsd };
  };

  async function readClipList(uri: string): Promise<unknown> {
    let text: string;
    try {
      text = await store.getText(uri);
    } catch (err) {
      throw ApplicationFailure.create({
        type: FailureType.InvalidInput,
        message: `invalid input: clipList.uri: ${uri} cannot be read from the store ${store.root}: ${(err as Error).message}`,
        nonRetryable: true,
      });
    }
    try {
      return JSON.parse(text) as ClipPrompt[];
    } catch (err) {
      throw ApplicationFailure.create({
        type: FailureType.InvalidInput,
        message: `invalid input: clipList.uri: ${uri} is not a JSON list of clip prompts: ${(err as Error).message}`,
        nonRetryable: true,
      });
    }
  }
}
