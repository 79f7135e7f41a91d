import { readFile } from 'node:fs/promises';
import type { RedoOptions } from '../redo-plan.js';
import { UsageError } from './job-file.js';

/** `--clips 3,5`: clip indexes, each a whole number, each once. */
export function parseClipList(value: string): number[] {
  if (!/^\s*\d+(\s*,\s*\d+)*\s*$/.test(value)) {
    throw new UsageError(`--clips must be clip indexes separated by commas, like 3,5, not ${JSON.stringify(value.slice(0, 80))}`);
  }
  const clips = value.split(',').map((part) => Number(part.trim()));
  const twice = clips.find((clip, i) => clips.indexOf(clip) !== i);
  if (twice !== undefined) throw new UsageError(`--clips names clip ${twice} twice`);
  return clips;
}

/**
 * `--file new-prompts.json`: new prompts for clips being redone, as an array of clip prompts or a
 * job file's `{ "clipPrompts": [...] }`; each names its clipIndex, and its other fields replace
 * the original's. The job's own rules check the result before it starts.
 */
export async function readRedoPrompts(file: string): Promise<NonNullable<RedoOptions['prompts']>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read the prompts file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`the prompts file ${file} is not JSON: ${(err as Error).message}`);
  }
  const list = Array.isArray(parsed) ? parsed : (parsed as { clipPrompts?: unknown } | null)?.clipPrompts;
  if (!Array.isArray(list))
    throw new UsageError(`the prompts file ${file} must hold an array of clip prompts (or { "clipPrompts": [...] })`);
  return list.map((entry: unknown, i) => {
    const clipIndex = (entry as { clipIndex?: unknown } | null)?.clipIndex;
    if (typeof entry !== 'object' || entry === null || !Number.isInteger(clipIndex)) {
      throw new UsageError(`the prompts file ${file}: entry ${i} must be an object with a whole-number clipIndex`);
    }
    return entry as { clipIndex: number };
  });
}
