import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseJob } from '../client.js';
import type { ValidJob } from '../shared/model.js';

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
    throw new UsageError(`cannot read job file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`job file ${file} is not valid JSON: ${(err as Error).message}`);
  }
  const body = Array.isArray(data) ? { clipPrompts: data } : (data as Record<string, unknown>);
  if (typeof body !== 'object' || body === null) throw new UsageError(`job file ${file} must hold an object or an array`);
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  const id = jobId ?? (body.jobId as string | undefined) ?? `${path.basename(file, path.extname(file))}-${stamp}`;
  try {
    return parseJob({ ...body, jobId: id });
  } catch (err) {
    throw new UsageError(`job file ${file}: ${(err as Error).message}`);
  }
}
