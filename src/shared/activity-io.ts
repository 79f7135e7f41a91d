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

/** How big a job may be, and how a big one is split into child workflows. */
export interface JobScale {
  /** The sanity limit on a job's clips (CLIPFLOW_MAX_CLIPS). */
  maxClips: number;
  /** Clips per child workflow; a job of at most this many runs in one workflow (CLIPFLOW_BATCH_SIZE). */
  batchSize: number;
  /** Child workflows running at once (CLIPFLOW_BATCH_WINDOW). */
  batchWindow: number;
}

/** What a job runs by unless its options say otherwise. */
export interface JobDefaults extends JobScale {
  concurrency: number;
  minClips: number;
  budgetLimitMicroUsd: MicroUsd;
  clipTimeoutS: number;
  heartbeatTimeoutS: number;
  retry: RetrySettings;
}

/**
 * The worker's defaults merged with a job's options: what the workflow runs by. The scale is
 * absent in histories recorded before jobs were split into batches: those jobs ran in one workflow.
 */
export interface JobSettings extends Omit<JobDefaults, keyof JobScale>, Partial<JobScale> {
  environment: string;
  provider: string;
  model: string;
  fallbackModel?: string;
  /** The fallback model's provider; absent (in older histories): the primary provider. */
  fallbackProvider?: string;
  /** A content rejection goes to the fallback too (VIDEO_FALLBACK_ON_CONTENT_REJECTED). */
  fallbackOnContentRejected?: boolean;
  /** Whether the namespace has clipflow's search attributes registered. */
  searchAttributes: boolean;
  /** Providers (of the primary and the fallback) whose account has an in-flight limit across jobs: a clip waits for a slot there. */
  accountLimited?: string[];
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
  /** Which of the worker's providers generates (absent in older histories: its primary). */
  provider?: string;
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

/** Splits a big job into batches: reads and checks its clip list, checks the budget, writes one slice per batch. */
export interface PlanBatchesInput {
  jobId: string;
  /** The clips, when the workflow was started with them; otherwise they are at clipListUri. */
  clipPrompts?: ClipPrompt[];
  clipListUri?: string;
  /** How many clips the job's input says the list holds. */
  clipCount: number;
  batchSize: number;
  model: string;
  budgetLimitMicroUsd: MicroUsd;
  minClips: number;
  maxClips: number;
  clipLimits?: ClipLimits;
}

/** One batch of a big job: its clips are in the slice at sliceUri. */
export interface BatchPlan {
  batch: number;
  sliceUri: string;
  clips: number;
  estimatedMicroUsd: MicroUsd;
  /** The cheapest clip's estimate: an allowance under it could start no clip. */
  cheapestMicroUsd: MicroUsd;
}

export interface JobPlan {
  clips: number;
  batches: BatchPlan[];
  currentMicroUsd: MicroUsd;
  estimatedMicroUsd: MicroUsd;
  limitMicroUsd: MicroUsd;
}

/** A clip as a batch's slice holds it: with its estimated cost, so the child needs no budget check. */
export interface PlannedClip {
  clip: ClipPrompt;
  estimateMicroUsd: MicroUsd;
}

export interface BatchPageInput {
  sliceUri: string;
  /** Position in the slice of the first clip wanted. */
  offset: number;
}

/** As many clips from `offset` as fit in one payload well under 256 KiB; `next` is where the following page starts. */
export interface BatchPage {
  clips: PlannedClip[];
  next?: number;
}

/** What a child workflow is started with: small whatever the batch's prompts. */
export interface BatchInput {
  jobId: string;
  batch: number;
  sliceUri: string;
  clips: number;
  /** What the batch may spend: reserved for it in the parent's budget ledger. */
  allowanceMicroUsd: MicroUsd;
  /** The batch's share of the job's concurrency. */
  concurrency: number;
  settings: JobSettings;
}

/** A batch's counts as it runs, signalled to the parent for the job's progress. */
export interface BatchProgress {
  batch: number;
  done: number;
  failed: number;
  running: number;
  spentMicroUsd: MicroUsd;
}

/** What a child workflow returns: counts and where its per-clip results are, never the clips. */
export interface BatchSummary extends BatchProgress {
  clips: number;
  cancelled: number;
  skippedForBudget: number;
  cancelledForBudget: number;
  peakReservedMicroUsd: MicroUsd;
  generationTimeS: number;
  perModel: BudgetSummary['perModel'];
  /** The batch's clips and failures in the store, in parts that each fit in one activity payload. */
  resultUris: string[];
  /** The job was cancelled while the batch ran. */
  jobCancelled: boolean;
}

export interface BatchResultsInput {
  jobId: string;
  batch: number;
  part: number;
  clips: Clip[];
  failures: ClipFailure[];
}

/** Why a batch has no results: it never started, or its workflow failed outright. */
export type NotStarted = 'cancelled' | 'budget' | 'failed';

export interface MergeReportInput {
  jobId: string;
  /** Each batch's slice and results are found by their keys, so this input stays small whatever the job. */
  batches: { batch: number; resultParts: number; notStarted?: NotStarted }[];
  minClips: number;
  totalCostMicroUsd: MicroUsd;
  totalGenerationTimeS: number;
  /** The job's budget; its per-clip lists are rebuilt from the batches' results. */
  budget: Omit<BudgetSummary, 'skippedForBudget' | 'cancelledForBudget'>;
}

export interface MergedReport extends StoredReport {
  /** How many clips ended with each failure type. */
  failuresByType: Record<string, number>;
  textOnlyClips: number;
}
