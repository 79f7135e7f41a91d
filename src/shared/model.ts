import { z } from 'zod';
import { clipLimitProblems, type ClipLimits } from './clip-limits.js';
import type { AttemptRecord, ContentCheckResult, ContentFinding } from './content.js';
import { findControlCharacter, hasVisibleText, nearestName, printable } from './text.js';

/** Data shared by client, workflow and activities. Money travels as integer micro-dollars. */

export const MAX_PROMPT_CHARS = 2000;
/** The sanity limit on a job's clips unless CLIPFLOW_MAX_CLIPS says otherwise. */
export const DEFAULT_MAX_CLIPS = 100_000;
/**
 * No configuration may allow more clips than this (nor clip indexes above it): 250 batches (the most
 * one job's workflow holds) of 800 clips (the most one batch's history holds with room to spare,
 * about 7 events a clip with a reference image).
 */
export const MAX_CLIPS_CEILING = 200_000;
/** The setting a refusal for too many clips names. */
export const MAX_CLIPS_SETTING = 'CLIPFLOW_MAX_CLIPS';
export const MAX_CLIP_DURATION_S = 60;

export const AspectRatio = z.enum(['16:9', '9:16', '1:1', '4:3', '3:4', '21:9']);
export type AspectRatio = z.infer<typeof AspectRatio>;

/** An object whose keys are all known: an unknown one is refused, naming the nearest known key. */
function strictObject<Shape extends z.core.$ZodLooseShape>(shape: Shape) {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (issue) => (issue.code === 'unrecognized_keys' ? unknownKeysMessage(issue.keys, known) : undefined),
  });
}

function unknownKeysMessage(keys: readonly string[], known: readonly string[]): string {
  const shown = keys.slice(0, 3).map((key) => ({ key, near: nearestName(key, known) }));
  const named = shown.map(({ key, near }) => `"${printable(key, 40)}"${near ? ` (did you mean "${near}"?)` : ''}`);
  const more = keys.length > shown.length ? ` and ${keys.length - shown.length} more` : '';
  const hint = shown.some(({ near }) => near) ? '' : ` (known: ${known.join(', ')})`;
  return `unknown key${keys.length > 1 ? 's' : ''} ${named.join(', ')}${more}${hint}`;
}

const httpUrl = z
  .string()
  .max(2048, 'must be at most 2048 characters')
  .refine((value) => !findControlCharacter(value) && !/[\t\n\r]/.test(value), 'must not contain control characters or line breaks')
  .refine((value) => {
    try {
      const url = new URL(value);
      return url.protocol === 'http:' || url.protocol === 'https:';
    } catch {
      return false;
    }
  }, 'must be an http or https URL');

/** Prompt text: no control characters (tab and line breaks are allowed), at most MAX_PROMPT_CHARS. */
const promptText = z
  .string()
  .max(MAX_PROMPT_CHARS, `must be at most ${MAX_PROMPT_CHARS} characters`)
  .superRefine((value, ctx) => {
    const control = findControlCharacter(value);
    if (control) ctx.addIssue({ code: 'custom', message: `must not contain control characters (found ${control})` });
  });

const clipShape = {
  clipIndex: z
    .number()
    .int('must be an integer')
    .min(0, 'must be 0 or more')
    .max(MAX_CLIPS_CEILING - 1, `must be at most ${MAX_CLIPS_CEILING - 1}`),
  prompt: promptText
    .refine((value) => value.trim().length > 0, 'must not be empty')
    .refine(
      (value) => value.trim().length === 0 || hasVisibleText(value),
      'must have a visible character (it holds only blanks or invisible ones)',
    )
    .transform((value) => value.trim()),
  negativePrompt: promptText.optional(),
  durationS: z.number().positive('must be greater than 0').max(MAX_CLIP_DURATION_S, `must be at most ${MAX_CLIP_DURATION_S} seconds`),
  aspectRatio: AspectRatio.default('16:9'),
  sceneReferenceUrl: httpUrl.optional(),
};

export const ClipPrompt = strictObject(clipShape);
export type ClipPrompt = z.infer<typeof ClipPrompt>;

