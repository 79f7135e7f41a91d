/** What the workflow and its activities hand each other: workflow-safe types only. */
import type { ClipLimits } from './clip-limits.js';
import type { AttemptRecord } from './content.js';
import type { BudgetSummary, Clip, ClipFailure, ClipPrompt, JobOptions } from './model.js';
import type { MicroUsd } from './money.js';

/** How a failed clip generation is retried: the activity retry policy the workflow builds. */
export interface RetrySettings {
  initialIntervalS: number;
  backoffCoefficient: number;
  maximumIntervalS: number;
  /** Generations that may fail on one model before the clip is done for on it (the seed's 3). */
  maxGenerations: number;
  /** Activity attempts in all, crashed ones included: a cap for a clip that keeps killing its worker. */
  maximumAttempts: number;
}

/** What a job runs by unless its options say otherwise. */
export interface JobDefaults {
  concurrency: number;
  minClips: number;
  budgetLimitMicroUsd: MicroUsd;
  clipTimeoutS: number;
  heartbeatTimeoutS: number;
  retry: RetrySettings;
}

/** The worker's defaults merged with a job's options: what the workflow runs by. */
export interface JobSettings extends JobDefaults {
  environment: string;
  provider: string;
  model: string;
  fallbackModel?: string;
  /** Whether the namespace has clipflow's search attributes registered. */
  searchAttributes: boolean;
  /** What a clip may ask for here, checked before anything is paid (absent in histories recorded before it existed). */
  clipLimits?: ClipLimits;
}

export interface JobSettingsInput {
  options?: JobOptions;
  clipCount: number;
}

export interface BudgetCheckInput {
  jobId: string;
  clips: Pick<ClipPrompt, 'clipIndex' | 'durationS'>[];
  model: string;
  budgetLimitMicroUsd: MicroUsd;
  /** The job fails up front only when not even this many clips fit in the budget. */
  minClips: number;
}

export interface BudgetCheck {
  currentMicroUsd: MicroUsd;
  estimatedMicroUsd: MicroUsd;
  limitMicroUsd: MicroUsd;
  perClipMicroUsd: Record<number, MicroUsd>;
}

export interface PrepareImageInput {
  jobId: string;
  clipIndex: number;
  url: string;
}

/** A prepared reference image is a store URI: the worker that generates the clip may be another. */
export type PreparedImage = { ok: true; uri: string } | { ok: false; reason: string };

export interface GenerateClipInput {
  jobId: string;
  clip: ClipPrompt;
  model: string;
  /** Generations that may fail on this model before the clip is done for on it. */
  maxGenerations: number;
  /** Paid for this clip on earlier models. */
  spentMicroUsd?: number;
  /** Its failed generations on earlier models. */
  failedAttempts?: AttemptRecord[];
  /** Store URI of the prepared reference image. */
  imageUri?: string;
  imageNote?: string;
}

export interface ReportInput {
  jobId: string;
  /** The prompt is cut to REPORT_PROMPT_CHARS so a large job's report input stays small (absent in older histories). */
  clipPrompts: (Pick<ClipPrompt, 'clipIndex'> & { prompt?: string })[];
  clips: Clip[];
  failures: ClipFailure[];
  totalCostMicroUsd: MicroUsd;
  totalGenerationTimeS: number;
  minClips: number;
  budget: BudgetSummary;
  cancelledClips: number[];
}

/** The production report in the artifact store. */
export interface StoredReport {
  uri: string;
  /** Its path on disk, when the store is a local directory. */
  path?: string;
  /** report.html, made from the same data. */
  htmlUri?: string;
  htmlPath?: string;
  contactSheetUri?: string;
}

/** How much of each prompt the workflow hands the report. */
export const REPORT_PROMPT_CHARS = 500;
