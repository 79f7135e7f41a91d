import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describeIssues, GenerateClipsInput, type ValidJob } from '../shared/model.js';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * Reads a job file: `{ jobId?, clipPrompts, options? }` or a bare array of clip prompts. Without a
 * jobId (from the file or --job-id) one is made from the file name and the time.
 */
export async function readJobFile(file: string, jobId?: string, now = new Date()): Promise<ValidJob> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'it is a directory'
          : code === 'EACCES'
            ? 'permission denied'
            : (code ?? (err as Error).message);
    throw new UsageError(`cannot read job file ${file}: ${reason}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`job file ${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof data !== 'object' || data === null) throw new UsageError(`job file ${file} must hold an object or an array of clip prompts`);
  const body = Array.isArray(data) ? { clipPrompts: data } : (data as Record<string, unknown>);
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  const id = jobId ?? (body.jobId as string | undefined) ?? `${path.basename(file, path.extname(file))}-${stamp}`;
  // The workflow's own rules, every bad field named: "clipPrompts[1].durationS: must be greater than 0".
  const parsed = GenerateClipsInput.safeParse({ ...body, jobId: id });
  if (!parsed.success) throw new UsageError(`job file ${file}: ${describeIssues(parsed.error.issues).message}`);
  return parsed.data;
}
