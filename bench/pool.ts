/**
 * The baseline: the same generateClip activity code and provider run by an in-process promise pool
 * (p-limit), with the retry policy the workflow uses (2 s, 4 s, 8 s backoff; 4 attempts in all).
 * Each attempt runs in a MockActivityEnvironment so the activity's heartbeats (its prediction id)
 * carry over to the next attempt in memory, as Temporal would carry them; nothing survives the process.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import pLimit from 'p-limit';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import type { Activities } from '../src/activities/index.js';
import type { RetrySettings } from '../src/config/index.js';
import { FailureType, NON_RETRYABLE_TYPES } from '../src/shared/failures.js';
import type { Clip, ClipPrompt } from '../src/shared/model.js';

export interface PoolOptions {
  jobId: string;
  clips: readonly ClipPrompt[];
  model: string;
  concurrency: number;
  retry: RetrySettings;
  generateClip: Activities['generateClip'];
  onDone?: (clipIndex: number, ok: boolean) => void;
}

export interface PoolResult {
  clips: Clip[];
  failures: { clipIndex: number; error: string }[];
  attempts: number;
}

const logger = new DefaultLogger('WARN');
const NEVER_RETRIED = new Set<string>([...NON_RETRYABLE_TYPES, FailureType.ModelUnavailable]);

export async function runPool(options: PoolOptions): Promise<PoolResult> {
  const { retry } = options;
  const limit = pLimit(options.concurrency);
  const result: PoolResult = { clips: [], failures: [], attempts: 0 };

  async function one(clip: ClipPrompt): Promise<void> {
    let heartbeatDetails: unknown;
    for (let attempt = 1; ; attempt++) {
      result.attempts++;
      const env = new MockActivityEnvironment(
        { attempt, heartbeatDetails, activityType: 'generateClip', heartbeatTimeoutMs: 30_000, startToCloseTimeoutMs: 300_000 },
        { logger },
      );
      env.on('heartbeat', (details: unknown) => (heartbeatDetails = details));
      try {
        result.clips.push(
          await env.run(options.generateClip, { jobId: options.jobId, clip, model: options.model, maxGenerations: retry.maxGenerations }),
        );
        options.onDone?.(clip.clipIndex, true);
        return;
      } catch (err) {
        const final =
          attempt >= retry.maximumAttempts ||
          (err instanceof ApplicationFailure && (err.nonRetryable || NEVER_RETRIED.has(err.type ?? '')));
        if (final) {
          result.failures.push({ clipIndex: clip.clipIndex, error: (err as Error).message });
          options.onDone?.(clip.clipIndex, false);
          return;
        }
        const backoffS = Math.min(retry.initialIntervalS * retry.backoffCoefficient ** (attempt - 1), retry.maximumIntervalS);
        await sleep(backoffS * 1000);
      }
    }
  }

  await Promise.all(options.clips.map((clip) => limit(() => one(clip))));
  return result;
}