/** A clip prompt that also fits `limits`: what this environment and its model accept. */
function clipPromptWithin(limits: ClipLimits) {
  return ClipPrompt.superRefine((clip, ctx) => {
    // zod runs this even when a field failed a check of its own: such a field is named once, by that check.
    const checked = {
      durationS: clipShape.durationS.safeParse(clip.durationS).success,
      aspectRatio: AspectRatio.safeParse(clip.aspectRatio).success,
    };
    for (const { key, message } of clipLimitProblems(clip, limits)) {
      if (checked[key as keyof typeof checked]) ctx.addIssue({ code: 'custom', path: [key], message });
    }
  });
}

/** A job's budget in dollars, set at start (options.budgetUsd) or raised later (the raiseBudget update). */
export const BudgetUsd = z.number().positive('must be greater than 0').max(100_000, 'must be at most 100000');

export const JOB_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
export const MAX_JOB_ID_CHARS = 128;

/** What a job id may be: it names the workflow and the job's outputs folder, so never a path. */
export const JobId = z
  .string()
  .min(1, 'must not be empty')
  .max(MAX_JOB_ID_CHARS, `must be at most ${MAX_JOB_ID_CHARS} characters`)
  .regex(JOB_ID_PATTERN, 'may contain only letters, digits, ".", "_" and "-", and must start with a letter or digit');

export const JobOptions = strictObject({
  concurrency: z.number().int('must be an integer').min(1, 'must be at least 1').max(100, 'must be at most 100'),
  minClips: z.number().int('must be an integer').min(1, 'must be at least 1'),
  budgetUsd: BudgetUsd,
}).partial();
export type JobOptions = z.infer<typeof JobOptions>;

/**
 * A clip a redo keeps from the job it redoes: made and paid for there, so not made again. Its
 * failed attempts stay in that job's report; the rest of the clip is carried as it was.
 */
const count = z.number().int().min(0);
export const KeptClip = strictObject({
  clipIndex: clipShape.clipIndex,
  uri: z.string().min(1).max(2048),
  path: z.string().max(4096).optional(),
  durationS: z.number().min(0),
  width: count,
  height: count,
  sizeBytes: count,
  provider: z.string().max(200),
  model: z.string().max(200),
  costMicroUsd: count,
  costUsd: z.number().min(0),
  attempts: count,
  generationTimeS: z.number().min(0),
  imageNote: z.string().max(2000).optional(),
  contentCheck: z
    .object({
      decodedFrames: count,
      decodedS: z.number(),
      decodeErrors: count,
      findings: z.array(z.custom<ContentFinding>()).max(0, 'must be empty: a kept clip passed its check'),
    })
    .optional(),
  posterUri: z.string().max(2048).optional(),
  stripUri: z.string().max(2048).optional(),
  /** The job that made it, when that job was itself a redo that kept it. */
  keptFrom: JobId.optional(),
  fallback: strictObject({
    fromProvider: z.string().max(200),
    fromModel: z.string().max(200),
    errorType: z.string().max(200),
    message: z.string(),
  }).optional(),
});

/** A redo of job `of`: the clips in `keep` are that job's, the job's other clips are made anew. */
export const Redo = strictObject({ of: JobId, keep: z.array(KeptClip).max(MAX_CLIPS_CEILING) });
export type Redo = z.infer<typeof Redo>;
export type KeptClip = z.input<typeof KeptClip>;

/** What a job may hold at most, and the setting that says so (named in the refusal). */
export interface ClipCountLimit {
  maxClips: number;
  setting: string;
}

/** The schema's own ceiling; the configured sanity limit (CLIPFLOW_MAX_CLIPS) is checked with the job's limits. */
export const CEILING: ClipCountLimit = { maxClips: MAX_CLIPS_CEILING, setting: 'the most any configuration allows' };

function tooManyClips({ maxClips, setting }: ClipCountLimit): string {
  return `must contain at most ${maxClips} clip prompts (${setting})`;
}

/** How many clips a job has, checked against `limit`. */
export function clipCount({ maxClips, setting }: ClipCountLimit = CEILING) {
  return z
    .number()
    .int('must be an integer')
    .min(1, 'must contain at least one clip prompt')
    .max(maxClips, tooManyClips({ maxClips, setting }));
}

/**
 * The job's schema; with `limits`, each clip must also fit what the environment and model accept,
 * and with `count` the job must hold no more clips than the configured sanity limit.
 * The workflow checks the schema before anything runs, then the limits its jobSettings gave it.
 */
