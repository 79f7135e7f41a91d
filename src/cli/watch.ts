import { setTimeout as sleep } from 'node:timers/promises';
import type { JobHandle } from '../client.js';
import { insufficientClipsResult } from '../client.js';
import type { GenerateClipsResult } from '../shared/model.js';
import { progressBar } from './render.js';

/** Back to the start of the line and clear it: a shorter line must not leave the end of a longer one. */
const REDRAW = '\r\x1b[K';

export interface WatchOptions {
  /** Where the progress goes; on a terminal one line redrawn in place, otherwise a line per change. */
  out?: Pick<NodeJS.WriteStream, 'write' | 'isTTY'>;
  intervalMs?: number;
  /** Asked every `noticeEveryMs`: a line to show above the progress (for example that no worker polls), or nothing. */
  notices?: () => Promise<string | undefined>;
  noticeEveryMs?: number;
}

/** Shows the job's progress until it ends; returns the result (also the partial one of InsufficientClips). */
export async function watchJob(
  job: JobHandle,
  { out = process.stderr, intervalMs = 500, notices, noticeEveryMs = 3_000 }: WatchOptions = {},
): Promise<{ result?: GenerateClipsResult; error?: unknown }> {
  let finished = false;
  const outcome = job.result().then(
    (result) => ({ result }),
    (error: unknown) => ({ error, ...(insufficientClipsResult(error) ? { result: insufficientClipsResult(error) } : {}) }),
  );
  void outcome.finally(() => (finished = true));
  const pause = (ms: number) => Promise.race([outcome, sleep(ms, undefined, { ref: false })]);

  let shown = '';
  const draw = (line: string) => {
    if (line === shown) return;
    out.write(out.isTTY ? `${REDRAW}${line}` : `${line}\n`);
    shown = line;
  };
  // A notice goes above the progress line, which is then drawn again.
  const say = (notice: string) => out.write(out.isTTY ? `${REDRAW}${notice}\n${shown}` : `${notice}\n`);

  // Apart from the progress loop: a progress query waits while no worker answers it.
  void (async () => {
    while (notices && !finished) {
      const notice = await notices().catch(() => undefined);
      if (notice && !finished) say(notice);
      await pause(noticeEveryMs);
    }
  })();

  while (!finished) {
    try {
      draw(progressBar(await job.progress()));
    } catch {
      // The first workflow task may not have run yet: nothing to show.
    }
    await pause(intervalMs);
  }
  try {
    const line = progressBar(await job.progress());
    out.write(out.isTTY ? `${REDRAW}${line}\n` : line !== shown ? `${line}\n` : '');
  } catch {
    if (out.isTTY) out.write('\n');
  }
  return outcome;
}

/**
 * Notices for watchJob about the task queue's workers: that none polls (the job waits, and how to
 * start one), and that one does again. Says nothing when the cluster does not answer the question.
 */
export function workerNotices(workersPolling: () => Promise<string[]>, taskQueue: string): () => Promise<string | undefined> {
  let polled: boolean | undefined;
  return async () => {
    const now = (await workersPolling()).length > 0;
    if (now === polled) return undefined;
    const first = polled === undefined;
    polled = now;
    if (!now) {
      return (
        `no worker is polling task queue ${taskQueue}, so the job waits: start one with \`npm run worker\` ` +
        '(same TEMPORAL_* settings as this command)'
      );
    }
    return first ? undefined : `a worker is polling task queue ${taskQueue} now: the job goes on`;
  };
}
