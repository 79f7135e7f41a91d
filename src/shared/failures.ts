import { ActivityFailure, ApplicationFailure, CancelledFailure, TimeoutFailure } from '@temporalio/common';
import type { AttemptRecord } from './content.js';
import type { ClipFailure } from './model.js';

/**
 * Every failure clipflow names, and what follows from it: the one place that decides whether a
 * failure is tried again, whether the clip moves to the fallback model, and what the report calls
 * it. Workflow-safe (no node:*), read by retry policies, activities, the fallback decision and the
 * report. The type string travels in ApplicationFailure.type, so renaming one is a wire change.
 */
export interface FailureRule {
  /** Another attempt of the same request may succeed. */
  readonly retryable: boolean;
  /** Once the clip's model is done for with this failure, the fallback model gets its turn. */
  readonly fallback: boolean;
  /** How the report counts a clip that ended with it. */
  readonly outcome: 'failed' | 'cancelled' | 'skipped';
  /** The report's words for it; messages read `<what happened>: <values>`. */
  readonly label: string;
}

export const FAILURES = {
  InvalidInput: { retryable: false, fallback: false, outcome: 'failed', label: 'invalid input' },
  Auth: { retryable: false, fallback: false, outcome: 'failed', label: 'credentials refused' },
  BudgetExceeded: { retryable: false, fallback: false, outcome: 'failed', label: 'over budget' },
  RateLimited: { retryable: true, fallback: true, outcome: 'failed', label: 'rate limited' },
  ModelUnavailable: { retryable: false, fallback: true, outcome: 'failed', label: 'model unavailable' },
  ContentRejected: { retryable: false, fallback: false, outcome: 'failed', label: 'content rejected' },
  InsufficientClips: { retryable: false, fallback: false, outcome: 'failed', label: 'too few clips' },
  ValidationFailed: { retryable: true, fallback: true, outcome: 'failed', label: 'clip failed validation' },
  ProviderFailed: { retryable: true, fallback: true, outcome: 'failed', label: 'provider failed' },
  /** The provider will never accept this request (402, another 4xx, an output missing or over the size cap). */
  ProviderRefused: { retryable: false, fallback: true, outcome: 'failed', label: 'provider refused' },
  Timeout: { retryable: true, fallback: true, outcome: 'failed', label: 'timed out' },
  ImageRejected: { retryable: false, fallback: false, outcome: 'failed', label: 'reference image refused' },
  /** The provider does not know a prediction a resumed attempt asked about: it is made anew. */
  PredictionNotFound: { retryable: true, fallback: false, outcome: 'failed', label: 'prediction unknown' },
  Misconfigured: { retryable: false, fallback: false, outcome: 'failed', label: 'misconfigured' },
  Cancelled: { retryable: false, fallback: false, outcome: 'cancelled', label: 'cancelled' },
  CancelledForBudget: { retryable: false, fallback: false, outcome: 'cancelled', label: 'stopped for budget' },
  SkippedForBudget: { retryable: false, fallback: false, outcome: 'skipped', label: 'skipped for budget' },
  /** Anything not named here: an unexpected error, retried like a provider failure. */
  Error: { retryable: true, fallback: true, outcome: 'failed', label: 'unexpected error' },
} as const satisfies Record<string, FailureRule>;

export type FailureType = keyof typeof FAILURES;

/** The type names, for code that writes `FailureType.X`. */
export const FailureType = Object.fromEntries(Object.keys(FAILURES).map((k) => [k, k])) as { readonly [K in FailureType]: K };

export function ruleFor(type: string | undefined | null): FailureRule {
  return FAILURES[failureType(type)];
}

/** A type as it came back from Temporal, unknown ones read as Error. */
export function failureType(type: string | undefined | null): FailureType {
  return Object.hasOwn(FAILURES, type ?? '') ? (type as FailureType) : FailureType.Error;
}

/** What retry policies must never retry; the activity also marks such failures non-retryable itself. */
export const NON_RETRYABLE_TYPES: readonly FailureType[] = (Object.keys(FAILURES) as FailureType[]).filter((t) => !FAILURES[t].retryable);

/** A failure raised by clipflow's own code; its type decides everything else through FAILURES. */
export class ClipflowError extends Error {
  override readonly name = 'ClipflowError';
  constructor(
    readonly type: FailureType,
    message: string,
    /** A provider's own word on when to try again (Retry-After). */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** A job or clip input that can never work, naming the field. */
export function invalidInput(field: string, problem: string): ClipflowError {
  return new ClipflowError(FailureType.InvalidInput, `invalid input: ${field}: ${problem}`);
}

/**
 * What a clip's generation has come to so far on one model, as it travels from the activity to
 * the workflow: in heartbeat details (so a crash loses none of it) and in the details of the
 * attempt's failure. Produced by the generateClip activity only.
 */
export interface ClipAttempts {
  /** Generations that ended (made or failed); an attempt cut short by a crash is not one. */
  generations: number;
  /** Everything paid for this clip so far, earlier models included. */
  spentMicroUsd: number;
  /** The generations that failed so far, earlier models included, with what was found. */
  failedAttempts?: AttemptRecord[];
}

/** Converts anything thrown in an activity into the ApplicationFailure Temporal should see. */
export function toApplicationFailure(
  err: unknown,
  { details = [], exhausted = false }: { details?: unknown[]; exhausted?: boolean } = {},
): ApplicationFailure {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof ClipflowError) {
    return ApplicationFailure.create({
      type: err.type,
      message: err.message,
      nonRetryable: exhausted || !FAILURES[err.type].retryable,
      details,
      ...(err.retryAfterMs !== undefined ? { nextRetryDelay: err.retryAfterMs } : {}),
    });
  }
  // Unnamed errors keep their JavaScript name for the report; the Error row rules them.
  const message = err instanceof Error ? err.message : String(err);
  return ApplicationFailure.create({
    type: err instanceof Error ? err.name : FailureType.Error,
    message,
    nonRetryable: exhausted,
    details,
  });
}

/** How a clip's last activity ended, as the workflow reads it from the activity's failure. */
export function describeClipFailure(clipIndex: number, err: unknown): ClipFailure {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  const fromDetails = (details: unknown): Partial<ClipAttempts> => (details ?? {}) as Partial<ClipAttempts>;
  let type: string = FailureType.Error;
  let message = err instanceof Error ? err.message : String(err);
  let attempts: Partial<ClipAttempts> = {};
  if (cause instanceof CancelledFailure) {
    [type, message, attempts] = [FailureType.Cancelled, 'cancelled before it finished', fromDetails(cause.details?.[0])];
  } else if (cause instanceof ApplicationFailure) {
    [type, message, attempts] = [cause.type ?? FailureType.Error, cause.message, fromDetails(cause.details?.[0])];
  } else if (cause instanceof TimeoutFailure) {
    [type, message, attempts] = [FailureType.Timeout, `timed out (${cause.message})`, fromDetails(cause.lastHeartbeatDetails)];
  }
  return {
    clipIndex,
    errorType: type,
    message,
    attempts: attempts.generations ?? 0,
    costMicroUsd: attempts.spentMicroUsd ?? 0,
    ...(attempts.failedAttempts?.length ? { failedAttempts: attempts.failedAttempts } : {}),
  };
}

/** Whether a clip that failed this way on its model is worth a try on the fallback model. */
export function wantsFallback(failure: Pick<ClipFailure, 'errorType'>): boolean {
  return ruleFor(failure.errorType).fallback;
}
