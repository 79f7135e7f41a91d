import { ApplicationFailure } from '@temporalio/workflow';
import type { JobSettings } from '../shared/activity-io.js';
import { FailureType } from '../shared/failures.js';
import { checkJob, summarizeProblems, type Problem, type ValidJob } from '../shared/model.js';

/** Parses the job or fails the workflow with a non-retryable InvalidInput naming the first bad fields. */
export function validateJob(input: unknown): ValidJob {
  const checked = checkJob(input);
  if (checked.ok) return checked.job;
  throw invalidJob(checked.problems);
}

/**
 * Refuses, before anything is paid, a job that can never succeed here: a clip asking for what the
 * environment's validation or the provider's model cannot give. The limits come from jobSettings
 * (histories recorded before it returned them have none).
 */
export function validateJobLimits(input: unknown, settings: Pick<JobSettings, 'clipLimits'>): void {
  const limits = settings.clipLimits;
  if (!limits) return;
  if (limits.misconfigured) {
    throw ApplicationFailure.create({ type: FailureType.Misconfigured, message: limits.misconfigured, nonRetryable: true });
  }
  const checked = checkJob(input, limits);
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
