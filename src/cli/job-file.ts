import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseDocument } from 'yaml';
import type { ClipLimits } from '../shared/clip-limits.js';
import {
  checkJob,
  JOB_ID_PATTERN,
  MAX_JOB_ID_CHARS,
  problemLine,
  summarizeProblems,
  type ClipCountLimit,
  type Problem,
  type ValidJob,
} from '../shared/model.js';
import { printable } from '../shared/text.js';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Larger files are refused unread (a job of 5,000 clips with the longest prompts is well under it). */
export const MAX_JOB_FILE_BYTES = 32 * 1024 * 1024;

export interface JobFileCheck {
  /** The job as the workflow will get it, when the file has no problem. */
  job?: ValidJob;
  /** Every problem, in file order; a file that cannot be read or parsed has one with field ''. */
  problems: Problem[];
}

export interface JobFileOptions {
  /** --job-id: wins over the file's own jobId. */
  jobId?: string;
  now?: Date;
  /** What this environment and its model accept (clipLimitsFor): the workflow's own second check. */
  limits?: ClipLimits;
  /** The sanity limit on the job's clips (CLIPFLOW_MAX_CLIPS). */
  count?: ClipCountLimit;
}

/**
 * Reads and checks a job file as the workflow will: `{ jobId?, clipPrompts, options? }` or a bare
 * array of clip prompts, in JSON or (`.yaml`, `.yml`) YAML, UTF-8 with or without a BOM. Without a
 * jobId (from the file or --job-id) one is made from the file name and the time.
 */
export async function checkJobFile(file: string, options: JobFileOptions = {}): Promise<JobFileCheck> {
  let data: unknown;
  try {
    data = parseJobText(await readJobText(file), file);
  } catch (err) {
    if (err instanceof UsageError) return { problems: [{ field: '', message: err.message }] };
    throw err;
  }
  if (typeof data !== 'object' || data === null) {
    return { problems: [{ field: '', message: 'must hold an object or an array of clip prompts' }] };
  }
  const body = Array.isArray(data) ? { clipPrompts: data } : (data as Record<string, unknown>);
  const jobId = options.jobId ?? (Object.hasOwn(body, 'jobId') ? body.jobId : jobIdFromFileName(file, options.now ?? new Date()));
  // The workflow's own rules, every bad field named: "clipPrompts[1].durationS: must be greater than 0".
  const checked = checkJob({ ...body, jobId }, options.limits, options.count);
  return checked.ok ? { job: checked.job, problems: [] } : { problems: checked.problems };
}

/** The job of a file that passes checkJobFile (the schema alone); otherwise a UsageError. */
export async function readJobFile(file: string, jobId?: string, now?: Date): Promise<ValidJob> {
  const { job, problems } = await checkJobFile(file, { ...(jobId !== undefined ? { jobId } : {}), ...(now ? { now } : {}) });
  if (job) return job;
  throw jobFileError(file, problems);
}

/** One line for a bad job file, naming its first problems and counting the rest. */
export function jobFileError(file: string, problems: readonly Problem[]): UsageError {
  const only = problems.length === 1 && problems[0]?.field === '' ? problems[0] : undefined;
  return new UsageError(`job file ${only ? problemForFile(file, only) : `${fileName(file)}: ${summarizeProblems(problems).message}`}`);
}

/** The file as messages name it: escaped, and cut only when absurdly long (a path is not a value to cap at 80). */
export function fileName(file: string): string {
  return printable(file, 400);
}

/** A problem as `validate` prints it: `job.json: clipPrompts[1].durationS: must be greater than 0`. */
export function problemForFile(file: string, problem: Problem): string {
  return problem.field ? `${fileName(file)}: ${problemLine(problem)}` : `${fileName(file)} ${problem.message}`;
}

async function readJobText(file: string): Promise<string> {
  let bytes: Buffer;
  try {
    const { size } = await stat(file);
    if (size > MAX_JOB_FILE_BYTES) throw new UsageError(`is ${size} bytes; a job file may be at most ${MAX_JOB_FILE_BYTES} bytes`);
    bytes = await readFile(file);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'it is a directory'
          : code === 'EACCES'
            ? 'permission denied'
            : (code ?? (err as Error).message);
    throw new UsageError(`cannot be read: ${printable(reason)}`);
  }
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    throw new UsageError('is UTF-16 text: save it as UTF-8');
  }
  try {
    // A UTF-8 byte order mark is dropped (TextDecoder's default), as editors on Windows write one.
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new UsageError('is not UTF-8 text');
  }
}

function parseJobText(text: string, file: string): unknown {
  if (/\.ya?ml$/i.test(file)) {
    // YAML 1.2's core schema: plain data only, aliases bounded, duplicate keys refused; a tag it does not know is an error too.
    const doc = parseDocument(text, { schema: 'core', uniqueKeys: true, logLevel: 'silent' });
    const error = doc.errors[0] ?? doc.warnings[0];
    if (error) {
      const at = error.linePos?.[0];
      const where = at ? ` at line ${at.line}, column ${at.col}` : '';
      throw new UsageError(`is not valid YAML${where}: ${printable(error.message.split('\n')[0] ?? '', 200)}`);
    }
    try {
      return doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      throw new UsageError(`is not valid YAML: ${printable((err as Error).message, 200)}`);
    }
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`is not valid JSON: ${printable((err as Error).message, 200)}`);
  }
}

/**
 * A job id made from the file name, so that any file name gives a valid one: `my clips (v2).json`
 * at 2026-11-23T20:28:37Z → `my-clips-v2-20261123-202837`.
 */
export function jobIdFromFileName(file: string, now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  const base = path
    .basename(file, path.extname(file))
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .replace(/-+$/, '')
    .slice(0, MAX_JOB_ID_CHARS - stamp.length - 1);
  const id = `${base || 'job'}-${stamp}`;
  return JOB_ID_PATTERN.test(id) ? id : `job-${stamp}`;
}
