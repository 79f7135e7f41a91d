import { ActivityFailure, ApplicationFailure, CancelledFailure, TimeoutFailure, isCancellation } from '@temporalio/workflow';
import type { ClipAttemptDetails } from '../activities/generate-clip.js';
import { ErrorType } from '../shared/errors.js';
import type { ClipFailure } from '../shared/model.js';

/** What the report says about a clip whose generation finally failed. */
export function describeClipFailure(clipIndex: number, err: unknown, maxAttempts: number): ClipFailure {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (isCancellation(err) || cause instanceof CancelledFailure) {
    const detail = (cause as CancelledFailure | undefined)?.details?.[0] as Partial<ClipAttemptDetails> | undefined;
    return {
      clipIndex,
      errorType: ErrorType.Cancelled,
      message: 'cancelled before it finished',
      attempts: detail?.attempt ?? 0,
      costMicroUsd: detail?.spentMicroUsd ?? 0,
    };
  }
  if (cause instanceof ApplicationFailure) {
    const detail = cause.details?.[0] as Partial<ClipAttemptDetails> | undefined;
    return {
      clipIndex,
      errorType: cause.type ?? 'Error',
      message: cause.message,
      attempts: detail?.attempt ?? maxAttempts,
      costMicroUsd: detail?.spentMicroUsd ?? 0,
    };
  }
  if (cause instanceof TimeoutFailure) {
    const beat = cause.lastHeartbeatDetails as { spentMicroUsd?: number } | undefined;
    return { clipIndex, errorType: 'Timeout', message: `timed out (${cause.message})`, attempts: maxAttempts, costMicroUsd: beat?.spentMicroUsd ?? 0 };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { clipIndex, errorType: 'Error', message, attempts: maxAttempts, costMicroUsd: 0 };
}

/** Failures after which the clip is worth a try on the fallback model. */
export function wantsFallback(failure: ClipFailure): boolean {
  const final = [ErrorType.InvalidInput, ErrorType.Auth, ErrorType.ContentRejected, ErrorType.Cancelled, ErrorType.Misconfigured] as string[];
  return !final.includes(failure.errorType);
}
