import { clipLimitsFor } from '../activities/job-settings.js';
import type { Config } from '../config/index.js';
import { MAX_CLIPS_SETTING, type ValidJob } from '../shared/model.js';
import { printable } from '../shared/text.js';
import { checkJobFile, fileName, jobFileError, problemForFile, type JobFileCheck } from './job-file.js';

/** `validate` prints at most this many problems, then counts the rest. */
export const MAX_PRINTED_PROBLEMS = 50;

/**
 * Checks a job file exactly as the workflow will: the same schema, then what this environment's
 * validation and its provider's model accept (the limits the worker's jobSettings returns).
 */
export async function checkJobFileFor(config: Config, file: string, jobId?: string): Promise<JobFileCheck> {
  const limits = clipLimitsFor(config.generation);
  const count = { maxClips: config.job.maxClips, setting: MAX_CLIPS_SETTING };
  const checked = await checkJobFile(file, { limits, count, ...(jobId !== undefined ? { jobId } : {}) });
  if (!limits.misconfigured) return checked;
  return { problems: [{ field: '(environment)', message: printable(limits.misconfigured, 300) }, ...checked.problems] };
}

/** The job of a file that passes the check; otherwise a UsageError naming the first problems on one line. */
export async function readCheckedJobFile(config: Config, file: string, jobId?: string): Promise<ValidJob> {
  const { job, problems } = await checkJobFileFor(config, file, jobId);
  if (job) return job;
  throw jobFileError(file, problems);
}

/** `clipflow validate FILE [--json]`: one line per problem (at most MAX_PRINTED_PROBLEMS), exit 0 or 2. */
export async function validateCommand(config: Config, file: string, json: boolean, out: (text: string) => void): Promise<number> {
  const { job, problems } = await checkJobFileFor(config, file);
  const shown = problems.slice(0, MAX_PRINTED_PROBLEMS);
  const rest = problems.length - shown.length;
  if (json) {
    out(
      JSON.stringify({
        file,
        ok: !!job,
        ...(job ? { jobId: job.jobId, clips: job.clipPrompts.length } : {}),
        problems: shown,
        problemCount: problems.length,
      }),
    );
  } else if (job) {
    out(
      `${fileName(file)}: ok: job ${job.jobId}, ${job.clipPrompts.length} clip${job.clipPrompts.length === 1 ? '' : 's'}, for ${clipLimitsFor(config.generation).acceptedBy}`,
    );
  } else {
    const lines = shown.map((p) => problemForFile(file, p));
    if (rest > 0) lines.push(`${fileName(file)}: and ${rest} more problem${rest === 1 ? '' : 's'} (${problems.length} in all)`);
    out(lines.join('\n'));
  }
  return job ? 0 : 2;
}
