import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { watchJob, workerNotices } from '../src/cli/watch.js';
import type { JobProgress } from '../src/shared/model.js';
import { fakeJob } from './support/fake-job.js';
import { screenOf } from './support/terminal-screen.js';

function terminal(columns = 80) {
  const writes: string[] = [];
  return {
    writes,
    out: {
      isTTY: true,
      columns,
      rows: 24,
      write: (text: string) => {
        writes.push(text);
        return true;
      },
    },
  };
}

function pipe() {
  const writes: string[] = [];
  return {
    writes,
    out: {
      isTTY: false,
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

describe('the progress frame on a terminal', () => {
  it('is redrawn in place: the screen ends with the last frame alone', async () => {
    const { writes, out } = terminal();
    const job = fakeJob(
      [
        { ...base, stage: 'generating', running: 2, budgetLimitMicroUsd: 2_000_000 },
        {
          ...base,
          stage: 'reporting',
          done: 1,
          failed: 1,
          running: 0,
          percent: 100,
          spentMicroUsd: 250_000,
          budgetLimitMicroUsd: 2_000_000,
        },
        { ...base, stage: 'done', done: 1, failed: 1, running: 0, percent: 100, spentMicroUsd: 250_000, budgetLimitMicroUsd: 2_000_000 },
      ],
      200,
    );
    const { result } = await watchJob(job, { out, intervalMs: 20 });
    expect(result).toEqual({ jobId: 'j' });
    // Several frames were drawn, and each one replaced the one before.
    expect(writes.filter((w) => w.includes('clips')).length).toBeGreaterThan(1);
    expect(await screenOf(writes.join(''), { convertEol: true })).toEqual([
      `done       [${'█'.repeat(40)}] 100%  2/2 clips`,
      '  ✓ 1 done   ✗ 1 failed   ▶ 0 in flight   · 0 waiting',
      '  $0.25 of $2.00 budget (13%)',
    ]);
  });

  it('puts a notice on a line of its own above the frame', async () => {
    const { writes, out } = terminal(200);
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
    const lines = await screenOf(writes.join(''), { cols: 200, convertEol: true });
    expect(lines[0]).toBe(
      'no worker is polling task queue clipflow, so the job waits: start one with `npm run worker` (same TEMPORAL_* settings as this command)',
    );
    expect(lines[1]).toBe('a worker is polling task queue clipflow now: the job goes on');
    expect(lines[2]).toMatch(/^done {7}\[█+\] 100% {2}2\/2 clips$/);
    expect(lines).toHaveLength(5);
  });
});

describe('the progress without a terminal', () => {
  it('is a plain line each time it changes, with no escape sequences', async () => {
    const { writes, out } = pipe();
    const steps: JobProgress[] = [
      { ...base, stage: 'validating', running: 0 },
      { ...base, stage: 'validating', running: 0 },
      { ...base, stage: 'generating', running: 2, budgetLimitMicroUsd: 1_000_000 },
      { ...base, stage: 'done', done: 2, running: 0, percent: 100, spentMicroUsd: 100_000, budgetLimitMicroUsd: 1_000_000 },
    ];
    await watchJob(fakeJob(steps, 200), { out, intervalMs: 20 });
    expect(writes.join('')).not.toContain('\x1b');
    expect(writes.join('').split('\n')).toEqual([
      '0% validating: 0 done, 0 failed, 0 in flight, 2 waiting of 2 clips · $0.00 spent',
      '0% generating: 0 done, 0 failed, 2 in flight, 0 waiting of 2 clips · $0.00 of $1.00 budget (0%)',
      '100% done: 2 done, 0 failed, 0 in flight, 0 waiting of 2 clips · $0.10 of $1.00 budget (10%)',
      '',
    ]);
  });
});

const hasScript = spawnSync('script', ['--version']).status === 0;

describe('through a pseudo-terminal', () => {
  // util-linux's `script` runs the command on a pseudo-terminal, as a person's shell would.
  it.skipIf(!hasScript)('redraws the frame on a real terminal and ends with the report line', async () => {
    const command = `stty cols 90 rows 20; ${JSON.stringify(process.execPath)} --import tsx test/support/watch-in-terminal.ts`;
    const run = spawnSync('script', ['-qec', command, '/dev/null'], {
      encoding: 'utf8',
      timeout: 60_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(run.status).toBe(0);
    // The frames were drawn with cursor movements (log-update), not as lines one after the other.
    expect(run.stdout).toContain('\x1b[2K');
    expect(await screenOf(run.stdout, { cols: 90, rows: 20 })).toEqual([
      `done       [${'█'.repeat(40)}] 100%  3/3 clips`,
      '  ✓ 2 done   ✗ 1 failed   ▶ 0 in flight   · 0 waiting',
      '  $0.30 of $2.00 budget (15%)',
      'report: /tmp/j/production_report.json',
    ]);
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
