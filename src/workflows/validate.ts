import { ApplicationFailure } from '@temporalio/workflow';
import { FailureType } from '../shared/failures.js';
import { describeIssues, GenerateClipsInput, type ValidJob } from '../shared/model.js';

/** Parses the job or fails the workflow with a non-retryable InvalidInput naming each bad field. */
export function validateJob(input: unknown): ValidJob {
  const parsed = GenerateClipsInput.safeParse(input);
  if (parsed.success) return parsed.data;
  const { fields, message } = describeIssues(parsed.error.issues);
  throw ApplicationFailure.create({
    type: FailureType.InvalidInput,
    message: `invalid input: ${message}`,
    nonRetryable: true,
    details: [{ fields }],
  });
}
