import { execFile, spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobSummary } from '../src/client.js';
import type { DevServer } from '../src/dev-server/start-dev-server.js';
import { raiseBudgetUpdate } from '../src/shared/names.js';
import { createClipflowWorker } from '../src/worker.js';
import { clipPrompts, startTestServer, uniqueName, workflowBundle } from './support/env.js';
import { harness, type Harness } from './support/job-runner.js';
import { screenOf } from './support/terminal-screen.js';
import { until } from './support/wait.js';

const hasScript = spawnSync('script', ['--version']).status === 0;

let server: DevServer;
let h: Harness;
let running: Promise<void>;
let dir: string;

beforeAll(async () => {
  server = await startTestServer();
  // Slow enough that a job can be cancelled while it runs.
  h = await harness(server, { LOCAL_PROVIDER_DELAY_MS: '1500' });
  running = h.worker.run();
  dir = await mkdtemp(path.join(os.tmpdir(), 'clipflow-cli-'));
});
afterAll(async () => {
  h?.worker.shutdown();
  await running;
  await h?.deps.close();
  await server?.stop();
});

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI as a person (or a script) would, against the test's server and task queue. */
function cli(...args: string[]): Promise<Outcome> {
  return cliWith({}, ...args).done;
}

/** The CLI with `env` on top of the test's, and what it wrote to stderr so far while it runs. */
function cliWith(env: Record<string, string>, ...args: string[]): { stderr(): string; done: Promise<Outcome> } {
  let stderrSoFar = '';
  let child: ReturnType<typeof execFile> | undefined;
  const done = new Promise<Outcome>((resolve) => {
    child = execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...args],
      {
        env: {
          ...process.env,
          TEMPORAL_ADDRESS: server.address,
          TEMPORAL_TASK_QUEUE: h.taskQueue,
          OUTPUT_DIR: h.config.outputDir,
          CLIPFLOW_DATA_DIR: path.join(dir, 'data'),
          ...env,
        },
        timeout: 120_000,
        maxBuffer: 10_000_000,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
  child?.stderr?.on('data', (chunk: Buffer | string) => {
    stderrSoFar += chunk.toString();
  });
  return { stderr: () => stderrSoFar, done };
}

async function jobFile(name: string, body: unknown): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, typeof body === 'string' ? body : JSON.stringify(body));
  return file;
}

/** A usage error: exit 2, one line on stderr starting "clipflow:", no stack trace, nothing on stdout. */
function expectUsageError(outcome: Outcome, ...mentions: string[]): void {
  expect(outcome.code).toBe(2);
  expect(outcome.stdout).toBe('');
  const lines = outcome.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^clipflow: /);
  expect(outcome.stderr).not.toContain('    at ');
  for (const m of mentions) expect(lines[0]).toContain(m);
}

/** How long to wait for the visibility store and the like, and how often to look. */
const WAIT_MS = 30_000;
const POLL_MS = 300;

