import type { z } from 'zod';
import type { JobDefaults } from '../shared/activity-io.js';
import { DEFAULT_MAX_CLIPS, MAX_CLIPS_CEILING } from '../shared/model.js';
import { usdToMicros } from '../shared/money.js';
import { int, positive, type Environment } from './env.js';
import { retryEnv, retrySettings } from './retry.js';

export type { JobDefaults };

const DEFAULT_BUDGET_USD: Record<Environment, number> = { development: 2, production: 50 };

export const jobEnv = retryEnv.extend({
  VIDEO_GENERATOR_CONCURRENCY: int(1, 100).default(3),
  VIDEO_GENERATOR_MIN_CLIPS: int(1, 10_000).default(3),
  VIDEO_GENERATOR_BUDGET_USD: positive(100_000).optional(),
  CLIP_TIMEOUT_S: positive(3600).default(300),
  CLIP_HEARTBEAT_TIMEOUT_S: positive(600).default(10),
  CLIPFLOW_MAX_CLIPS: int(1, MAX_CLIPS_CEILING).default(DEFAULT_MAX_CLIPS),
  // A job of one batch runs in one workflow whose result lists every clip (about 280 B each):
  // 800 clips keep it under 256 KiB. (Past 250 batches a job's batches grow, to 800 at most.)
  CLIPFLOW_BATCH_SIZE: int(1, 800).default(400),
  CLIPFLOW_BATCH_WINDOW: int(1, 20).default(2),
});

export function jobDefaults(e: z.infer<typeof jobEnv>, environment: Environment): JobDefaults {
  return {
    concurrency: e.VIDEO_GENERATOR_CONCURRENCY,
    minClips: e.VIDEO_GENERATOR_MIN_CLIPS,
    budgetLimitMicroUsd: usdToMicros(e.VIDEO_GENERATOR_BUDGET_USD ?? DEFAULT_BUDGET_USD[environment]),
    clipTimeoutS: e.CLIP_TIMEOUT_S,
    heartbeatTimeoutS: e.CLIP_HEARTBEAT_TIMEOUT_S,
    retry: retrySettings(e),
    maxClips: e.CLIPFLOW_MAX_CLIPS,
    batchSize: e.CLIPFLOW_BATCH_SIZE,
    batchWindow: e.CLIPFLOW_BATCH_WINDOW,
  };
}
