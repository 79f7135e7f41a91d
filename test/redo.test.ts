import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../src/activities/write-report.js';
import { createClipflowClient } from '../src/client.js';
import type { DevServer } from '../src/dev-server/start-dev-server.js';
import type { GenerateClipsResult } from '../src/shared/model.js';
import { clipPrompts, startTestServer, uniqueName } from './support/env.js';
import { harness, type Harness } from './support/job-runner.js';

/**
 * A job of 6 whose clips 2 and 4 fail on every attempt (a fault of the first worker only), then a
 * redo of its failed clips on a worker without the fault, sharing the first one's store.
 */
let server: DevServer;
let first: Harness;
let second: Harness;
let jobId: string;
let original: GenerateClipsResult;
let dir: string;

beforeAll(async () => {
  server = await startTestServer();
  dir = await mkdtemp(path.join(os.tmpdir(), 'clipflow-redo-'));
  first = await harness(server, { LOCAL_PROVIDER_FAULTS: '2:permanent,4:permanent', RETRY_INITIAL_INTERVAL_S: '0.1' });
  jobId = uniqueName('redo');
  original = await first.worker.runUntil(first.clipflow.start({ jobId, clipPrompts: clipPrompts(6) }).then((j) => j.result()));
  await first.deps.close();
  second = await harness(server, { OUTPUT_DIR: first.config.outputDir });
});
afterAll(async () => {
  await second?.deps.close();
  await server?.stop();
});

/** The clip indexes the second worker's provider is asked to make, in order. */
function recordCreates(h: Harness): { clipIndex: number; prompt: string }[] {
  const creates: { clipIndex: number; prompt: string }[] = [];
  const start = h.deps.provider.start.bind(h.deps.provider);
  h.deps.provider.start = async (request) => {
    creates.push({ clipIndex: request.clipIndex, prompt: request.prompt });
    return start(request);
  };
  return creates;
}

describe('redo', () => {
  it('remakes only the failed clips of a job of 6 and keeps the 4 good ones unpaid', async () => {
    expect(original.failures.map((f) => f.clipIndex)).toEqual([2, 4]);
    const creates = recordCreates(second);
    const { redoId, result, memo, summary, progress } = await second.worker.runUntil(async () => {
      const handle = await second.clipflow.redo(jobId, { failed: true });
      const result = await handle.result();
      const described = await handle.raw.describe();
      return {
        redoId: handle.jobId,
        result,
        memo: described.memo,
        summary: await described.staticSummary(),
        progress: await handle.progress(),
      };
    });
    expect(summary).toContain(`${jobId}-redo-1: 6 clips · redo of ${jobId} (4 kept) · `);
    expect(progress).toMatchObject({ stage: 'done', total: 6, done: 6, failed: 0, running: 0 });
    expect(redoId).toBe(`${jobId}-redo-1`);
    expect(memo).toMatchObject({ redoOf: jobId });
    expect(creates.map((c) => c.clipIndex).sort()).toEqual([2, 4]);
    expect(result.successfulClips).toBe(6);
    expect(result.failures).toEqual([]);
    const kept = result.clips.filter((c) => c.keptFrom);
    expect(kept.map((c) => c.clipIndex)).toEqual([0, 1, 3, 5]);
    for (const clip of kept) {
      expect(clip.keptFrom).toBe(jobId);
      expect(clip.uri).toBe(original.clips.find((c) => c.clipIndex === clip.clipIndex)?.uri);
      expect(clip.costMicroUsd).toBe(0);
    }
    const made = result.clips.filter((c) => !c.keptFrom);
    expect(made.map((c) => c.clipIndex)).toEqual([2, 4]);
    expect(made.every((c) => c.uri.includes(`/${redoId}/`))).toBe(true);
    // Only the two new clips are paid for, and only they are in the estimate.
    expect(result.totalCostMicroUsd).toBe(made.reduce((sum, c) => sum + c.costMicroUsd, 0));
    expect(result.budget.perModel.map((m) => m.clips)).toEqual([2]);

    const report = JSON.parse(await readFile(result.reportPath!, 'utf8')) as Report;
    expect(report.totalClips).toBe(6);
    expect(report.successfulClips).toBe(6);
    expect(report.clips.map((r) => [r.clipIndex, r.outcome, r.keptFrom])).toEqual([
      [0, 'kept', jobId],
      [1, 'kept', jobId],
      [2, 'succeeded', null],
      [3, 'kept', jobId],
      [4, 'succeeded', null],
      [5, 'kept', jobId],
    ]);
    const html = await readFile(result.reportHtmlPath!, 'utf8');
    expect(html.match(/kept from job /g)).toHaveLength(4);
    // A kept clip's video is the first job's file, linked from the redo's folder.
    const sources = [...html.matchAll(/<video [^>]*src="([^"]+)"/g)].map((m) => m[1]!);
    expect(sources).toHaveLength(6);
    for (const src of sources) expect(existsSync(path.resolve(path.dirname(result.reportHtmlPath!), decodeURIComponent(src)))).toBe(true);
  });

  it('clipflow redo --clips with --file makes the chosen clip from its new prompt', async () => {
    // A worker runs once: this one is a third, on the same store.
    const third = await harness(server, { OUTPUT_DIR: first.config.outputDir });
    const creates = recordCreates(third);
    const prompts = path.join(dir, 'new-prompts.json');
    await writeFile(prompts, JSON.stringify([{ clipIndex: 1, prompt: 'clip 1 again: a neon city at dawn' }]));
    const out = await third.worker
      .runUntil(cliOn(third, 'redo', jobId, '--clips', '1', '--file', prompts))
      .finally(() => third.deps.close());
    expect(out.code).toBe(0);
    expect(out.stderr).toContain(`job ${jobId}-redo-2 redoes job ${jobId}`);
    // The summary table marks the kept clips with the job that made them.
    const rows = out.stdout.split('\n').filter((line) => /^\d /.test(line));
    expect(rows.map((line) => line.split(/\s{2,}/).slice(0, 2))).toEqual([
      ['0', `kept (${jobId})`],
      ['1', 'ok'],
      ['3', `kept (${jobId})`],
      ['5', `kept (${jobId})`],
    ]);
    const report = JSON.parse(
      await readFile(path.join(first.config.outputDir, `${jobId}-redo-2`, 'production_report.json'), 'utf8'),
    ) as Report;
    const result = { jobId: report.jobId, clips: report.clips.map((r) => ({ clipIndex: r.clipIndex, keptFrom: r.keptFrom ?? undefined })) };
    expect(result.jobId).toBe(`${jobId}-redo-2`);
    expect(creates).toEqual([{ clipIndex: 1, prompt: 'clip 1 again: a neon city at dawn' }]);
    // Clips 2 and 4 failed in the job redone and were not chosen: the redo neither keeps nor makes them.
    expect(result.clips.map((c) => [c.clipIndex, c.keptFrom ?? null])).toEqual([
      [0, jobId],
      [1, null],
      [3, jobId],
      [5, jobId],
    ]);
  });
});

