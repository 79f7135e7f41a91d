import { z } from 'zod';
import { int, positive } from './env.js';

import type { RetrySettings } from '../shared/activity-io.js';

export type { RetrySettings };

export const retryEnv = z.object({
  RETRY_INITIAL_INTERVAL_S: positive(3600).default(2),
  RETRY_BACKOFF_COEFFICIENT: z.coerce.number().min(1).max(10).default(2),
  RETRY_MAXIMUM_INTERVAL_S: positive(3600).default(60),
  CLIP_MAX_GENERATIONS: int(1, 20).default(3),
  RETRY_MAXIMUM_ATTEMPTS: int(1, 100).default(10),
});

export function retrySettings(e: z.infer<typeof retryEnv>): RetrySettings {
  return {
    initialIntervalS: e.RETRY_INITIAL_INTERVAL_S,
    backoffCoefficient: e.RETRY_BACKOFF_COEFFICIENT,
    maximumIntervalS: e.RETRY_MAXIMUM_INTERVAL_S,
    maxGenerations: e.CLIP_MAX_GENERATIONS,
    maximumAttempts: Math.max(e.RETRY_MAXIMUM_ATTEMPTS, e.CLIP_MAX_GENERATIONS),
  };
}
