import type { ClipPrompt, GenerateClipsInput, GenerateClipsResult, KeptClip, ValidJob } from './shared/model.js';

/** Which clips of a finished job to make again; the others are kept as they are. */
export interface RedoOptions {
  /** These clips (good or failed) are made again. */
  clips?: readonly number[];
  /** Every clip that failed is made again. */
  failed?: boolean;
  /** New prompts for some of the clips being made again: each names its clipIndex, its other fields replace the original's. */
  prompts?: readonly (Partial<ClipPrompt> & { clipIndex: number })[];
}

/** A redo that cannot be: the message says what was asked and why not. */
export class RedoRefused extends Error {
  override readonly name = 'RedoRefused';
}

/** `0, 1, 2, 3, 4, 5`, or `0 … 799 (800 clips)` when there are many. */
function listed(indexes: readonly number[]): string {
  return indexes.length <= 12 ? indexes.join(', ') : `${indexes[0]} … ${indexes.at(-1)} (${indexes.length} clips)`;
}

/**
 * The redo's input, from the job it redoes (its input and result): its clip prompts (new ones where
 * given), the clips it keeps and the job they come from. A clip that failed and is not chosen is
 * left out: the redo neither keeps nor makes it.
 */
export function planRedo(original: ValidJob, result: GenerateClipsResult, options: RedoOptions, jobId: string): GenerateClipsInput {
  if (result.batches) {
    throw new RedoRefused(`job ${original.jobId} ran in ${result.batches.count} batches: a redo of a job past one batch is not supported`);
  }
  const indexes = original.clipPrompts.map((p) => p.clipIndex);
  const chosen = chosenClips(original.jobId, indexes, result, options);
  const newPrompts = new Map<number, Partial<ClipPrompt>>();
  for (const prompt of options.prompts ?? []) {
    if (!chosen.has(prompt.clipIndex)) {
      throw new RedoRefused(
        `a new prompt is given for clip ${prompt.clipIndex}, which is not being redone (redoing ${listed([...chosen])})`,
      );
    }
    newPrompts.set(prompt.clipIndex, prompt);
  }
  const keep: KeptClip[] = result.clips.filter((c) => !chosen.has(c.clipIndex)).map(keptClip);
  const kept = new Set(keep.map((c) => c.clipIndex));
  const clipPrompts = original.clipPrompts
    .filter((p) => kept.has(p.clipIndex) || chosen.has(p.clipIndex))
    .map((p) => ({ ...p, ...newPrompts.get(p.clipIndex) }));
  const options_ = original.options && {
    ...original.options,
    ...(original.options.minClips !== undefined ? { minClips: Math.min(original.options.minClips, clipPrompts.length) } : {}),
  };
  return { jobId, clipPrompts, ...(options_ ? { options: options_ } : {}), redo: { of: original.jobId, keep } };
}

function chosenClips(jobId: string, indexes: readonly number[], result: GenerateClipsResult, options: RedoOptions): Set<number> {
  if ((options.clips !== undefined) === (options.failed === true)) {
    throw new RedoRefused('say which clips to redo: either the clip indexes or the failed clips, not both');
  }
  if (options.failed) {
    const failed = result.failures.map((f) => f.clipIndex);
    if (failed.length === 0) throw new RedoRefused(`job ${jobId} has no failed clips to redo`);
    return new Set(failed);
  }
  const clips = options.clips ?? [];
  if (clips.length === 0) throw new RedoRefused('name at least one clip to redo');
  const known = new Set(indexes);
  for (const clipIndex of clips) {
    if (!known.has(clipIndex)) throw new RedoRefused(`clip ${clipIndex} is not in job ${jobId} (its clips: ${listed(indexes)})`);
  }
  return new Set(clips);
}

/** The clip as a redo carries it: its failed attempts stay in the first job's report, keeping the input small. */
function keptClip(clip: GenerateClipsResult['clips'][number]): KeptClip {
  const { failedAttempts: _dropped, ...rest } = clip;
  return rest;
}
