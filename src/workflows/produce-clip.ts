import type { JobSettings } from '../activities/types.js';
import type { ClipPrompt } from '../shared/model.js';
import { microsToUsd } from '../shared/money.js';
import { generationActivities, imageActivities } from './activities.js';
import type { ClipOutcome } from './clip-scheduler.js';
import { describeClipFailure, wantsFallback } from './failures.js';

/**
 * One clip: its reference image if it has one (a failed image leaves the clip text-only), then
 * generation on the primary model, then on the fallback model if the primary could not make it.
 * Never throws: the outcome says how it went.
 */
export async function produceClip(jobId: string, clip: ClipPrompt, settings: JobSettings): Promise<ClipOutcome> {
  let imagePath: string | undefined;
  let imageNote: string | undefined;
  if (clip.sceneReferenceUrl) {
    try {
      const image = await imageActivities(settings, clip.clipIndex).prepareImage({ jobId, clipIndex: clip.clipIndex, url: clip.sceneReferenceUrl });
      if (image.ok) imagePath = image.path;
      else imageNote = `reference image not used: ${image.reason}`;
    } catch (err) {
      return { ok: false, failure: describeClipFailure(clip.clipIndex, err, 1) };
    }
  }
  const image = { ...(imagePath ? { imagePath } : {}), ...(imageNote ? { imageNote } : {}) };
  const models = [settings.model, ...(settings.fallbackModel ? [settings.fallbackModel] : [])];

  let spentOnEarlierModels = 0;
  let outcome: ClipOutcome | undefined;
  for (const model of models) {
    try {
      const made = await generationActivities(settings, clip.clipIndex, model).generateClip({ jobId, clip, model, ...image });
      const costMicroUsd = made.costMicroUsd + spentOnEarlierModels;
      return { ok: true, clip: { ...made, costMicroUsd, costUsd: microsToUsd(costMicroUsd) } };
    } catch (err) {
      const failure = describeClipFailure(clip.clipIndex, err, settings.retry.maximumAttempts);
      spentOnEarlierModels += failure.costMicroUsd;
      outcome = { ok: false, failure: { ...failure, costMicroUsd: spentOnEarlierModels, message: `${model}: ${failure.message}` } };
      if (!wantsFallback(failure)) break;
    }
  }
  return outcome!;
}
