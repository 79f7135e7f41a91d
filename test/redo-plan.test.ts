import { describe, expect, it } from 'vitest';
import { planRedo, RedoRefused } from '../src/redo-plan.js';
import { checkJob, type Clip, type GenerateClipsResult, type ValidJob } from '../src/shared/model.js';
import { clipPrompts } from './support/env.js';

/** A job of 4 whose clip 2 failed, as its result says; clip 1 had a failed attempt before it passed. */
const original = checkJob({ jobId: 'song', clipPrompts: clipPrompts(4), options: { minClips: 4 } }) as { ok: true; job: ValidJob };

function clip(clipIndex: number): Clip {
  return {
    clipIndex,
    uri: `file:///out/song/clip_00${clipIndex}.mp4`,
    durationS: 2,
    width: 1280,
    height: 720,
    sizeBytes: 200_000,
    provider: 'local',
    model: 'clipflow/local-ffmpeg',
    costMicroUsd: 10_000,
    costUsd: 0.01,
    attempts: 1,
    generationTimeS: 1,
    contentCheck: { decodedFrames: 48, decodedS: 2, decodeErrors: 0, findings: [] },
    ...(clipIndex === 1
      ? { failedAttempts: [{ generation: 1, model: 'clipflow/local-ffmpeg', errorType: 'ValidationFailed', message: 'black' }] }
      : {}),
  };
}

const result = {
  jobId: 'song',
  clips: [0, 1, 3].map(clip),
  failures: [{ clipIndex: 2, errorType: 'ProviderFailed', message: 'no', attempts: 3, costMicroUsd: 0 }],
} as unknown as GenerateClipsResult;

const refusal = (run: () => unknown) => {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(RedoRefused);
    return (err as Error).message;
  }
  throw new Error('not refused');
};

describe('planRedo', () => {
  it('--failed keeps the good clips (without their failed attempts) and makes the failed one', () => {
    const input = planRedo(original.job, result, { failed: true }, 'song-redo-1');
    expect(input.clipPrompts.map((p) => p.clipIndex)).toEqual([0, 1, 2, 3]);
    expect(input.redo?.of).toBe('song');
    expect(input.redo?.keep.map((c) => c.clipIndex)).toEqual([0, 1, 3]);
    expect(input.redo?.keep[1]).not.toHaveProperty('failedAttempts');
    // The job's own schema accepts it, kept clips and all.
    expect(checkJob(input).ok).toBe(true);
  });

  it('--clips with new prompts: a good clip is made again from its new prompt; a failed one not chosen is left out', () => {
    const input = planRedo(original.job, result, { clips: [1], prompts: [{ clipIndex: 1, prompt: 'again' }] }, 'song-redo-1');
    expect(input.clipPrompts.map((p) => [p.clipIndex, p.prompt])).toEqual([
      [0, original.job.clipPrompts[0]!.prompt],
      [1, 'again'],
      [3, original.job.clipPrompts[3]!.prompt],
    ]);
    expect(input.redo?.keep.map((c) => c.clipIndex)).toEqual([0, 3]);
    // minClips 4 no longer fits a job of 3: it is cut to the job's size.
    expect(input.options?.minClips).toBe(3);
  });

  it('refuses with the reason', () => {
    expect(refusal(() => planRedo(original.job, result, { clips: [7] }, 'x'))).toBe('clip 7 is not in job song (its clips: 0, 1, 2, 3)');
    expect(refusal(() => planRedo(original.job, result, { clips: [1], failed: true }, 'x'))).toMatch(/not both/);
    expect(refusal(() => planRedo(original.job, result, {}, 'x'))).toMatch(/say which clips/);
    expect(refusal(() => planRedo(original.job, { ...result, failures: [] }, { failed: true }, 'x'))).toBe(
      'job song has no failed clips to redo',
    );
    expect(refusal(() => planRedo(original.job, result, { clips: [2], prompts: [{ clipIndex: 0, prompt: 'p' }] }, 'x'))).toMatch(
      /new prompt is given for clip 0, which is not being redone \(redoing 2\)/,
    );
    expect(refusal(() => planRedo(original.job, { ...result, batches: { count: 3, size: 800 } }, { failed: true }, 'x'))).toMatch(
      /ran in 3 batches: a redo of a job past one batch is not supported/,
    );
  });

  it('the workflow refuses a kept clip that is not one of the job, or a redo that keeps every clip', () => {
    const input = planRedo(original.job, result, { failed: true }, 'song-redo-1');
    const stray = checkJob({ ...input, redo: { of: 'song', keep: [...input.redo!.keep, { ...input.redo!.keep[0]!, clipIndex: 9 }] } });
    expect(stray.ok === false && stray.problems).toEqual([
      { field: 'redo.keep[3].clipIndex', message: "clip 9 is not among the job's clip prompts" },
    ]);
    const all = checkJob({ ...input, clipPrompts: input.clipPrompts.filter((p) => p.clipIndex !== 2), options: {} });
    expect(all.ok === false && all.problems.map((p) => p.message)).toEqual(['keeps every clip: a redo must make at least one']);
  });
});
