import type { JobSettings } from '../shared/activity-io.js';
import { describeClipFailure, wantsFallback } from '../shared/failures.js';
import type { ClipPrompt } from '../shared/model.js';
import { generationActivities, imageActivities } from './activity-options.js';
import type { ClipOutcome } from './clip-scheduler.js';

/**
 * One clip: its reference image if it has one (a failed image leaves the clip text-only), then
 * generation on the primary model, then on the fallback model if the primary could not make it.
 * Never throws: the outcome says how it went.
 */
export async function produceClip(jobId: string, clip: ClipPrompt, settings: JobSettings): Promise<ClipOutcome> {
  let imageUri: string | undefined;
  let imageNote: string | undefined;
  if (clip.sceneReferenceUrl) {
    try {
      const image = await imageActivities(settings, clip.clipIndex).prepareImage({
        jobId,
        clipIndex: clip.clipIndex,
        url: clip.sceneReferenceUrl,
      });
      if (image.ok) imageUri = image.uri;
      else imageNote = `reference image not used: ${image.reason}`;
    } catch (err) {
      return { ok: false, failure: describeClipFailure(clip.clipIndex, err) };
    }
  }
  const image = { ...(imageUri ? { imageUri } : {}), ...(imageNote ? { imageNote } : {}) };
  const models = [settings.model, ...(settings.fallbackModel ? [settings.fallbackModel] : [])];

  // The activity carries the clip's spend from model to model; its outcome is the clip's total.
  let outcome: ClipOutcome = { ok: false, failure: describeClipFailure(clip.clipIndex, new Error('no model to generate with')) };
  for (const model of models) {
    const spentMicroUsd: number = outcome.ok ? 0 : outcome.failure.costMicroUsd;
    const failedAttempts = outcome.ok ? undefined : outcome.failure.failedAttempts;
    try {
      const input = {
        jobId,
        clip,
        model,
        maxGenerations: settings.retry.maxGenerations,
        spentMicroUsd,
        ...(failedAttempts ? { failedAttempts } : {}),
        ...image,
      };
      return { ok: true, clip: await generationActivities(settings, clip.clipIndex, model).generateClip(input) };
    } catch (err) {
      const failure = describeClipFailure(clip.clipIndex, err);
      outcome = {
        ok: false,
        failure: {
          ...failure,
          model,
          costMicroUsd: Math.max(failure.costMicroUsd, spentMicroUsd),
          message: `${model}: ${failure.message}`,
        },
      };
      if (!wantsFallback(failure)) break;
    }
  }
  return outcome;
}
