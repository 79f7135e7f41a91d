import type { MicroUsd } from '../shared/money.js';

/**
 * Every amount a job spends, recorded once. An entry's identity is (jobId, stage, clipIndex, key),
 * where key is the provider's prediction id or the attempt; recording the same identity again is
 * a no-op, so a retried record never counts twice.
 */
export interface CostEntry {
  jobId: string;
  /** The pipeline stage that spent the money, e.g. "video". */
  stage: string;
  clipIndex: number;
  key: string;
  amountMicroUsd: MicroUsd;
  model?: string;
}

export interface CostTracker {
  getTotalCost(jobId: string): Promise<MicroUsd>;
  /** Returns true when the entry was new, false when it had been recorded before. */
  record(entry: CostEntry): Promise<boolean>;
  /** The job's entries in the order they were first recorded. */
  entries(jobId: string): Promise<CostEntry[]>;
  close(): Promise<void>;
}

export const VIDEO_STAGE = 'video';
