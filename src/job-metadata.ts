import type { Config } from './config/index.js';
import type { ValidJob } from './shared/model.js';
import { formatUsd, usdToMicros } from './shared/money.js';

/**
 * What the Temporal Web UI shows of a job before it has run a step: its workflow's static summary
 * (one line) and details (markdown). Set once at start, from the job and the starting client's
 * configuration for what the job leaves to defaults.
 */

/** The defaults a job falls back on, as the client's configuration names them (the worker's are the same when both read one environment). */
export interface JobMetadataSettings {
  environment: string;
  provider: string;
  model: string;
  fallbackModel?: string;
  budgetLimitMicroUsd: number;
  minClips: number;
  concurrency: number;
}

export function jobMetadataSettings(config: Pick<Config, 'environment' | 'generation' | 'job'>): JobMetadataSettings {
  const { generation, job } = config;
  return {
    environment: config.environment,
    provider: generation.provider,
    model: generation.model,
    ...(generation.fallbackModel ? { fallbackModel: generation.fallbackModel } : {}),
    budgetLimitMicroUsd: job.budgetLimitMicroUsd,
    minClips: job.minClips,
    concurrency: job.concurrency,
  };
}

/** The summary is one short line in a list of workflows, whatever the job id's length. */
const SUMMARY_ID_CHARS = 60;

export function jobMetadata(job: ValidJob, settings?: JobMetadataSettings): { staticSummary: string; staticDetails: string } {
  const clips = job.clipPrompts.length;
  const { budgetUsd, minClips, concurrency } = job.options ?? {};
  // As the worker's jobSettings decides: the job's options first, then the defaults (min clips capped at the job's size).
  const budget = budgetUsd !== undefined ? usdToMicros(budgetUsd) : settings?.budgetLimitMicroUsd;
  const min = minClips ?? (settings ? Math.min(settings.minClips, clips) : undefined);
  const parallel = concurrency ?? settings?.concurrency;
  const seconds = job.clipPrompts.reduce((sum, clip) => sum + clip.durationS, 0);
  const withImage = job.clipPrompts.filter((clip) => clip.sceneReferenceUrl).length;
  const unknown = "the worker's default";
  const shownBudget = budget !== undefined ? formatUsd(budget) : unknown;
  const model = settings ? `${settings.provider}/${settings.model}` : undefined;
  const id = job.jobId.length > SUMMARY_ID_CHARS ? `${job.jobId.slice(0, SUMMARY_ID_CHARS)}…` : job.jobId;

  const redo = job.redo && `redo of ${job.redo.of} (${job.redo.keep.length} kept)`;
  const staticSummary = [
    `${id}: ${clips} clip${clips === 1 ? '' : 's'}`,
    redo,
    settings?.environment,
    model,
    `budget ${shownBudget}`,
    min !== undefined ? `min ${min}` : undefined,
  ]
    .filter(Boolean)
    .join(' · ');
  const staticDetails = [
    `**clipflow job** \`${job.jobId}\``,
    '',
    `- **clips**: ${clips} (${seconds.toFixed(1)} s of video in all; ${withImage} with a reference image)`,
    ...(job.redo
      ? [`- **redo of**: \`${job.redo.of}\`, keeping clips ${job.redo.keep.map((c) => c.clipIndex).join(', ') || 'none'} as they were`]
      : []),
    `- **environment**: ${settings?.environment ?? unknown}`,
    `- **provider / model**: ${model ? `\`${model}\`` : unknown}${settings?.fallbackModel ? ` (fallback \`${settings.fallbackModel}\`)` : ''}`,
    `- **budget**: ${shownBudget}${budgetUsd !== undefined ? ' (set by the job)' : ''}`,
    `- **min clips**: ${min ?? unknown} of ${clips}`,
    `- **concurrency**: ${parallel ?? unknown}`,
    '',
    'Progress is in the current details; the `progress` query answers at any moment.',
  ].join('\n');
  return { staticSummary, staticDetails };
}
