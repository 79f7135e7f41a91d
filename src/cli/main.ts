import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { WorkflowNotFoundError } from '@temporalio/client';
import { connectClient, createClipflowClient } from '../client.js';
import { ConfigError, loadConfig } from '../config.js';
import { reportPath } from '../activities/paths.js';
import { readJobFile, UsageError } from './job-file.js';
import { progressBar, summaryTable } from './render.js';
import { watchJob } from './watch.js';
import { WORKFLOW_TYPE } from '../shared/names.js';

const USAGE = `usage: clipflow <command> [options]
  generate <job.json> [--job-id ID] [--no-wait] [--json]   start a job and show its progress
  status <jobId> [--json]                                   progress of a job
  cancel <jobId>                                            cancel a job (running predictions are cancelled, the report is written)
  report <jobId> [--json]                                   the job's production report
  list [--json]                                             recent jobs and their status`;

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      'job-id': { type: 'string' },
      'no-wait': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  const [command, arg] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return command || values.help ? 0 : 2;
  }
  const needArg = (what: string) => {
    if (!arg) throw new UsageError(`${command} needs ${what}\n${USAGE}`);
    return arg;
  };
  const config = loadConfig();

  switch (command) {
    case 'generate': {
      const job = await readJobFile(needArg('a job file'), values['job-id']);
      const clipflow = createClipflowClient(await connectClient(config), { taskQueue: config.temporal.taskQueue });
      const handle = await clipflow.start(job);
      console.error(`job ${job.jobId}: workflow ${handle.workflowId} on task queue ${config.temporal.taskQueue}`);
      if (values['no-wait']) {
        console.log(values.json ? JSON.stringify({ jobId: job.jobId, workflowId: handle.workflowId }) : job.jobId);
        return 0;
      }
      const { result, error } = await watchJob(handle);
      if (result) console.log(values.json ? JSON.stringify(result, null, 2) : summaryTable(result));
      if (error) {
        console.error(`job ${job.jobId} failed: ${describe(error)}`);
        return 1;
      }
      return 0;
    }
    case 'status': {
      const clipflow = createClipflowClient(await connectClient(config), { taskQueue: config.temporal.taskQueue });
      const progress = await clipflow.progress(needArg('a job id'));
      console.log(values.json ? JSON.stringify(progress) : progressBar(progress));
      return 0;
    }
    case 'cancel': {
      const clipflow = createClipflowClient(await connectClient(config), { taskQueue: config.temporal.taskQueue });
      await clipflow.cancel(needArg('a job id'));
      console.log(`cancellation requested for job ${arg}`);
      return 0;
    }
    case 'report': {
      const file = reportPath(config.outputDir, needArg('a job id'));
      const text = await readFile(file, 'utf8').catch(() => {
        throw new UsageError(`no report for job ${arg} at ${file} (has the job finished?)`);
      });
      console.log(values.json ? text.trim() : summaryFromReport(JSON.parse(text)));
      return 0;
    }
    case 'list': {
      const client = await connectClient(config);
      const rows: { jobId: string; status: string; start: string }[] = [];
      for await (const wf of client.workflow.list({ query: `WorkflowType = '${WORKFLOW_TYPE}'` })) {
        rows.push({ jobId: wf.workflowId.replace(/^clipflow-/, ''), status: wf.status.name, start: wf.startTime.toISOString() });
        if (rows.length >= 50) break;
      }
      console.log(values.json ? JSON.stringify(rows) : rows.map((r) => `${r.start}  ${r.status.padEnd(12)}  ${r.jobId}`).join('\n'));
      return 0;
    }
    default:
      throw new UsageError(`unknown command "${command}"\n${USAGE}`);
  }
}

function summaryFromReport(report: { jobId: string; successfulClips: number; totalClips: number; totalCostUsd: number; clips: { clipIndex: number; success: boolean; path: string | null; error: string | null }[] }): string {
  const lines = report.clips.map((c) => `clip ${c.clipIndex}: ${c.success ? `ok  ${c.path}` : `FAILED  ${c.error}`}`);
  return [`job ${report.jobId}: ${report.successfulClips}/${report.totalClips} clips, $${report.totalCostUsd.toFixed(2)}`, ...lines].join('\n');
}

function describe(err: unknown): string {
  const cause = (err as { cause?: { message?: string; cause?: { message?: string } } }).cause;
  return cause?.cause?.message ?? cause?.message ?? (err as Error).message ?? String(err);
}

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError || err instanceof ConfigError || (err as { code?: string }).code?.startsWith?.('ERR_PARSE_ARGS')) {
      console.error(`clipflow: ${(err as Error).message}`);
      process.exit(2);
    }
    if (err instanceof WorkflowNotFoundError) {
      console.error(`clipflow: no such job (${err.workflowId})`);
      process.exit(1);
    }
    console.error(`clipflow: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
