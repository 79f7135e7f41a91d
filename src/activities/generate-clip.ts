import { rename, rm, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { CancelledFailure, Context } from '@temporalio/activity';
import { actualClipCost, priceFor } from '../cost/prices.js';
import { VIDEO_STAGE } from '../cost/tracker.js';
import { frameSize } from '../media/dimensions.js';
import { checkClip } from '../media/probe.js';
import type { Prediction, PredictionRequest } from '../providers/provider.js';
import { TERMINAL_STATUSES } from '../providers/provider.js';
import { ClipflowError, ErrorType, toApplicationFailure } from '../shared/errors.js';
import type { Clip } from '../shared/model.js';
import { microsToUsd } from '../shared/money.js';
import type { ActivityDeps } from './deps.js';
import { clipPath } from './paths.js';
import type { GenerateClipInput } from './types.js';

/** What the activity heartbeats, so a retried or resumed attempt finds its prediction again. */
export interface GenerateClipProgress {
  predictionId: string;
  model: string;
  /** Its output was refused (validation, size): a retry must make a new one, not take this up again. */
  rejected?: boolean;
}

/** Generated outputs larger than this are refused rather than filling the disk. */
const MAX_OUTPUT_BYTES = 2_000_000_000;

export function createGenerateClip(deps: Pick<ActivityDeps, 'provider' | 'probe' | 'costTracker' | 'config' | 'pollIntervalMs'>) {
  const { provider, probe, costTracker, config } = deps;

  async function resume(progress: GenerateClipProgress | undefined, model: string): Promise<Prediction | undefined> {
    if (!progress || progress.model !== model || progress.rejected) return undefined;
    try {
      const found = await provider.get(progress.predictionId);
      // A prediction still running or already paid for is taken up again; anything else starts anew.
      return found.status === 'succeeded' || !TERMINAL_STATUSES.has(found.status) ? found : undefined;
    } catch (err) {
      // Only a prediction the provider does not know is replaced; on any other error (rate limit,
      // outage) this attempt fails and the next one looks again, rather than paying twice.
      if (err instanceof ClipflowError && err.type === ErrorType.PredictionNotFound) return undefined;
      throw err;
    }
  }

  async function waitFor(prediction: Prediction): Promise<Prediction> {
    const ctx = Context.current();
    let current = prediction;
    try {
      while (!TERMINAL_STATUSES.has(current.status)) {
        ctx.heartbeat({ predictionId: current.id, model: current.model } satisfies GenerateClipProgress);
        await ctx.sleep(deps.pollIntervalMs);
        current = await provider.get(current.id);
      }
      return current;
    } catch (err) {
      if (err instanceof CancelledFailure || ctx.cancellationSignal.aborted) {
        // Stop the provider's meter before giving up.
        await provider.cancel(current.id).catch(() => undefined);
      }
      throw err;
    }
  }

  async function recordCost(jobId: string, clipIndex: number, prediction: Prediction, outputDurationS: number) {
    const amountMicroUsd = actualClipCost(priceFor(config.prices, prediction.model), {
      outputDurationS,
      ...(prediction.predictTimeS !== undefined ? { predictTimeS: prediction.predictTimeS } : {}),
    });
    await costTracker.record({ jobId, stage: VIDEO_STAGE, clipIndex, key: prediction.id, amountMicroUsd, model: prediction.model });
    return amountMicroUsd;
  }

  async function produce(input: GenerateClipInput, attempt: number): Promise<Clip> {
    const ctx = Context.current();
    const { jobId, clip, model } = input;
    const started = Date.now();
    const { width, height } = frameSize(clip.aspectRatio, config.generation.shortSide);
    const request: PredictionRequest = {
      jobId,
      clipIndex: clip.clipIndex,
      attempt,
      model,
      prompt: clip.prompt,
      ...(clip.negativePrompt ? { negativePrompt: clip.negativePrompt } : {}),
      durationS: clip.durationS,
      aspectRatio: clip.aspectRatio,
      width,
      height,
      fps: config.generation.fps,
      ...(input.imagePath ? { imagePath: input.imagePath } : {}),
      deadlineS: config.job.clipTimeoutS,
    };

    let prediction = await resume(ctx.info.heartbeatDetails as GenerateClipProgress | undefined, model);
    if (prediction) {
      ctx.log.info('resuming prediction', { predictionId: prediction.id });
    } else {
      prediction = await provider.start(request);
      ctx.log.info('prediction created', { predictionId: prediction.id });
    }
    // Recorded at once: a crash from here on resumes this prediction instead of paying for another.
    ctx.heartbeat({ predictionId: prediction.id, model } satisfies GenerateClipProgress);

    const finished = await waitFor(prediction);
    if (finished.status !== 'succeeded') {
      throw new ClipflowError(
        finished.errorType ?? ErrorType.ProviderFailed,
        `prediction ${finished.id} ended ${finished.status}${finished.error ? `: ${finished.error}` : ''}`,
      );
    }

    const file = clipPath(config.outputDir, jobId, clip.clipIndex);
    await mkdir(path.dirname(file), { recursive: true });
    const partial = `${file}.partial`;
    try {
      let costMicroUsd: number;
      let facts: Awaited<ReturnType<typeof probe>>;
      try {
        await provider.saveOutput(finished, partial, MAX_OUTPUT_BYTES);
        facts = await probe(partial);
        // Paid for once the prediction succeeded, whether or not the clip passes validation.
        costMicroUsd = await recordCost(jobId, clip.clipIndex, finished, facts.durationS);
        checkClip(file, facts, config.generation);
      } catch (err) {
        if (err instanceof ClipflowError && err.type === ErrorType.ValidationFailed) {
          ctx.heartbeat({ predictionId: finished.id, model, rejected: true } satisfies GenerateClipProgress);
        }
        throw err;
      }
      await rename(partial, file);
      return {
        clipIndex: clip.clipIndex,
        path: file,
        durationS: facts.durationS,
        width: facts.width,
        height: facts.height,
        sizeBytes: facts.sizeBytes,
        provider: provider.name,
        model: finished.model,
        costMicroUsd,
        costUsd: microsToUsd(costMicroUsd),
        attempts: attempt,
        generationTimeS: (Date.now() - started) / 1000,
        ...(input.imageNote ? { imageNote: input.imageNote } : {}),
      };
    } finally {
      await rm(partial, { force: true });
    }
  }

  return async function generateClip(input: GenerateClipInput): Promise<Clip> {
    const ctx = Context.current();
    const attempt = ctx.info.attempt;
    const scope = { jobId: input.jobId, clipIndex: input.clip.clipIndex, attempt, model: input.model };
    ctx.log.info('generating clip', scope);
    try {
      const clip = await produce(input, attempt);
      ctx.log.info('clip ready', { ...scope, path: clip.path, costUsd: clip.costUsd });
      return clip;
    } catch (err) {
      if (err instanceof CancelledFailure) throw err;
      const failure = toApplicationFailure(err, [{ attempt }]);
      ctx.log.warn('clip attempt failed', { ...scope, type: failure.type, error: failure.message });
      throw failure;
    }
  };
}
