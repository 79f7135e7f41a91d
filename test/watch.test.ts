import { describe, expect, it } from 'vitest';
import type { JobHandle } from '../src/client.js';
import { watchJob, workerNotices } from '../src/cli/watch.js';
import type { GenerateClipsResult, JobProgress } from '../src/shared/model.js';

/** What a terminal shows after these writes: `\r` returns to the line's start, ESC [K clears to its end. */
function screen(writes: string[]): string[] {
  const lines: string[] = [''];
  let column = 0;
  const text = writes.join('');
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    const row = lines.length - 1;
    if (ch === '\r') column = 0;
    else if (ch === '\n') {
      lines.push('');
      column = 0;
    } else if (text.startsWith('\x1b[K', i)) {
      lines[row] = lines[row]!.slice(0, column);
      i += 2;
    } else {
      const line = lines[row]!;
      lines[row] = line.slice(0, column) + ch + line.slice(column + 1);
      column++;
    }
  }
  return lines;
}

function terminal() {
  const writes: string[] = [];
  return {
    writes,
    out: {
      isTTY: true,
      write: (text: string) => {
        writes.push(text);
        return true;
      },
    },
  };
}

const base: JobProgress = {
  jobId: 'j',
  stage: 'generating',
  total: 2,
  done: 0,
  failed: 0,
  running: 2,
  spentMicroUsd: 0,
  spentUsd: 0,
  percent: 0,
};

/** A job whose progress query answers `steps` one after the other (the last one from then on), ending after them. */
function fakeJob(steps: JobProgress[], endAfterMs: number): JobHandle {
  let asked = 0;
  const result = new Promise<GenerateClipsResult>((resolve) =>
    setTimeout(() => resolve({ jobId: 'j' } as GenerateClipsResult), endAfterMs),
  );
  return {
    jobId: 'j',
    workflowId: 'clipflow-j',
    progress: async () => steps[Math.min(asked++, steps.length - 1)]!,
    result: () => result,
    cancel: async () => undefined,
    describe: async () => {
      throw new Error('not used');
    },
    raw: undefined as never,
  };
}

describe('the progress line on a terminal', () => {
  it('redraws in place and leaves nothing of a longer line behind', async () => {
    const { writes, out } = terminal();
    const job = fakeJob(
      [
        { ...base, stage: 'generating', running: 2 },
        { ...base, stage: 'reporting', done: 2, running: 0, percent: 100 },
        { ...base, stage: 'done', done: 2, running: 0, percent: 100 },
      ],
      200,
    );
    const { result } = await watchJob(job, { out, intervalMs: 20 });
    expect(result).toEqual({ jobId: 'j' });
    const lines = screen(writes);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/100%\s+2 done · 0 failed · 0 running · \$0\.00 {2}\(done\)$/);
    expect(lines[1]).toBe('');
  });

  it('puts a notice on a line of its own above the progress line', async () => {
    const { writes, out } = terminal();
    const job = fakeJob(
      [
        { ...base, stage: 'validating', running: 0 },
        { ...base, stage: 'done', done: 2, running: 0, percent: 100 },
      ],
      300,
    );
    let polling: string[] = [];
    const notices = workerNotices(async () => polling, 'clipflow');
    setTimeout(() => (polling = ['worker@host']), 120);
    await watchJob(job, { out, intervalMs: 20, notices, noticeEveryMs: 50 });
    const lines = screen(writes);
    expect(lines[0]).toBe(
      'no worker is polling task queue clipflow, so the job waits: start one with `npm run worker` (same TEMPORAL_* settings as this command)',
    );
    expect(lines[1]).toBe('a worker is polling task queue clipflow now: the job goes on');
    expect(lines[2]).toMatch(/\(done\)$/);
    expect(lines).toHaveLength(4);
  });
});

describe('worker notices', () => {
  it('say nothing while a worker polls, and again only when that changes', async () => {
    const answers = [['w1'], ['w1'], [], [], ['w2']];
    const notices = workerNotices(async () => answers.shift() ?? [], 'q');
    expect(await notices()).toBeUndefined();
    expect(await notices()).toBeUndefined();
    expect(await notices()).toMatch(/^no worker is polling task queue q/);
    expect(await notices()).toBeUndefined();
    expect(await notices()).toBe('a worker is polling task queue q now: the job goes on');
  });
});
