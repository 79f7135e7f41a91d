import { z } from 'zod';
import { int, positive } from './env.js';

/** How a failed clip generation is retried: the activity retry policy the workflow builds. */
export interface RetrySettings {
  initialIntervalS: number;
  backoffCoefficient: number;
  maximumIntervalS: number;
  /** Attempts in all, the first included: 4 means three retries. */
  maximumAttempts: number;
}

export const retryEnv = z.object({
  RETRY_INITIAL_INTERVAL_S: positive(3600).default(2),
  RETRY_BACKOFF_COEFFICIENT: z.coerce.number().min(1).max(10).default(2),
  RETRY_MAXIMUM_INTERVAL_S: positive(3600).default(60),
  RETRY_MAXIMUM_ATTEMPTS: int(1, 20).default(4),
});

export function retrySettings(e: z.infer<typeof retryEnv>): RetrySettings {
  return {
    initialIntervalS: e.RETRY_INITIAL_INTERVAL_S,
    backoffCoefficient: e.RETRY_BACKOFF_COEFFICIENT,
    maximumIntervalS: e.RETRY_MAXIMUM_INTERVAL_S,
    maximumAttempts: e.RETRY_MAXIMUM_ATTEMPTS,
  };
}
