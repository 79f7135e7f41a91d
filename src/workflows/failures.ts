import { ActivityFailure, ApplicationFailure, CancelledFailure, TimeoutFailure, isCancellation } from '@temporalio/workflow';
import { ErrorType } from '../shared/errors.js';
import type { ClipFailure } from '../shared/model.js';

/** What the report says about a clip whose generateClip activity finally failed. */
export function describeClipFailure(clipIndex: number, err: unknown, maxAttempts: number): ClipFailure {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (isCancellation(err) || cause instanceof CancelledFailure) {
    return { clipIndex, errorType: ErrorType.Cancelled, message: 'cancelled before it finished', attempts: 0 };
  }
  if (cause instanceof ApplicationFailure) {
    const detail = cause.details?.[0] as { attempt?: number } | undefined;
    return {
      clipIndex,
      errorType: cause.type ?? 'Error',
      message: cause.message,
      attempts: detail?.attempt ?? maxAttempts,
    };
  }
  if (cause instanceof TimeoutFailure) {
    return { clipIndex, errorType: 'Timeout', message: `timed out (${cause.timeoutType})`, attempts: maxAttempts };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { clipIndex, errorType: 'Error', message, attempts: maxAttempts };
}
