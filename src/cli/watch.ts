import { setTimeout as sleep } from 'node:timers/promises';
import type { JobHandle } from '../client.js';
import { insufficientClipsResult } from '../client.js';
import type { GenerateClipsResult } from '../shared/model.js';
import { progressBar } from './render.js';

/** Shows the job's progress until it ends; returns the result (also the partial one of InsufficientClips). */
export async function watchJob(
  job: JobHandle,
  out: NodeJS.WriteStream = process.stderr,
  intervalMs = 500,
): Promise<{ result?: GenerateClipsResult; error?: unknown }> {
  let finished = false;
  const outcome = job.result().then(
    (result) => ({ result }),
    (error: unknown) => ({ error, ...(insufficientClipsResult(error) ? { result: insufficientClipsResult(error) } : {}) }),
  );
  void outcome.finally(() => (finished = true));
  let last = '';
  while (!finished) {
    try {
      const line = progressBar(await job.progress());
      if (line !== last) {
        out.write(out.isTTY ? `\r${line}` : `${line}\n`);
        last = line;
      }
    } catch {
      // The first workflow task may not have run yet: nothing to show.
    }
    await Promise.race([outcome, sleep(intervalMs)]);
  }
  try {
    const line = progressBar(await job.progress());
    out.write(out.isTTY ? `\r${line}\n` : line !== last ? `${line}\n` : '');
  } catch {
    if (out.isTTY) out.write('\n');
  }
  return outcome;
}
