import { setTimeout as sleep } from 'node:timers/promises';
import { createLogUpdate } from 'log-update';
import type { JobHandle } from '../client.js';
import { insufficientClipsResult } from '../client.js';
import type { GenerateClipsResult, JobProgress } from '../shared/model.js';
import { progressFrame, progressLine } from './progress-view.js';

export interface WatchOptions {
  /** Where the progress goes; on a terminal a frame redrawn in place, otherwise a line per change. */
  out?: Pick<NodeJS.WriteStream, 'write' | 'isTTY'> & { columns?: number; rows?: number };
  intervalMs?: number;
  /** Asked every `noticeEveryMs`: a line to show above the progress (for example that no worker polls), or nothing. */
  notices?: () => Promise<string | undefined>;
  noticeEveryMs?: number;
}

/** Draws progress: in place on a terminal (log-update), as plain lines elsewhere. */
interface ProgressView {
  show(progress: JobProgress): void;
  /** A line that stays, above the progress. */
  say(notice: string): void;
  /** The last progress stays on screen; what is written next goes below it. */
  end(): void;
}

function terminalView(out: NonNullable<WatchOptions['out']>): ProgressView {
  // A terminal that reports no size (0 columns, as some do) still gets a frame of the usual size.
  const screen = {
    isTTY: true,
    get columns() {
      return out.columns || 80;
    },
    get rows() {
      return out.rows || 24;
    },
    write: (text: string) => out.write(text),
  };
  const live = createLogUpdate(screen as unknown as NodeJS.WriteStream);
  let frame = '';
  return {
    show(progress) {
      frame = progressFrame(progress, screen.columns);
      live(frame);
    },
    say(notice) {
      live.persist(notice);
      if (frame) live(frame);
    },
    end: () => live.done(),
  };
}

function plainView(out: NonNullable<WatchOptions['out']>): ProgressView {
  let shown = '';
  return {
    show(progress) {
      const line = progressLine(progress);
      if (line !== shown) out.write(`${line}\n`);
      shown = line;
    },
    say: (notice) => out.write(`${notice}\n`),
    end: () => undefined,
  };
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
  const view = out.isTTY ? terminalView(out) : plainView(out);

  // Apart from the progress loop: a progress query waits while no worker answers it.
  void (async () => {
    while (notices && !finished) {
      const notice = await notices().catch(() => undefined);
      if (notice && !finished) view.say(notice);
      await pause(noticeEveryMs);
    }
  })();

  while (!finished) {
    try {
      view.show(await job.progress());
    } catch {
      // The first workflow task may not have run yet: nothing to show.
    }
    await pause(intervalMs);
  }
  try {
    view.show(await job.progress());
  } catch {
    // A job that failed before its first workflow task has no progress to show.
  }
  view.end();
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