describe('clipflow CLI', () => {
  const jobId = uniqueName('cli');

  it('generate --json runs the job to the end and prints its result', async () => {
    const file = await jobFile('three.json', { clipPrompts: clipPrompts(3, 1) });
    const out = await cli('generate', file, '--job-id', jobId, '--json');
    expect(out.code).toBe(0);
    const result = JSON.parse(out.stdout);
    expect(result.jobId).toBe(jobId);
    expect(result.successfulClips).toBe(3);
    expect(result.clips).toHaveLength(3);
    expect(result.clips.map((c: { clipIndex: number }) => c.clipIndex).sort()).toEqual([0, 1, 2]);
    // The progress bar went to stderr, leaving stdout to the JSON.
    expect(out.stderr).toContain('100%');
    expect(out.stderr).not.toContain('    at ');
  });

  it('status --json tells where the job stands, with its progress', async () => {
    const out = await cli('status', jobId, '--json');
    expect(out.code).toBe(0);
    const status = JSON.parse(out.stdout);
    expect(status).toMatchObject({ jobId, workflowId: `clipflow-${jobId}`, status: 'COMPLETED' });
    expect(Date.parse(status.startTime)).toBeLessThanOrEqual(Date.parse(status.closeTime));
    expect(status.progress).toMatchObject({ jobId, stage: 'done', total: 3, done: 3, failed: 0 });

    const text = await cli('status', jobId);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`job ${jobId}: completed`);
    expect(text.stdout.split('\n')[0]).toMatch(/· 3 ok · 0 failed · \$0\.00$/);
  });

  it('list --json contains the job', async () => {
    const listed = await until(
      'the job in the visibility store',
      async () => {
        const out = await cli('list', '--json');
        expect(out.code).toBe(0);
        const jobs = JSON.parse(out.stdout) as (Omit<JobSummary, 'startTime' | 'closeTime'> & { startTime: string; closeTime?: string })[];
        return jobs.find((j) => j.jobId === jobId && j.status === 'COMPLETED');
      },
      WAIT_MS,
      POLL_MS,
    );
    // The counts and spend the job keeps in its search attributes.
    expect(listed).toMatchObject({ workflowId: `clipflow-${jobId}`, status: 'COMPLETED', clipsSucceeded: 3, clipsFailed: 0, spendUsd: 0 });
    expect(Number.isNaN(Date.parse(listed.startTime))).toBe(false);
    expect(Number.isNaN(Date.parse(listed.closeTime ?? ''))).toBe(false);

    const runningOnly = await cli('list', '--status', 'running', '--json');
    expect(runningOnly.code).toBe(0);
    expect((JSON.parse(runningOnly.stdout) as JobSummary[]).some((j) => j.jobId === jobId)).toBe(false);

    const limited = await cli('list', '--limit', '1', '--json');
    expect(JSON.parse(limited.stdout)).toHaveLength(1);

    const text = await cli('list');
    expect(text.code).toBe(0);
    const row = text.stdout.split('\n').find((line) => line.includes(` ${jobId} `));
    expect(row).toMatch(/COMPLETED\s+\S+\s+3 ok · 0 failed · \$0\.00$/);
  });

  it('report --json prints the production report the worker wrote', async () => {
    const out = await cli('report', jobId, '--json');
    expect(out.code).toBe(0);
    const report = JSON.parse(out.stdout);
    expect(report).toMatchObject({ jobId, totalClips: 3, successfulClips: 3 });
    expect(report.clips).toHaveLength(3);

    const text = await cli('report', jobId);
    expect(text.stdout).toContain(`job ${jobId}: 3/3 clips`);

    const missing = await cli('report', 'no-such-job');
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toMatch(/^clipflow: no report for job no-such-job/);
  });

  it('takes a job id only by the job-id rule: never a path out of the outputs folder', async () => {
    // A report where `report ../outside` would find it, one level above OUTPUT_DIR.
    const outside = path.join(h.config.outputDir, '..', 'outside');
    await mkdir(outside, { recursive: true });
    await writeFile(path.join(outside, 'production_report.json'), JSON.stringify({ jobId: 'outside', clips: [] }));
    expectUsageError(await cli('report', '../outside'), 'job id', '"../outside"', 'may contain only');
    expectUsageError(await cli('report', '../outside', '--json'), 'job id');
    expectUsageError(await cli('status', 'a/b'), 'job id', '"a/b"');
    expectUsageError(await cli('cancel', '..'), 'job id', 'start with a letter or digit');
    expectUsageError(await cli('raise-budget', '.hidden', '5'), 'job id');
    // Control characters are shown escaped, never written to the terminal.
    const escaped = await cli('status', 'x\u001b[2Jy');
    expectUsageError(escaped, 'job id', '\\u001b[2Jy');
    expect(escaped.stderr).not.toContain('\u001b');
    const extra = await cli('report', 'fine', 'ring\u0007');
    expectUsageError(extra, 'unexpected argument "ring\\u0007"');
    expect(extra.stderr).not.toContain('\u0007');

    // The orchestrator API applies the same rule.
    await expect(h.clipflow.describe('../outside')).rejects.toThrow(/invalid input: jobId: .*\(got "\.\.\/outside"\)/);
    await expect(h.clipflow.cancel('a/b')).rejects.toThrow(/jobId/);
    expect(() => h.clipflow.handle('')).toThrow(/jobId: must not be empty/);
  });

  it('generate with a job id already used: the same input joins the job, other input is refused', async () => {
    const same = await jobFile('three-again.json', { clipPrompts: clipPrompts(3, 1) });
    const joined = await cli('generate', same, '--job-id', jobId, '--json');
    expect(joined.code).toBe(0);
    expect(JSON.parse(joined.stdout)).toMatchObject({ jobId, successfulClips: 3 });

    const other = await jobFile('other.json', { clipPrompts: clipPrompts(3, 1, (i) => ({ prompt: `something else ${i}` })) });
    const refused = await cli('generate', other, '--job-id', jobId, '--json');
    expectUsageError(refused, `job ${jobId} already exists`, 'its input differs', 'clipPrompts[0].prompt', 'use another job id', other);
    const longer = await jobFile('four.json', { clipPrompts: clipPrompts(4, 1) });
    expectUsageError(await cli('generate', longer, '--job-id', jobId), 'clipPrompts (3 vs 4 entries)');
  });

  it('cancel stops a running job; the job ends cancelled with its report written', async () => {
    const cancelId = uniqueName('cli-cancel');
    const file = await jobFile('twelve.json', { clipPrompts: clipPrompts(12, 1), options: { concurrency: 1 } });
    const started = await cli('generate', file, '--job-id', cancelId, '--no-wait', '--json');
    expect(started.code).toBe(0);
    expect(JSON.parse(started.stdout)).toMatchObject({ jobId: cancelId, workflowId: `clipflow-${cancelId}` });

    // Wait until the job is generating clips.
    await until(
      'a clip to be generating',
      async () => {
        const p = await h.clipflow.progress(cancelId).catch(() => undefined);
        return p && p.stage === 'generating' ? p : undefined;
      },
      WAIT_MS,
      POLL_MS,
    );

    // While it runs, its budget can be raised, within the bounds of options.budgetUsd.
    expectUsageError(await cli('raise-budget', cancelId, '1e305'), 'budget: must be at most 100000');
    expectUsageError(await cli('raise-budget', cancelId, 'lots'), 'must be a number of US dollars', '"lots"');
    expectUsageError(await cli('raise-budget', cancelId), 'raise-budget needs a budget in USD');
    const raised = await cli('raise-budget', cancelId, '5', '--json');
    expect(raised.code).toBe(0);
    expect(JSON.parse(raised.stdout)).toMatchObject({ jobId: cancelId, workflowId: `clipflow-${cancelId}`, limitUsd: 5 });
    const lower = await cli('raise-budget', cancelId, '4');
    expect(lower.code).toBe(1);
    expect(lower.stderr.trim()).toBe(`clipflow: job ${cancelId}: budgetUsd $4.00 must be above the current limit $5.00`);
    // The workflow's own validator holds the same bounds for any client: 1e305 would be Infinity micro-dollars.
    for (const budgetUsd of [1e305, 100_000.01, Number.NaN]) {
      const refused = await h.clipflow
        .handle(cancelId)
        .raw.executeUpdate(raiseBudgetUpdate, { args: [{ budgetUsd }] })
        .catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
      const cause = (refused as WorkflowUpdateFailedError).cause as ApplicationFailure;
      expect(cause.type).toBe('InvalidInput');
      expect(cause.message).toMatch(/^invalid input: budgetUsd: /);
    }
    expect(await h.clipflow.raiseBudget(cancelId, 6)).toMatchObject({ limitUsd: 6 });
    await expect(h.clipflow.raiseBudget(cancelId, 1e305)).rejects.toThrow(/budgetUsd: must be at most 100000/);

    const out = await cli('cancel', cancelId, '--json');
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout)).toEqual({ jobId: cancelId, workflowId: `clipflow-${cancelId}`, cancelRequested: true });

    const ended = await h.clipflow.result(cancelId).then(
      () => 'completed',
      (err: Error) => err.name,
    );
    expect(ended).toBe('WorkflowFailedError');
    const status = JSON.parse((await cli('status', cancelId, '--json')).stdout);
    expect(status.status).toBe('CANCELLED');
    const report = JSON.parse((await cli('report', cancelId, '--json')).stdout);
    expect(report.jobId).toBe(cancelId);
    expect(report.successfulClips).toBeLessThan(12);
    expect(report.budget.limitUsd).toBe(6);
    // status, its search attributes and the report count the clips that never started alike.
    expect(report.successfulClips + report.failedClips).toBe(12);
    expect(status.progress).toMatchObject({ total: 12, done: report.successfulClips, failed: report.failedClips, percent: 100 });
    expect(status).toMatchObject({ clipsSucceeded: report.successfulClips, clipsFailed: report.failedClips });
    const statusText = await cli('status', cancelId);
    expect(statusText.stdout).toContain(`${report.successfulClips} ok · ${report.failedClips} failed`);
    expect(statusText.stdout).toContain(`${report.successfulClips} done, ${report.failedClips} failed, 0 in flight, 0 waiting of 12 clips`);
    // The spend against the budget as it was raised.
    expect(statusText.stdout).toMatch(/ of \$6\.00 budget \(\d+%\)$/m);

    const again = await cli('cancel', cancelId);
    expect(again.code).toBe(1);
    expect(again.stderr.trim()).toBe(`clipflow: job ${cancelId} is not running (cancelled)`);
    const late = await cli('raise-budget', cancelId, '10');
    expect(late.code).toBe(1);
    expect(late.stderr.trim()).toBe(`clipflow: job ${cancelId} is not running (cancelled): its budget can no longer be raised`);
  });

  it('a clip whose reference image was refused is shown text-only, with the reason', async () => {
    const textOnlyId = uniqueName('cli-text-only');
    // Loopback is not a public address: the image is refused and clip 1 is made from its prompt alone.
    const file = await jobFile('image.json', {
      clipPrompts: clipPrompts(2, 1, (i) => (i === 1 ? { sceneReferenceUrl: 'http://127.0.0.1:9/scene.png' } : {})),
    });
    const out = await cli('generate', file, '--job-id', textOnlyId);
    expect(out.code).toBe(0);
    const rows = out.stdout.split('\n');
    expect(rows.find((r) => r.startsWith('0 '))).toMatch(/^0\s+ok\s/);
    const row = rows.find((r) => r.startsWith('1 '));
    expect(row).toMatch(/^1\s+ok, text-only\s/);
    expect(row).toContain('(reference image not used: image http://127.0.0.1:9/scene.png: host 127.0.0.1 is not a public address)');
    expect(out.stdout).toContain('text-only (reference image not used): clip 1');

    const report = await cli('report', textOnlyId);
    expect(report.code).toBe(0);
    expect(report.stdout).toMatch(/^clip 0: ok {2}\S+clip_000\.mp4$/m);
    expect(report.stdout).toMatch(/^clip 1: ok, text-only {2}\S+clip_001\.mp4 {2}\(reference image not used: .*not a public address\)$/m);

    // In the Web UI: the job's memo names the clips made text-only.
    const described = await server.env.client.workflow.getHandle(`clipflow-${textOnlyId}`).describe();
    expect(described.memo).toMatchObject({ summary: { clips: '2/2', textOnly: [1] } });
  });

  it.skipIf(!hasScript)(
    'generate on a terminal redraws a progress frame and ends with the report; the Web UI has its summary',
    async () => {
      const ttyId = uniqueName('cli-tty');
      const file = await jobFile('tty.json', { clipPrompts: clipPrompts(3, 1) });
      const command = `stty cols 100 rows 40; ${[process.execPath, '--import', 'tsx', 'src/cli/main.ts', 'generate', file, '--job-id', ttyId].map((a) => JSON.stringify(a)).join(' ')}`;
      // util-linux's `script` runs the CLI on a pseudo-terminal, as a person's shell would. Not
      // spawnSync: this process's worker runs the job meanwhile.
      const run = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
        const child = spawn('script', ['-qec', command, '/dev/null'], {
          stdio: ['ignore', 'pipe', 'inherit'],
          env: { ...process.env, TEMPORAL_ADDRESS: server.address, TEMPORAL_TASK_QUEUE: h.taskQueue, OUTPUT_DIR: h.config.outputDir },
          timeout: 120_000,
        });
        let stdout = '';
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString();
        });
        child.on('close', (code) => resolve({ code, stdout }));
      });
      expect(run.code).toBe(0);
      // Frames replaced one another in place (log-update's erase-line), not a line per change.
      expect(run.stdout).toContain('\x1b[2K');
      const screen = await screenOf(run.stdout, { cols: 100, rows: 40 });
      const frame = screen.findIndex((line) => /^done {7}\[█{40}\] 100% {2}3\/3 clips$/.test(line));
      expect(frame).toBeGreaterThan(-1);
      expect(screen[frame + 1]).toBe('  ✓ 3 done   ✗ 0 failed   ▶ 0 in flight   · 0 waiting');
      expect(screen[frame + 2]).toBe('  $0.00 of $2.00 budget (0%)');
      // The frame is on screen once: the earlier ones were erased.
      expect(screen.filter((line) => line.includes(' in flight ')).length).toBe(1);
      // The output ends with where the report is, and report.html and the contact sheet beside it.
      const ending = screen.slice(screen.findIndex((line) => line.startsWith('report: ')));
      expect(ending[0]).toBe(`report: ${path.join(h.config.outputDir, ttyId, 'production_report.json')}`);
      expect(ending.slice(1).join('\n')).toMatch(/^report\.html: \S+report\.html\ncontact sheet: \S+$/);

      const described = await server.env.client.workflow.getHandle(`clipflow-${ttyId}`).describe();
      expect(await described.staticSummary()).toBe(`${ttyId}: 3 clips · development · local/clipflow/local-ffmpeg · budget $2.00 · min 3`);
    },
  );

  it('generate says when no worker polls the task queue, which command starts one, and when one does', async () => {
    const taskQueue = uniqueName('no-worker');
    const waitingId = uniqueName('cli-waiting');
    const file = await jobFile('waiting.json', { clipPrompts: clipPrompts(4, 1), options: { concurrency: 1 } });
    const noWorker = `clipflow: no worker is polling task queue ${taskQueue}, so the job waits: start one with \`npm run worker\``;

    const started = await cliWith({ TEMPORAL_TASK_QUEUE: taskQueue }, 'generate', file, '--job-id', waitingId, '--no-wait').done;
    expect(started.code).toBe(0);
    expect(started.stdout.trim()).toBe(waitingId);
    expect(started.stderr).toContain(noWorker);

    // Waiting for the job: the notice comes while it waits, and the job ends once a worker comes.
    const watching = cliWith({ TEMPORAL_TASK_QUEUE: taskQueue }, 'generate', file, '--job-id', waitingId, '--json');
    await until('the no-worker notice', () => watching.stderr().includes(noWorker), WAIT_MS, POLL_MS);
    const worker = await createClipflowWorker({
      config: h.config,
      connection: server.env.nativeConnection,
      deps: h.deps,
      workflowBundle: await workflowBundle(),
      taskQueue,
    });
    const out = await worker.runUntil(watching.done);
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout)).toMatchObject({ jobId: waitingId, successfulClips: 4 });
    expect(out.stderr).toContain(`clipflow: a worker is polling task queue ${taskQueue} now`);
    expect(out.stderr.split(noWorker)).toHaveLength(2);
  });

  it('a job id that does not exist is one line and exit 1', async () => {
    const out = await cli('status', 'never-started', '--json');
    expect(out.code).toBe(1);
    expect(out.stdout).toBe('');
    expect(out.stderr.trim()).toBe('clipflow: no such job (clipflow-never-started)');
  });
});

