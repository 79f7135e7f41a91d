import type { ActivityDeps } from './deps.js';
import type { JobSettings, JobSettingsInput } from '../shared/activity-io.js';
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
      provider: generation.provider,
      model: generation.model,
      searchAttributes: config.temporal.searchAttributes,
      ...(generation.fallbackModel ? { fallbackModel: generation.fallbackModel } : {}),
    };
  };
}
