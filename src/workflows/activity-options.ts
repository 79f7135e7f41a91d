import { ActivityCancellationType, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { JobSettings } from '../shared/activity-io.js';
import { NON_RETRYABLE_TYPES } from '../shared/failures.js';

/** Each kind of activity with the options its work calls for. */

export const { jobSettings } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '10 seconds',
});

// Short and on the worker's own host: local activities, so a job does not queue them behind
// other jobs' clips nor pay a round trip through the server at each end.
export const { checkBudget } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumAttempts: 5, nonRetryableErrorTypes: [...NON_RETRYABLE_TYPES] },
  summary: 'budget check',
});

export const { writeReport } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumAttempts: 10 },
  summary: 'production report',
});

// A big job: planning reads the whole clip list and writes a slice per batch, so it may take a while.
export const { planBatches } = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumAttempts: 5, nonRetryableErrorTypes: [...NON_RETRYABLE_TYPES] },
  summary: 'plan batches',
});

export const { loadBatchPage, writeBatchResults } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumAttempts: 10 },
});

export const { mergeReport } = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '1 second', maximumAttempts: 10 },
  summary: 'production report (merged from batches)',
});

export function imageActivities(settings: JobSettings, clipIndex: number) {
  return proxyActivities<Activities>({
    startToCloseTimeout: '2 minutes',
    heartbeatTimeout: `${settings.heartbeatTimeoutS} seconds`,
    // A bad image comes back as ok:false; what fails the activity is its worker dying or stalling,
    // which another worker can make good (the image is fetched again to the same store key).
    retry: { maximumAttempts: 3 },
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    summary: `clip ${clipIndex} · reference image`,
  });
}

/**
 * Generation: long per attempt, heartbeating, retried at 2 s, 4 s, 8 s by default. The activity
 * itself ends the clip on a model after `maxGenerations` failed generations; `maximumAttempts`
 * only caps attempts cut short by crashes, which cost no generation.
 */
export function generationActivities(settings: JobSettings, clipIndex: number, model: string) {
  const { retry } = settings;
  return proxyActivities<Activities>({
    startToCloseTimeout: `${settings.clipTimeoutS} seconds`,
    heartbeatTimeout: `${settings.heartbeatTimeoutS} seconds`,
    retry: {
      initialInterval: `${retry.initialIntervalS} seconds`,
      backoffCoefficient: retry.backoffCoefficient,
      maximumInterval: `${retry.maximumIntervalS} seconds`,
      maximumAttempts: retry.maximumAttempts,
      nonRetryableErrorTypes: [...NON_RETRYABLE_TYPES],
    },
    // Cancellation waits for the activity to cancel its prediction, so billing has stopped.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    summary: `clip ${clipIndex} · ${model} · generate`,
  });
}

/** A clip's place at a provider account with an account-wide limit: answered at once (the wait is the workflow's). */
export function slotActivities(clipIndex: number, provider: string) {
  return proxyActivities<Activities>({
    startToCloseTimeout: '30 seconds',
    retry: { initialInterval: '1 second', maximumInterval: '10 seconds', nonRetryableErrorTypes: [...NON_RETRYABLE_TYPES] },
    summary: `clip ${clipIndex} · ${provider} account slot`,
  });
}
