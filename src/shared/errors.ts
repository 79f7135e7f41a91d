import { ApplicationFailure } from '@temporalio/common';

/**
 * Failure types that retry policies and the workflow recognise. The string is what travels in
 * ApplicationFailure.type, so renaming one is a wire change.
 */
export const ErrorType = {
  InvalidInput: 'InvalidInput',
  Auth: 'Auth',
  BudgetExceeded: 'BudgetExceeded',
  RateLimited: 'RateLimited',
  ModelUnavailable: 'ModelUnavailable',
  ContentRejected: 'ContentRejected',
  InsufficientClips: 'InsufficientClips',
  ValidationFailed: 'ValidationFailed',
  ProviderFailed: 'ProviderFailed',
  ImageRejected: 'ImageRejected',
  Cancelled: 'Cancelled',
  SkippedForBudget: 'SkippedForBudget',
  CancelledForBudget: 'CancelledForBudget',
  PredictionNotFound: 'PredictionNotFound',
  Misconfigured: 'Misconfigured',
} as const;
export type ErrorType = (typeof ErrorType)[keyof typeof ErrorType];

/** Never worth a second attempt: the same request would fail the same way (or cost money twice). */
export const NON_RETRYABLE_TYPES: readonly ErrorType[] = [
  ErrorType.InvalidInput,
  ErrorType.Auth,
  ErrorType.BudgetExceeded,
  ErrorType.ContentRejected,
  ErrorType.InsufficientClips,
  ErrorType.Misconfigured,
];

/** A provider or activity failure with a type the retry policy understands. */
export class ClipflowError extends Error {
  override readonly name: string = 'ClipflowError';
  constructor(
    readonly type: ErrorType,
    message: string,
    readonly options: { nonRetryable?: boolean; retryAfterMs?: number } = {},
  ) {
    super(message);
  }
}

export class InvalidInputError extends ClipflowError {
  override readonly name = 'InvalidInputError';
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(ErrorType.InvalidInput, `invalid input: ${field}: ${problem}`, { nonRetryable: true });
  }
}

export class BudgetExceededError extends ClipflowError {
  override readonly name = 'BudgetExceededError';
  constructor(message: string) {
    super(ErrorType.BudgetExceeded, message, { nonRetryable: true });
  }
}

/** The provider does not know this prediction (it never existed there, or its record is gone). */
export class PredictionNotFoundError extends ClipflowError {
  override readonly name = 'PredictionNotFoundError';
  constructor(predictionId: string, where: string) {
    super(ErrorType.PredictionNotFound, `prediction ${predictionId} is unknown to ${where}`);
  }
}

/** Converts anything thrown in an activity into the ApplicationFailure Temporal should see. */
export function toApplicationFailure(err: unknown, details: unknown[] = []): ApplicationFailure {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof ClipflowError) {
    const nonRetryable = err.options.nonRetryable ?? NON_RETRYABLE_TYPES.includes(err.type);
    return ApplicationFailure.create({
      type: err.type,
      message: err.message,
      nonRetryable,
      details,
      ...(err.options.retryAfterMs !== undefined ? { nextRetryDelay: err.options.retryAfterMs } : {}),
    });
  }
  const message = err instanceof Error ? err.message : String(err);
  const type = err instanceof Error ? err.name : 'Error';
  return ApplicationFailure.create({ type, message, details });
}
