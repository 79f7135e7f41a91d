import { z } from 'zod';

/** Data shared by client, workflow and activities. Money travels as integer micro-dollars. */

export const MAX_PROMPT_CHARS = 2000;
export const MAX_CLIPS_PER_JOB = 5000;
export const MAX_CLIP_DURATION_S = 60;

export const AspectRatio = z.enum(['16:9', '9:16', '1:1', '4:3', '3:4', '21:9']);
export type AspectRatio = z.infer<typeof AspectRatio>;

const httpUrl = z
  .string()
  .max(2048, 'must be at most 2048 characters')
  .refine((value) => {
    try {
      const url = new URL(value);
      return url.protocol === 'http:' || url.protocol === 'https:';
    } catch {
      return false;
    }
  }, 'must be an http or https URL');

export const ClipPrompt = z.object({
  clipIndex: z.number().int('must be an integer').min(0, 'must be 0 or more').max(99_999, 'must be at most 99999'),
  prompt: z.string().trim().min(1, 'must not be empty').max(MAX_PROMPT_CHARS, `must be at most ${MAX_PROMPT_CHARS} characters`),
  negativePrompt: z.string().max(MAX_PROMPT_CHARS, `must be at most ${MAX_PROMPT_CHARS} characters`).optional(),
  durationS: z.number().positive('must be greater than 0').max(MAX_CLIP_DURATION_S, `must be at most ${MAX_CLIP_DURATION_S} seconds`),
  aspectRatio: AspectRatio.default('16:9'),
  sceneReferenceUrl: httpUrl.optional(),
});
export type ClipPrompt = z.infer<typeof ClipPrompt>;

/** A job's budget in dollars, set at start (options.budgetUsd) or raised later (the raiseBudget update). */
export const BudgetUsd = z.number().positive('must be greater than 0').max(100_000, 'must be at most 100000');

/** What a job id may be: it names the workflow and the job's outputs folder, so never a path. */
export const JobId = z
  .string()
  .min(1, 'must not be empty')
  .max(128, 'must be at most 128 characters')
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'may contain only letters, digits, ".", "_" and "-", and must start with a letter or digit');

export const JobOptions = z
  .object({
    concurrency: z.number().int('must be an integer').min(1, 'must be at least 1').max(100, 'must be at most 100'),
    minClips: z.number().int('must be an integer').min(1, 'must be at least 1'),
    budgetUsd: BudgetUsd,
  })
  .partial()
  .strict();
export type JobOptions = z.infer<typeof JobOptions>;

export const GenerateClipsInput = z
  .object({
    jobId: JobId,
    clipPrompts: z
      .array(ClipPrompt)
      .min(1, 'must contain at least one clip prompt')
      .max(MAX_CLIPS_PER_JOB, `must contain at most ${MAX_CLIPS_PER_JOB} clip prompts`),
    options: JobOptions.optional(),
  })
  .superRefine((input, ctx) => {
    const seen = new Map<number, number>();
    input.clipPrompts.forEach((clip, position) => {
      const first = seen.get(clip.clipIndex);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['clipPrompts', position, 'clipIndex'],
          message: `duplicate clipIndex ${clip.clipIndex} (also at clipPrompts[${first}])`,
        });
      } else {
        seen.set(clip.clipIndex, position);
      }
    });
    const minClips = input.options?.minClips;
    if (minClips !== undefined && minClips > input.clipPrompts.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['options', 'minClips'],
        message: `is ${minClips} but the job has only ${input.clipPrompts.length} clip prompts`,
      });
    }
  });
export type GenerateClipsInput = z.input<typeof GenerateClipsInput>;
export type ValidJob = z.output<typeof GenerateClipsInput>;

export interface Clip {
  clipIndex: number;
  /** Where the clip is in the artifact store. */
  uri: string;
  /** Its path on disk, when the store is a local directory. */
  path?: string;
  durationS: number;
  width: number;
  height: number;
  sizeBytes: number;
  provider: string;
  model: string;
  /** Everything paid for this clip, failed attempts included. */
  costMicroUsd: number;
  costUsd: number;
  attempts: number;
  generationTimeS: number;
  /** Why a prepared reference image was not used, when the prompt had one. */
  imageNote?: string;
}

export interface ClipFailure {
  clipIndex: number;
  errorType: string;
  message: string;
  attempts: number;
  /** What the clip's attempts were charged although no clip came of them. */
  costMicroUsd: number;
}

export interface BudgetSummary {
  limitMicroUsd: number;
  spentBeforeJobMicroUsd: number;
  estimatedMicroUsd: number;
  actualMicroUsd: number;
  peakReservedMicroUsd: number;
  skippedForBudget: number[];
  cancelledForBudget: number[];
  perModel: { model: string; clips: number; estimatedMicroUsd: number; actualMicroUsd: number }[];
}

export interface GenerateClipsResult {
  jobId: string;
  clips: Clip[];
  failures: ClipFailure[];
  totalClips: number;
  successfulClips: number;
  failedClips: number;
  totalCostMicroUsd: number;
  totalCostUsd: number;
  totalGenerationTimeS: number;
  /** Clips stopped because the job was cancelled. */
  cancelledClips: number[];
  budget: BudgetSummary;
  /** production_report.json in the artifact store. */
  reportUri: string;
  /** Its path on disk, when the store is a local directory. */
  reportPath?: string;
}

export interface JobProgress {
  jobId: string;
  stage: 'validating' | 'budget' | 'generating' | 'reporting' | 'done';
  total: number;
  done: number;
  failed: number;
  running: number;
  spentMicroUsd: number;
  spentUsd: number;
  percent: number;
}

/** Turns zod issues into one message that names each bad field, e.g. `clipPrompts[2].durationS`. */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): { fields: string[]; message: string } {
  const parts = issues.map((issue) => {
    const field = formatPath(issue.path);
    return { field, text: `${field || '(input)'}: ${issue.message}` };
  });
  return { fields: parts.map((p) => p.field), message: parts.map((p) => p.text).join('; ') };
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, key) => {
    if (typeof key === 'number') return `${acc}[${key}]`;
    return acc ? `${acc}.${String(key)}` : String(key);
  }, '');
}
