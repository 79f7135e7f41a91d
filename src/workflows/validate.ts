import { ApplicationFailure } from '@temporalio/workflow';
import { FailureType } from '../shared/failures.js';
import { checkJob, summarizeProblems, type Problem, type ValidJob } from '../shared/model.js';

/** Parses the job or fails the workflow with a non-retryable InvalidInput naming the first bad fields. */
export function validateJob(input: unknown): ValidJob {
  const checked = checkJob(input);
  if (checked.ok) return checked.job;
  throw invalidJob(checked.problems);
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