describe('clipflow CLI usage errors: one line, no stack trace, exit 2', () => {
  it('a job file that does not exist', async () => {
    const missing = path.join(dir, 'missing.json');
    expectUsageError(await cli('generate', missing), missing, 'no such file');
  });

  it('a job file that is not JSON', async () => {
    const file = await jobFile('broken.json', '{ "clipPrompts": [ ');
    expectUsageError(await cli('generate', file, '--json'), file, 'not valid JSON');
  });

  it('clip prompts that break the rules, each bad field named', async () => {
    const file = await jobFile('invalid.json', {
      clipPrompts: [
        { clipIndex: 0, prompt: 'fine', durationS: 2 },
        { clipIndex: 1, prompt: '', durationS: -3 },
        { clipIndex: 2, prompt: 'wide', durationS: 2, aspectRatio: '5:4' },
      ],
    });
    const out = await cli('generate', file);
    expectUsageError(out, 'clipPrompts[1].prompt', 'clipPrompts[1].durationS', 'clipPrompts[2].aspectRatio');
    expect(out.stderr).not.toContain('clipPrompts[0]');

    const duplicate = await jobFile('duplicate.json', [
      { clipIndex: 0, prompt: 'one', durationS: 2 },
      { clipIndex: 0, prompt: 'two', durationS: 2 },
    ]);
    expectUsageError(await cli('generate', duplicate), 'clipPrompts[1].clipIndex', 'duplicate clipIndex 0');
  });

  it('a job file holding neither an object nor an array', async () => {
    expectUsageError(await cli('generate', await jobFile('number.json', '42')), 'must hold an object or an array');
  });

  it('an unknown flag', async () => {
    const file = await jobFile('ok.json', clipPrompts(1));
    expectUsageError(await cli('generate', file, '--bogus'), 'unknown option --bogus');
  });

  it('a flag the command does not take, a missing argument, a bad value, an unknown command', async () => {
    expectUsageError(await cli('status', 'x', '--job-id', 'y'), 'status does not take --job-id');
    expectUsageError(await cli('status'), 'status needs a job id');
    expectUsageError(await cli('list', '--limit', '0'), '--limit');
    expectUsageError(await cli('list', '--status', 'sleeping'), '--status');
    expectUsageError(await cli('explode'), 'unknown command "explode"');
    expectUsageError(await cli(), 'a command is needed');
  });

  it('--help prints the usage and exits 0', async () => {
    const out = await cli('--help');
    expect(out.code).toBe(0);
    for (const command of ['generate', 'status', 'cancel', 'report', 'list', 'raise-budget', '--json'])
      expect(out.stdout).toContain(command);
    expect(out.stdout).toContain('npm run worker');
  });
});

