import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { log } from '@temporalio/activity';
import { ruleFor, type FailureRule } from '../shared/failures.js';
import { microsToUsd } from '../shared/money.js';
import type { ActivityDeps } from './deps.js';
import { reportPath } from '../store/paths.js';
import type { ReportInput } from '../shared/activity-io.js';

export interface ReportRow {
  clipIndex: number;
  path: string | null;
  success: boolean;
  outcome: 'succeeded' | FailureRule['outcome'];
  provider: string | null;
  model: string | null;
  costUsd: number;
  generationTimeS: number;
  attempts: number;
  error: string | null;
  errorType: string | null;
  /** The failure table's words for errorType. */
  reason: string | null;
  imageNote: string | null;
}

export function buildReport(input: ReportInput) {
  const clipsByIndex = new Map(input.clips.map((c) => [c.clipIndex, c]));
  const failuresByIndex = new Map(input.failures.map((f) => [f.clipIndex, f]));
  const rows: ReportRow[] = input.clipPrompts.map(({ clipIndex }) => {
    const clip = clipsByIndex.get(clipIndex);
    const failure = failuresByIndex.get(clipIndex);
    return {
      clipIndex,
      path: clip?.path ?? null,
      success: clip !== undefined,
      outcome: clip ? 'succeeded' : ruleFor(failure?.errorType).outcome,
      provider: clip?.provider ?? null,
      model: clip?.model ?? null,
      costUsd: clip?.costUsd ?? microsToUsd(failure?.costMicroUsd ?? 0),
      generationTimeS: clip?.generationTimeS ?? 0,
      attempts: clip?.attempts ?? failure?.attempts ?? 0,
      error: failure?.message ?? null,
      errorType: failure?.errorType ?? null,
      reason: failure ? ruleFor(failure.errorType).label : null,
      imageNote: clip?.imageNote ?? null,
    };
  });
  const total = input.clipPrompts.length;
  return {
    jobId: input.jobId,
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

export function createWriteReport({ config }: Pick<ActivityDeps, 'config'>) {
  return async function writeReport(input: ReportInput): Promise<string> {
    const file = reportPath(config.outputDir, input.jobId);
    await mkdir(path.dirname(file), { recursive: true });
    const temp = `${file}.${process.pid}.tmp`;
    await writeFile(temp, `${JSON.stringify(buildReport(input), null, 2)}\n`);
    await rename(temp, file);
    log.info('report written', { jobId: input.jobId, path: file });
    return file;
  };
}
