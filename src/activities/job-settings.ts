import type { ActivityDeps } from './deps.js';
import type { Config } from '../config/index.js';
import { modelLimits } from '../providers/create-provider.js';
import type { JobSettings, JobSettingsInput } from '../shared/activity-io.js';
import type { ClipLimits } from '../shared/clip-limits.js';
import { MAX_CLIP_DURATION_S } from '../shared/model.js';
import { usdToMicros } from '../shared/money.js';

export function createJobSettings({ config }: Pick<ActivityDeps, 'config'>) {
  return async function jobSettings({ options, clipCount }: JobSettingsInput): Promise<JobSettings> {
    const { job, generation } = config;
    return {
      environment: config.environment,
      concurrency: options?.concurrency ?? job.concurrency,
      // A default larger than the job cannot be met; an explicit one was validated against it.
      minClips: options?.minClips ?? Math.min(job.minClips, clipCount),
      budgetLimitMicroUsd: options?.budgetUsd !== undefined ? usdToMicros(options.budgetUsd) : job.budgetLimitMicroUsd,
      clipTimeoutS: job.clipTimeoutS,
      heartbeatTimeoutS: job.heartbeatTimeoutS,
      retry: job.retry,
      maxClips: job.maxClips,
      batchSize: job.batchSize,
      batchWindow: job.batchWindow,
      provider: generation.provider,
      model: generation.model,
      searchAttributes: config.temporal.searchAttributes,
      clipLimits: clipLimitsFor(generation),
      ...accountLimited(config),
      ...(generation.fallbackModel
        ? {
            fallbackModel: generation.fallbackModel,
            fallbackProvider: generation.fallbackProvider,
            fallbackOnContentRejected: generation.fallbackOnContentRejected,
          }
        : {}),
    };
  };
}

/**
 * What a clip may ask for in this environment: at least the duration its validation requires, and
 * what the provider's model makes. The worker's jobSettings and `clipflow validate` both use it.
 */
export function clipLimitsFor(generation: Config['generation']): ClipLimits {
  const { provider, model, minDurationS, minShortSide } = generation;
  const known = modelLimits(provider, model, generation.shortSide);
  const acceptedBy = provider === 'local' ? `the local provider (${model})` : `${provider} model ${model}`;
  const limits: ClipLimits = {
    acceptedBy,
    minDurationS,
    maxDurationS: Math.min(known.maxDurationS ?? MAX_CLIP_DURATION_S, MAX_CLIP_DURATION_S),
  };
  if (known.durationsS) limits.durationsS = known.durationsS;
  if (known.aspectRatios) limits.aspectRatios = known.aspectRatios;
  if (known.shortSidePx !== undefined && known.shortSidePx < minShortSide) {
    limits.misconfigured =
      `${acceptedBy} makes frames with a ${known.shortSidePx} px short side, under the ${minShortSide} px that validation ` +
      `requires (VIDEO_MIN_SHORT_SIDE): every clip would be paid for and then fail`;
  }
  return limits;
}

/** The job's providers whose account has a limit (absent when none has: the job's history stays as it was). */
function accountLimited({ generation, accountLimits }: Pick<Config, 'generation' | 'accountLimits'>): { accountLimited?: string[] } {
  const used = new Set([generation.provider, ...(generation.fallbackModel ? [generation.fallbackProvider] : [])]);
  const limited = [...used].filter((p) => accountLimits.limits[p] !== undefined);
  return limited.length > 0 ? { accountLimited: limited } : {};
}