describe('the orchestrator API behind the CLI', () => {
  it('start is idempotent per job id; describe, progress, list, result', async () => {
    const id = uniqueName('api');
    const first = await h.clipflow.start({ jobId: id, clipPrompts: clipPrompts(3, 1) });
    const second = await h.clipflow.start({ jobId: id, clipPrompts: clipPrompts(3, 1) });
    expect(second.workflowId).toBe(first.workflowId);
    expect((await h.clipflow.describe(id)).status).toBe('RUNNING');

    const runningJobs = await until(
      'the job listed as running',
      async () => {
        const jobs = await h.clipflow.list({ status: 'RUNNING' });
        return jobs.some((j) => j.jobId === id) ? jobs : undefined;
      },
      WAIT_MS,
      POLL_MS,
    );
    expect(runningJobs.every((j) => j.status === 'RUNNING')).toBe(true);

    const result = await h.clipflow.result(id);
    expect(result.successfulClips).toBe(3);
    const progress = await h.clipflow.progress(id);
    expect(progress).toMatchObject({ stage: 'done', done: 3 });

    const summary = await h.clipflow.describe(id);
    expect(summary).toMatchObject({ jobId: id, workflowId: `clipflow-${id}`, status: 'COMPLETED' });
    expect(summary.closeTime).toBeInstanceOf(Date);
    expect(summary.startTime.getTime()).toBeLessThanOrEqual(summary.closeTime!.getTime());

    const completed = await until(
      'the job listed as completed',
      async () => {
        const jobs = await h.clipflow.list({ status: 'COMPLETED', limit: 100 });
        return jobs.find((j) => j.jobId === id);
      },
      WAIT_MS,
      POLL_MS,
    );
    expect(completed.runId).toBe(summary.runId);
    // Jobs of other task queues are not listed.
    const other = (await import('../src/client.js')).createClipflowClient(server.env.client, { taskQueue: uniqueName('elsewhere') });
    expect(await other.list()).toEqual([]);
    await expect(h.clipflow.list({ limit: 0 })).rejects.toThrow(/limit/);
  });
});
