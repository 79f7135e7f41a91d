import type { JobSettings } from '../shared/activity-io.js';
import { describeClipFailure, FailureType, wantsFallback } from '../shared/failures.js';
import type { ClipFailure, ClipPrompt, FallbackNote } from '../shared/model.js';
import type { AccountSlots } from './account-slot.js';
import { generationActivities, imageActivities } from './activity-options.js';
import type { ClipOutcome } from './clip-scheduler.js';

/**
 * One clip: its reference image if it has one (a failed image leaves the clip text-only), then
 * generation on the primary (provider, model), then on the fallback's if the primary could not make
 * it, within the clip's one budget reservation.
 * Never throws: the outcome says how it went.
 */
export async function produceClip(jobId: string, clip: ClipPrompt, settings: JobSettings, slots: AccountSlots): Promise<ClipOutcome> {
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
  // The activity carries the clip's spend from target to target; its outcome is the clip's total.
  let outcome: ClipOutcome = { ok: false, failure: describeClipFailure(clip.clipIndex, new Error('no model to generate with')) };
  let fallback: FallbackNote | undefined;
  for (const { provider, model } of clipTargets(settings)) {
    const spentMicroUsd: number = outcome.ok ? 0 : outcome.failure.costMicroUsd;
    const failedAttempts = outcome.ok ? undefined : outcome.failure.failedAttempts;
    try {
      const input = {
        jobId,
        clip,
        provider,
        model,
        maxGenerations: settings.retry.maxGenerations,
        spentMicroUsd,
        ...(failedAttempts ? { failedAttempts } : {}),
        ...image,
      };
      // The summary names the provider only when it is not the job's, as it read before fallbacks across providers.
      const label = provider === settings.provider ? model : `${provider} · ${model}`;
      const made = await slots.within(provider, clip.clipIndex, () =>
        generationActivities(settings, clip.clipIndex, label).generateClip(input),
      );
      return { ok: true, clip: fallback ? { ...made, fallback } : made };
    } catch (err) {
      const failure = describeClipFailure(clip.clipIndex, err);
      outcome = {
        ok: false,
        failure: {
          ...failure,
          provider,
          model,
          costMicroUsd: Math.max(failure.costMicroUsd, spentMicroUsd),
          message: `${model}: ${failure.message}`,
          ...(fallback ? { fallback } : {}),
        },
      };
      if (!goesToFallback(failure, settings)) break;
      fallback ??= { fromProvider: provider, fromModel: model, errorType: failure.errorType, message: failure.message };
    }
  }
  return outcome;
}

/** What a clip is tried on, in order: the primary (provider, model), then the fallback's. */
function clipTargets(settings: JobSettings): { provider: string; model: string }[] {
  const primary = { provider: settings.provider, model: settings.model };
  if (!settings.fallbackModel) return [primary];
  return [primary, { provider: settings.fallbackProvider ?? settings.provider, model: settings.fallbackModel }];
}

/** The failure table decides, except that a job may send content rejections on as well. */
function goesToFallback(failure: ClipFailure, settings: JobSettings): boolean {
  return wantsFallback(failure) || (failure.errorType === FailureType.ContentRejected && settings.fallbackOnContentRejected === true);
}
