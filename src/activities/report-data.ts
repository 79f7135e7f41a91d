import type { ReportInput } from '../shared/activity-io.js';
import type { AttemptRecord, ContentCheckResult, ContentFinding } from '../shared/content.js';
import { ruleFor, type FailureRule } from '../shared/failures.js';
import type { FallbackNote } from '../shared/model.js';
import { microsToUsd } from '../shared/money.js';

/** The report's data: production_report.json as written, and what report.html is made from. */

export interface ReportRow {
  clipIndex: number;
  /** Where the clip is in the artifact store. */
  uri: string | null;
  /** Its path on disk, when the store is a local directory. */
  path: string | null;
  success: boolean;
  /** 'kept': a redo kept it from the job named in keptFrom (made and paid for there). */
  outcome: 'succeeded' | 'kept' | FailureRule['outcome'];
  keptFrom: string | null;
  provider: string | null;
  model: string | null;
  /** Why the clip went from its primary (provider, model) to the fallback's, when it did. */
  fallback: FallbackNote | null;
  costUsd: number;
  generationTimeS: number;
  attempts: number;
  error: string | null;
  errorType: string | null;
  /** The failure table's words for errorType. */
  reason: string | null;
  imageNote: string | null;
  /** The prompt (its first REPORT_PROMPT_CHARS characters). */
  prompt: string | null;
  /** The clip's length in seconds. */
  durationS: number | null;
  /** The made clip's content check: frames decoded, how far, decoder errors. */
  contentCheck: ContentCheckResult | null;
  /** Every generation that failed, in order, earlier models included. */
  failedAttempts: AttemptRecord[];
  /** What content checks found on any of its attempts, with the generation that showed it. */
  findings: (ContentFinding & { generation: number; model: string })[];
  posterUri: string | null;
  stripUri: string | null;
}

/** What the report knows of where it is: the job in the Temporal Web UI, the contact sheet. */
export interface ReportPlace {
  workflowId?: string;
  webUiUrl?: string;
  contactSheetUri?: string;
}

export type Report = ReturnType<typeof buildReport>;

export function buildReport(input: ReportInput, place: ReportPlace = {}) {
  const promptsByIndex = new Map(input.clipPrompts.map((p) => [p.clipIndex, p.prompt]));
  const clipsByIndex = new Map(input.clips.map((c) => [c.clipIndex, c]));
  const failuresByIndex = new Map(input.failures.map((f) => [f.clipIndex, f]));
  const rows: ReportRow[] = input.clipPrompts.map(({ clipIndex }) => {
    const clip = clipsByIndex.get(clipIndex);
    const failure = failuresByIndex.get(clipIndex);
    const failedAttempts = clip?.failedAttempts ?? failure?.failedAttempts ?? [];
    return {
      clipIndex,
      uri: clip?.uri ?? null,
      path: clip?.path ?? null,
      success: clip !== undefined,
      outcome: clip ? (clip.keptFrom ? 'kept' : 'succeeded') : ruleFor(failure?.errorType).outcome,
      keptFrom: clip?.keptFrom ?? null,
      provider: clip?.provider ?? failure?.provider ?? null,
      model: clip?.model ?? failure?.model ?? failedAttempts.at(-1)?.model ?? null,
      fallback: clip?.fallback ?? failure?.fallback ?? null,
      costUsd: clip?.costUsd ?? microsToUsd(failure?.costMicroUsd ?? 0),
      generationTimeS: clip?.generationTimeS ?? 0,
      attempts: clip?.attempts ?? failure?.attempts ?? 0,
      error: failure?.message ?? null,
      errorType: failure?.errorType ?? null,
      reason: failure ? ruleFor(failure.errorType).label : null,
      imageNote: clip?.imageNote ?? null,
      prompt: promptsByIndex.get(clipIndex) ?? null,
      durationS: clip?.durationS ?? null,
      contentCheck: clip?.contentCheck ?? null,
      failedAttempts,
      findings: failedAttempts.flatMap((a) => (a.findings ?? []).map((f) => ({ ...f, generation: a.generation, model: a.model }))),
      posterUri: clip?.posterUri ?? null,
      stripUri: clip?.stripUri ?? null,
    };
  });
  const total = input.clipPrompts.length;
  return {
    jobId: input.jobId,
    workflowId: place.workflowId ?? null,
    /** The job in the Temporal Web UI. */
    webUiUrl: place.webUiUrl ?? null,
    /** Every clip's poster with its index and outcome, in one image. */
    contactSheetUri: place.contactSheetUri ?? null,
    totalClips: total,
    successfulClips: input.clips.length,
    failedClips: input.failures.length,
    successRate: total === 0 ? 0 : input.clips.length / total,
    minClips: input.minClips,
    meetsMinimum: input.clips.length >= input.minClips,
    totalCostUsd: microsToUsd(input.totalCostMicroUsd),
    totalCostMicroUsd: input.totalCostMicroUsd,
    totalTimeS: input.totalGenerationTimeS,
    cancelledClips: input.cancelledClips,
    budget: {
      limitUsd: microsToUsd(input.budget.limitMicroUsd),
      spentBeforeJobUsd: microsToUsd(input.budget.spentBeforeJobMicroUsd),
      estimatedUsd: microsToUsd(input.budget.estimatedMicroUsd),
      actualUsd: microsToUsd(input.budget.actualMicroUsd),
      peakReservedUsd: microsToUsd(input.budget.peakReservedMicroUsd),
      skippedForBudget: input.budget.skippedForBudget,
      cancelledForBudget: input.budget.cancelledForBudget,
      perModel: input.budget.perModel.map((m) => ({
        model: m.model,
        clips: m.clips,
        estimatedUsd: microsToUsd(m.estimatedMicroUsd),
        actualUsd: microsToUsd(m.actualMicroUsd),
      })),
    },
    clips: rows,
  };
}
