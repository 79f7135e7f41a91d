import { ApplicationFailure } from '@temporalio/workflow';
import { FailureType } from '../shared/failures.js';
import type { Clip, ClipPrompt, ValidJob } from '../shared/model.js';

/**
 * A redo's split of the job: the clips it keeps from the job it redoes (done already, paid for
 * there, so they cost nothing here and run no activity) and the prompts it makes anew. A job that
 * is not a redo keeps nothing.
 */
export function splitRedo(job: ValidJob): { kept: Clip[]; toMake: ClipPrompt[] } {
  const { redo } = job;
  if (!redo) return { kept: [], toMake: job.clipPrompts };
  const keptIndexes = new Set(redo.keep.map((c) => c.clipIndex));
  const kept = redo.keep.map((clip) => ({
    ...clip,
    costMicroUsd: 0,
    costUsd: 0,
    attempts: 0,
    generationTimeS: 0,
    keptFrom: clip.keptFrom ?? redo.of,
  }));
  return { kept, toMake: job.clipPrompts.filter((p) => !keptIndexes.has(p.clipIndex)) };
}

/** A redo runs in one workflow: past one batch its kept clips would have to be split across batches too. */
export function refuseBatchedRedo(job: { jobId: string; redo?: { of: string } }, batchSize: number | undefined): void {
  if (!job.redo) return;
  throw ApplicationFailure.create({
    type: FailureType.InvalidInput,
    message: `invalid input: redo: job ${job.jobId} redoes ${job.redo.of} but has more clips than one batch (${batchSize ?? '?'}); a redo of a job past one batch is not supported`,
    nonRetryable: true,
  });
}
