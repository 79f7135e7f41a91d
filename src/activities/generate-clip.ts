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
  /** Paid by earlier attempts of this clip; heartbeat details outlive the attempt that wrote them. */
  spentMicroUsd?: number;
}

/** What a failed attempt tells the workflow: which attempt it was and what the clip has cost so far. */
export interface ClipAttemptDetails {
  attempt: number;
  spentMicroUsd: number;
}

/** Carries what was paid out of the attempt that failed after paying. */
class PaidFailure extends Error {
  constructor(
    override readonly cause: unknown,
    readonly spentMicroUsd: number,
  ) {
    super('paid attempt failed');
  }
}

function spentSoFar(details: unknown): number {
  return (details as GenerateClipProgress | undefined)?.spentMicroUsd ?? 0;
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

  async function waitFor(prediction: Prediction, beat: (id: string) => void): Promise<Prediction> {
    const ctx = Context.current();
    let current = prediction;
    try {
      while (!TERMINAL_STATUSES.has(current.status)) {
        beat(current.id);
        // A provider that knows when the prediction ends answers at once; the sleep keeps the
        // heartbeat (and so cancellation) going while it runs. Others are polled.
        const wait = ctx.sleep(deps.pollIntervalMs);
        const ended = provider.settled ? await Promise.race([provider.settled(current.id), wait.then(() => undefined)]) : await wait;
        current = ended ?? (await provider.get(current.id));
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

    const previous = ctx.info.heartbeatDetails as GenerateClipProgress | undefined;
    const spentBefore = previous?.spentMicroUsd ?? 0;
    const beat = (predictionId: string, extra: Partial<GenerateClipProgress> = {}) =>
      ctx.heartbeat({ predictionId, model, spentMicroUsd: spentBefore, ...extra } satisfies GenerateClipProgress);

    let prediction = await resume(previous, model);
    if (prediction) {
      ctx.log.info('resuming prediction', { predictionId: prediction.id });
    } else {
      prediction = await provider.start(request);
      ctx.log.info('prediction created', { predictionId: prediction.id });
    }
    // Recorded at once: a crash from here on resumes this prediction instead of paying for another.
    beat(prediction.id);

    // Priced by the model as this clip asked for it (a provider may report it spelled otherwise).
    const finished = { ...(await waitFor(prediction, beat)), model };
    if (finished.status !== 'succeeded') {
      throw new ClipflowError(
        finished.errorType ?? ErrorType.ProviderFailed,
        `prediction ${finished.id} ended ${finished.status}${finished.error ? `: ${finished.error}` : ''}`,
      );
    }

    const file = clipPath(config.outputDir, jobId, clip.clipIndex);
    await mkdir(path.dirname(file), { recursive: true });
    const partial = `${file}.partial`;
    let paid = 0;
    try {
      await provider.saveOutput(finished, partial, MAX_OUTPUT_BYTES);
      const facts = await probe(partial);
      // Paid for once the prediction succeeded, whether or not the clip passes validation.
      paid = await recordCost(jobId, clip.clipIndex, finished, facts.durationS);
      checkClip(file, facts, config.generation);
      await rename(partial, file);
      const costMicroUsd = spentBefore + paid;
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
    } catch (err) {
      // An output refused before its cost was read (too large, unreadable) was still paid for.
      if (paid === 0) paid = await recordCost(jobId, clip.clipIndex, finished, clip.durationS).catch(() => 0);
      if (err instanceof ClipflowError && err.type === ErrorType.ValidationFailed) {
        beat(finished.id, { rejected: true, spentMicroUsd: spentBefore + paid });
      }
      throw new PaidFailure(err, spentBefore + paid);
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
    } catch (thrown) {
      if (thrown instanceof CancelledFailure) {
        // Still a cancellation, now telling the workflow what the clip had cost.
        const spent = spentSoFar(ctx.info.heartbeatDetails);
        throw new CancelledFailure(thrown.message, [{ attempt, spentMicroUsd: spent } satisfies ClipAttemptDetails]);
      }
      const spent = thrown instanceof PaidFailure ? thrown.spentMicroUsd : spentSoFar(ctx.info.heartbeatDetails);
      const err = thrown instanceof PaidFailure ? thrown.cause : thrown;
      const failure = toApplicationFailure(err, [{ attempt, spentMicroUsd: spent } satisfies ClipAttemptDetails]);
      ctx.log.warn('clip attempt failed', { ...scope, type: failure.type, error: failure.message });
      throw failure;
    }
  };
}
