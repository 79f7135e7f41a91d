import { z } from 'zod';
import type { ImageSettings } from '../media/image-download.js';
import { bool, int, positive } from './env.js';

export type { ImageSettings };

/** A worker process's limits: shutdown grace, concurrency, rate limits. */
export interface WorkerSettings {
  /** After SIGTERM/SIGINT running activities get this long to finish before they are cancelled. */
  shutdownGraceS: number;
  maxConcurrentActivities: number;
  /** Per worker process; unset means no limit. */
  activitiesPerSecond?: number;
  /** Server-side, for all workers of the task queue together; unset means no limit. */
  taskQueueActivitiesPerSecond?: number;
}

export const limitsEnv = z.object({
  WORKER_SHUTDOWN_GRACE_S: z.coerce.number().min(0).max(86_400).default(30),
  WORKER_MAX_CONCURRENT_ACTIVITIES: int(1, 10_000).default(100),
  WORKER_ACTIVITIES_PER_SECOND: positive(100_000).optional(),
  WORKER_TASK_QUEUE_ACTIVITIES_PER_SECOND: positive(100_000).optional(),
  IMAGE_ALLOW_PRIVATE_HOSTS: bool.default(false),
  IMAGE_MAX_BYTES: int(1, 200_000_000).default(10_000_000),
  IMAGE_CONNECT_TIMEOUT_MS: int(1, 120_000).default(5_000),
  IMAGE_TOTAL_TIMEOUT_MS: int(1, 600_000).default(30_000),
});

type LimitsEnv = z.infer<typeof limitsEnv>;

export function workerSettings(e: LimitsEnv): WorkerSettings {
  return {
    shutdownGraceS: e.WORKER_SHUTDOWN_GRACE_S,
    maxConcurrentActivities: e.WORKER_MAX_CONCURRENT_ACTIVITIES,
    ...(e.WORKER_ACTIVITIES_PER_SECOND !== undefined ? { activitiesPerSecond: e.WORKER_ACTIVITIES_PER_SECOND } : {}),
    ...(e.WORKER_TASK_QUEUE_ACTIVITIES_PER_SECOND !== undefined
      ? { taskQueueActivitiesPerSecond: e.WORKER_TASK_QUEUE_ACTIVITIES_PER_SECOND }
      : {}),
  };
}

export function imageSettings(e: LimitsEnv): ImageSettings {
  return {
    allowPrivateHosts: e.IMAGE_ALLOW_PRIVATE_HOSTS,
    maxBytes: e.IMAGE_MAX_BYTES,
    connectTimeoutMs: e.IMAGE_CONNECT_TIMEOUT_MS,
    totalTimeoutMs: e.IMAGE_TOTAL_TIMEOUT_MS,
  };
}
