import { ApplicationFailure, CancellationScope, isCancellation } from '@temporalio/workflow';
import type { JobSettings } from '../activities/types.js';
import { ErrorType } from '../shared/errors.js';
import type { Clip, ClipFailure, ClipPrompt, GenerateClipsInput, GenerateClipsResult } from '../shared/model.js';
import { microsToUsd, sumMicros } from '../shared/money.js';
import { checkBudget, generationActivities, imageActivities, jobSettings, writeReport } from './activities.js';
import { describeClipFailure } from './failures.js';
import { forEachWithLimit } from './limit.js';
import { ProgressTracker } from './progress.js';
import { validateJob } from './validate.js';

/**
 * Turns a job's clip prompts into validated clips: validate, check the budget, then per clip
 * prepare its reference image and generate it (at most `concurrency` at once), report, and
 * succeed when at least `minClips` clips were made.
 */
export async function generateClips(input: GenerateClipsInput): Promise<GenerateClipsResult> {
  const job = validateJob(input);
  const progress = new ProgressTracker(job.jobId, job.clipPrompts.length);
  const settings = await jobSettings({ options: job.options, clipCount: job.clipPrompts.length });

  progress.stage('budget');
  const budget = await checkBudget({
    jobId: job.jobId,
    clips: job.clipPrompts.map(({ clipIndex, durationS }) => ({ clipIndex, durationS })),
    model: settings.model,
    budgetLimitMicroUsd: settings.budgetLimitMicroUsd,
  });

  progress.stage('generating');
  const started = Date.now();
  const clips: Clip[] = [];
  const failures: ClipFailure[] = [];
  let cancelled: unknown;
  try {
    await forEachWithLimit(job.clipPrompts, settings.concurrency, async (clip) => {
      progress.clipStarted();
      try {
        const made = await produceClip(job.jobId, clip, settings);
        clips.push(made);
        progress.clipSucceeded(made.costMicroUsd);
      } catch (err) {
        if (isCancellation(err)) cancelled ??= err;
        failures.push(describeClipFailure(clip.clipIndex, err, settings.retry.maximumAttempts));
        progress.clipFailed();
      }
    });
  } finally {
    progress.stage('reporting');
  }

  const result = summarize(job.jobId, job.clipPrompts.length, clips, failures, (Date.now() - started) / 1000);
  // The report is written even when the job is being cancelled.
  result.reportPath = await CancellationScope.nonCancellable(() =>
    writeReport({
      jobId: job.jobId,
      clipPrompts: job.clipPrompts.map(({ clipIndex }) => ({ clipIndex })),
      clips: result.clips,
      failures: result.failures,
      totalCostMicroUsd: result.totalCostMicroUsd,
      totalGenerationTimeS: result.totalGenerationTimeS,
      minClips: settings.minClips,
      budget,
    }),
  );
  progress.stage('done');

  if (cancelled) throw cancelled;
  if (result.successfulClips < settings.minClips) {
    throw ApplicationFailure.create({
      type: ErrorType.InsufficientClips,
      message:
        `job ${job.jobId}: only ${result.successfulClips} of ${result.totalClips} clips succeeded ` +
        `(${result.failedClips} failed); at least ${settings.minClips} are required`,
      nonRetryable: true,
      details: [result],
    });
  }
  return result;
}

/** One clip: its reference image if it has one (a failed image leaves the clip text-only), then generation. */
async function produceClip(jobId: string, clip: ClipPrompt, settings: JobSettings): Promise<Clip> {
  let imagePath: string | undefined;
  let imageNote: string | undefined;
  if (clip.sceneReferenceUrl) {
    const image = await imageActivities(settings).prepareImage({ jobId, clipIndex: clip.clipIndex, url: clip.sceneReferenceUrl });
    if (image.ok) imagePath = image.path;
    else imageNote = `reference image not used: ${image.reason}`;
  }
  return generationActivities(settings).generateClip({
    jobId,
    clip,
    model: settings.model,
    ...(imagePath ? { imagePath } : {}),
    ...(imageNote ? { imageNote } : {}),
  });
}

function summarize(
  jobId: string,
  totalClips: number,
  clips: Clip[],
  failures: ClipFailure[],
  totalGenerationTimeS: number,
): GenerateClipsResult {
  const byIndex = <T extends { clipIndex: number }>(a: T, b: T) => a.clipIndex - b.clipIndex;
  const totalCostMicroUsd = sumMicros(clips.map((c) => c.costMicroUsd));
  return {
    jobId,
    clips: [...clips].sort(byIndex),
    failures: [...failures].sort(byIndex),
    totalClips,
    successfulClips: clips.length,
    failedClips: failures.length,
    totalCostMicroUsd,
    totalCostUsd: microsToUsd(totalCostMicroUsd),
    totalGenerationTimeS,
    reportPath: '',
  };
}