export function jobSchema(limits?: ClipLimits, count: ClipCountLimit = CEILING) {
  return strictObject({
    jobId: JobId,
    clipPrompts: z
      .array(limits ? clipPromptWithin(limits) : ClipPrompt)
      .min(1, 'must contain at least one clip prompt')
      .max(count.maxClips, tooManyClips(count)),
    options: JobOptions.optional(),
    redo: Redo.optional(),
  }).superRefine((input, ctx) => {
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
    if (input.redo) checkRedo(input.redo, seen, ctx);
    const minClips = input.options?.minClips;
    if (minClips !== undefined && minClips > input.clipPrompts.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['options', 'minClips'],
        message: `is ${minClips} but the job has only ${input.clipPrompts.length} clip prompts`,
      });
    }
  });
}

/** A kept clip must be one of the job's clips, kept once; at least one clip must be left to make. */
function checkRedo(redo: Redo, prompts: ReadonlyMap<number, number>, ctx: z.core.$RefinementCtx): void {
  const kept = new Set<number>();
  redo.keep.forEach(({ clipIndex }, position) => {
    const path = ['redo', 'keep', position, 'clipIndex'];
    if (!prompts.has(clipIndex)) ctx.addIssue({ code: 'custom', path, message: `clip ${clipIndex} is not among the job's clip prompts` });
    else if (kept.has(clipIndex)) ctx.addIssue({ code: 'custom', path, message: `clip ${clipIndex} is kept twice` });
    else kept.add(clipIndex);
  });
  if (prompts.size > 0 && kept.size >= prompts.size) {
    ctx.addIssue({ code: 'custom', path: ['redo', 'keep'], message: 'keeps every clip: a redo must make at least one' });
  }
}

export const GenerateClipsInput = jobSchema();
export type GenerateClipsInput = z.input<typeof GenerateClipsInput>;
export type ValidJob = z.output<typeof GenerateClipsInput>;

/**
 * A job whose clip list is in the artifact store (the client puts it there when the list would
 * make the start input large): the workflow gets its URI and count, never the clips themselves.
 */
export function storedJobSchema(count: ClipCountLimit = CEILING) {
  return strictObject({
    jobId: JobId,
    clipList: strictObject({
      /** A JSON array of clip prompts in the store; its key names its content's hash, so it never changes. */
      uri: z.string().min(1).max(2048),
      clips: clipCount(count),
    }),
    options: JobOptions.optional(),
  }).superRefine((input, ctx) => {
    const minClips = input.options?.minClips;
    if (minClips !== undefined && minClips > input.clipList.clips) {
      ctx.addIssue({
        code: 'custom',
        path: ['options', 'minClips'],
        message: `is ${minClips} but the job has only ${input.clipList.clips} clip prompts`,
      });
    }
  });
}

export const StoredJobInput = storedJobSchema();
export type StoredJobInput = z.input<typeof StoredJobInput>;
export type ValidStoredJob = z.output<typeof StoredJobInput>;

/** What the generateClips workflow is started with: the clips themselves, or their list's URI. */
export type JobInput = GenerateClipsInput | StoredJobInput;
export type ValidJobInput = ValidJob | ValidStoredJob;

export function isStoredJob(job: ValidJobInput): job is ValidStoredJob {
  return 'clipList' in job;
}

/** Whether an input, valid or not, is a stored job's (it names a clip list): it is checked as one. */
export function namesClipList(input: unknown): boolean {
  return typeof input === 'object' && input !== null && Object.hasOwn(input, 'clipList');
}

export function clipsIn(job: ValidJobInput): number {
  return isStoredJob(job) ? job.clipList.clips : job.clipPrompts.length;
}

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
  /** What decoding it to the end found (nothing, since it passed). */
  contentCheck?: ContentCheckResult;
  /** Generations of this clip that failed before this one was made. */
  failedAttempts?: AttemptRecord[];
  /** A poster frame and a strip of frames, in the artifact store. */
  posterUri?: string;
  stripUri?: string;
  /** Set on a clip a redo kept: the job that made it (and paid for it; it costs nothing here). */
  keptFrom?: string;
  /** Why the clip was made by the fallback rather than the primary; absent when the primary made it. */
  fallback?: FallbackNote;
}

