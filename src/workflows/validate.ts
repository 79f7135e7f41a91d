import { ApplicationFailure } from '@temporalio/workflow';
import type { JobSettings } from '../shared/activity-io.js';
import { FailureType } from '../shared/failures.js';
import {
  checkJob,
  checkStoredJob,
  MAX_CLIPS_SETTING,
  namesClipList,
  summarizeProblems,
  type ClipCountLimit,
  type Problem,
  type ValidJobInput,
} from '../shared/model.js';

/**
 * Parses the job or fails the workflow with a non-retryable InvalidInput naming the first bad
 * fields. A big job's input names its clip list in the store instead of holding the clips.
 */
export function validateJob(input: unknown): ValidJobInput {
  const checked = namesClipList(input) ? checkStoredJob(input) : checkJob(input);
  if (checked.ok) return checked.job;
  throw invalidJob(checked.problems);
}

/**
 * Refuses, before anything is paid, a job that can never succeed here: more clips than the
 * configured sanity limit, or a clip asking for what the environment's validation or the
 * provider's model cannot give. The limits come from jobSettings (histories recorded before it
 * returned them have none). A stored clip list's clips are checked by planBatches, which reads it.
 */
export function validateJobLimits(input: unknown, settings: Pick<JobSettings, 'clipLimits' | 'maxClips'>): void {
  const limits = settings.clipLimits;
  if (limits?.misconfigured) {
    throw ApplicationFailure.create({ type: FailureType.Misconfigured, message: limits.misconfigured, nonRetryable: true });
  }
  const count: ClipCountLimit | undefined =
    settings.maxClips !== undefined ? { maxClips: settings.maxClips, setting: MAX_CLIPS_SETTING } : undefined;
  if (!limits && !count) return;
  const checked = namesClipList(input) ? checkStoredJob(input, count) : checkJob(input, limits, count);
  if (!checked.ok) throw invalidJob(checked.problems);
}

/** InvalidInput with a bounded message and details, however many problems there are. */
function invalidJob(problems: readonly Problem[]): ApplicationFailure {
  const { fields, message } = summarizeProblems(problems);
  return ApplicationFailure.create({
    type: FailureType.InvalidInput,
    message: `invalid input: ${message}`,
    nonRetryable: true,
    details: [{ fields, problems: problems.length }],
  });
}