describe('redo of a job that failed with too few clips', () => {
  it('takes the clips from the failure and makes the failed ones', async () => {
    const failing = await harness(server, {
      LOCAL_PROVIDER_FAULTS: '0:permanent,1:permanent,3:permanent',
      RETRY_INITIAL_INTERVAL_S: '0.1',
    });
    const id = uniqueName('few');
    const err = await failing.worker
      .runUntil(failing.clipflow.start({ jobId: id, clipPrompts: clipPrompts(4) }).then((j) => j.result()))
      .then(
        () => undefined,
        (e: unknown) => e,
      )
      .finally(() => failing.deps.close());
    expect((err as { cause?: { type?: string } }).cause?.type).toBe('InsufficientClips');
    const clean = await harness(server, { OUTPUT_DIR: failing.config.outputDir });
    const creates = recordCreates(clean);
    const result = await clean.worker
      .runUntil(clean.clipflow.redo(id, { failed: true }).then((j) => j.result()))
      .finally(() => clean.deps.close());
    expect(creates.map((c) => c.clipIndex).sort()).toEqual([0, 1, 3]);
    expect(result.clips.map((c) => [c.clipIndex, c.keptFrom ?? null])).toEqual([
      [0, null],
      [1, null],
      [2, id],
      [3, null],
    ]);
  });
});

describe('clipflow redo refuses, one line and exit 2', () => {
  it('an unknown clip index, naming the job and its clips', async () => {
    const out = await cli('redo', jobId, '--clips', '3,9');
    expectUsageError(out, `clip 9 is not in job ${jobId} (its clips: 0, 1, 2, 3, 4, 5)`);
  });

  it('a job that has not finished', async () => {
    // No worker polls this task queue: the job stays running.
    const idle = createClipflowClient(server.env.client, { taskQueue: uniqueName('idle') });
    const running = await idle.start({ jobId: uniqueName('running'), clipPrompts: clipPrompts(2) });
    try {
      const out = await cli('redo', running.jobId, '--failed');
      expectUsageError(out, `job ${running.jobId} has not finished with clips (running)`);
    } finally {
      await running.raw.terminate('test over');
    }
  });

  it('a bad --clips, neither --clips nor --failed, both, and a new prompt for a clip not redone', async () => {
    expectUsageError(await cli('redo', jobId, '--clips', '3,x'), '--clips must be clip indexes separated by commas');
    expectUsageError(await cli('redo', jobId), 'redo needs either --clips');
    expectUsageError(await cli('redo', jobId, '--clips', '3', '--failed'), 'redo needs either --clips');
    const prompts = path.join(dir, 'other-prompts.json');
    await writeFile(prompts, JSON.stringify([{ clipIndex: 0, prompt: 'not this one' }]));
    expectUsageError(
      await cli('redo', jobId, '--clips', '3', '--file', prompts),
      'a new prompt is given for clip 0, which is not being redone',
    );
  });
});

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** The CLI as a person runs it, against the test's server, a worker's task queue and the jobs' store. */
function cli(...args: string[]): Promise<Outcome> {
  return cliOn(second, ...args);
}

function cliOn(h: Harness, ...args: string[]): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...args],
      {
        env: {
          ...process.env,
          TEMPORAL_ADDRESS: server.address,
          TEMPORAL_TASK_QUEUE: h.taskQueue,
          OUTPUT_DIR: h.config.outputDir,
          CLIPFLOW_DATA_DIR: path.join(dir, 'data'),
        },
        timeout: 120_000,
      },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
    );
  });
}

function expectUsageError(outcome: Outcome, mention: string): void {
  expect(outcome.stdout).toBe('');
  expect(outcome.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(/^clipflow: /)]);
  expect(outcome.stderr).toContain(mention);
  expect(outcome.code).toBe(2);
}
