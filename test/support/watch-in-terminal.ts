/**
 * A job's progress on this process's terminal, as `clipflow generate` shows it, for the
 * pseudo-terminal test: three frames, then the line naming the report.
 */
import { reportLines } from '../../src/cli/render.js';
import { watchJob } from '../../src/cli/watch.js';
import type { JobProgress } from '../../src/shared/model.js';
import { fakeJob } from './fake-job.js';

const base: JobProgress = {
  jobId: 'j',
  stage: 'generating',
  total: 3,
  done: 0,
  failed: 0,
  running: 3,
  spentMicroUsd: 0,
  spentUsd: 0,
  budgetLimitMicroUsd: 2_000_000,
  percent: 0,
};
const steps: JobProgress[] = [
  { ...base, done: 1, running: 2, spentMicroUsd: 150_000, percent: 33.3 },
  { ...base, done: 2, failed: 1, running: 0, spentMicroUsd: 300_000, percent: 100, stage: 'reporting' },
  { ...base, done: 2, failed: 1, running: 0, spentMicroUsd: 300_000, percent: 100, stage: 'done' },
];
const job = fakeJob(steps, 600, {
  jobId: 'j',
  reportUri: 'file:///tmp/j/production_report.json',
  reportPath: '/tmp/j/production_report.json',
});
const { result } = await watchJob(job, { intervalMs: 150 });
if (!process.stderr.isTTY) throw new Error('stderr is not a terminal here');
if (result) console.log(reportLines(result));