/** Why a clip went to the fallback: where it was tried first, and that attempt's last failure. */
export interface FallbackNote {
  fromProvider: string;
  fromModel: string;
  errorType: string;
  message: string;
}

export interface ClipFailure {
  clipIndex: number;
  errorType: string;
  message: string;
  attempts: number;
  /** What the clip's attempts were charged although no clip came of them. */
  costMicroUsd: number;
  /** Each failed generation, with what its content check found. */
  failedAttempts?: AttemptRecord[];
  /** The last model that tried it; absent for a clip that never started. */
  model?: string;
  /** That model's provider (absent in results recorded before fallback across providers). */
  provider?: string;
  /** Why it went to the fallback, when the fallback failed it too. */
  fallback?: FallbackNote;
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
  /** report.html beside it, and the contact sheet of every clip's poster. */
  reportHtmlUri?: string;
  reportHtmlPath?: string;
  contactSheetUri?: string;
  /**
   * Set when the job ran in child workflows, one batch each: clips, failures and the clip lists
   * are then left empty (they would grow with the job); every clip's row is in the report.
   */
  batches?: { count: number; size: number };
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
  /** The job's budget limit (raised ones included); absent until the budget check has run. */
  budgetLimitMicroUsd?: number;
  percent: number;
}

/** One thing wrong with a job: the field (`clipPrompts[2].durationS`, '' for the whole input) and what is wrong. */
export interface Problem {
  field: string;
  message: string;
}

/** How many problems a failure message names; the rest are counted. */
export const MAX_NAMED_PROBLEMS = 10;
/** How long one problem's text may be once printed. */
export const MAX_PROBLEM_CHARS = 300;

/** Every zod issue as a problem, its text safe to print and bounded. */
export function problemsOf(issues: readonly z.core.$ZodIssue[]): Problem[] {
  return issues.map((issue) => ({ field: printable(formatPath(issue.path), 120), message: printable(issue.message, MAX_PROBLEM_CHARS) }));
}

/** `clipPrompts[2].durationS: must be greater than 0`. */
export function problemLine({ field, message }: Problem): string {
  return `${field || '(input)'}: ${message}`;
}

/**
 * One bounded message naming the first problems and counting the rest, and the fields it names:
 * the same size for a job with one bad field and one with 20,000.
 */
export function summarizeProblems(problems: readonly Problem[], max = MAX_NAMED_PROBLEMS): { fields: string[]; message: string } {
  const named = problems.slice(0, max);
  const rest = problems.length - named.length;
  const more = rest > 0 ? `; and ${rest} more problem${rest === 1 ? '' : 's'} (${problems.length} in all)` : '';
  return { fields: [...new Set(named.map((p) => p.field))], message: `${named.map(problemLine).join('; ')}${more}` };
}

/** Turns zod issues into one bounded message that names the first bad fields, e.g. `clipPrompts[2].durationS`. */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): { fields: string[]; message: string } {
  return summarizeProblems(problemsOf(issues));
}

/**
 * The job as the workflow will run it, or every problem with it (with `limits`, what the
 * environment and model accept too; with `count`, the configured sanity limit on its clips).
 */
export function checkJob(
  input: unknown,
  limits?: ClipLimits,
  count?: ClipCountLimit,
): { ok: true; job: ValidJob } | { ok: false; problems: Problem[] } {
  const parsed = (limits || count ? jobSchema(limits, count) : GenerateClipsInput).safeParse(input);
  return parsed.success ? { ok: true, job: parsed.data } : { ok: false, problems: problemsOf(parsed.error.issues) };
}

/** A stored job's input as the workflow will run it, or every problem with it; its clips are checked when it is planned. */
export function checkStoredJob(
  input: unknown,
  count?: ClipCountLimit,
): { ok: true; job: ValidStoredJob } | { ok: false; problems: Problem[] } {
  const parsed = storedJobSchema(count).safeParse(input);
  return parsed.success ? { ok: true, job: parsed.data } : { ok: false, problems: problemsOf(parsed.error.issues) };
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, key) => {
    if (typeof key === 'number') return `${acc}[${key}]`;
    return acc ? `${acc}.${String(key)}` : String(key);
  }, '');
}
