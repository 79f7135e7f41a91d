import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Client } from '@temporalio/client';
import { connectClient, createClipflowClient, JOB_STATUSES, type ClipflowClient, type JobStatus, type JobSummary } from '../client.js';
import { ConfigError, DEFAULT_ADDRESS, loadConfig, type Config } from '../config/index.js';
import { reportPath } from '../store/paths.js';
import type { JobProgress } from '../shared/model.js';
import { UsageError } from './job-file.js';
import { printable } from '../shared/text.js';
import { progressBar, summaryTable } from './render.js';
import { readCheckedJobFile, validateCommand } from './validate.js';
import { watchJob } from './watch.js';

const USAGE = `usage: clipflow <command> [options]
  generate <job.json> [--job-id ID] [--no-wait] [--json]   check a job file as validate does, start it and show its progress until it ends
  validate <job.json> [--json]                              check a job file as the workflow will (schema, this environment, its model); one line per problem
  status <jobId> [--json]                                   where a job stands, with its progress
  cancel <jobId> [--json]                                   cancel a job (running predictions are cancelled, the report is written)
  report <jobId> [--json]                                   the job's production report
  list [--status STATUS] [--limit N] [--json]               recent jobs of the task queue, newest first
Exit codes: 0 done, 1 the job or the cluster failed, 2 usage error (bad flag, bad job file, bad configuration).`;

/** A failure that is not the user's: printed as one line, exit code 1. */
class CommandError extends Error {
  override readonly name = 'CommandError';
}

const OPTIONS = {
  json: { type: 'boolean' },
  'job-id': { type: 'string' },
  'no-wait': { type: 'boolean' },
  status: { type: 'string' },
  limit: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;
type OptionName = keyof typeof OPTIONS;

const COMMANDS: Record<string, { args: string[]; options: OptionName[] }> = {
  generate: { args: ['a job file'], options: ['json', 'job-id', 'no-wait'] },
  validate: { args: ['a job file'], options: ['json'] },
  status: { args: ['a job id'], options: ['json'] },
  cancel: { args: ['a job id'], options: ['json'] },
  report: { args: ['a job id'], options: ['json'] },
  list: { args: [], options: ['json', 'status', 'limit'] },
};

const STATUS_ALIASES: Record<string, JobStatus> = {
  canceled: 'CANCELLED',
  'timed-out': 'TIMED_OUT',
  'continued-as-new': 'CONTINUED_AS_NEW',
};

function parseStatus(value: string | undefined): JobStatus | undefined {
  if (value === undefined) return undefined;
  const normalized = STATUS_ALIASES[value.toLowerCase()] ?? value.toUpperCase().replace(/-/g, '_');
  if ((JOB_STATUSES as readonly string[]).includes(normalized)) return normalized as JobStatus;
  throw new UsageError(`--status must be one of ${JOB_STATUSES.map((s) => s.toLowerCase()).join(', ')}, not "${value}"`);
}

function parseLimit(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1 || n > 10_000) {
    throw new UsageError(`--limit must be a whole number from 1 to 10000, not "${value}"`);
  }
  return n;
}

async function run(argv: string[], out: (text: string) => void = (t) => console.log(t)): Promise<number> {
  const { values, positionals, tokens } = parseArgs({ args: argv, allowPositionals: true, options: OPTIONS, strict: true, tokens: true });
  const [command, ...args] = positionals;
  if (values.help) {
    out(USAGE);
    return 0;
  }
  if (!command) throw new UsageError('a command is needed: generate, validate, status, cancel, report or list (clipflow --help)');
  const spec = COMMANDS[command];
  if (!spec) throw new UsageError(`unknown command "${command}": use generate, validate, status, cancel, report or list (clipflow --help)`);
  for (const token of tokens) {
    if (token.kind === 'option' && !spec.options.includes(token.name as OptionName)) {
      throw new UsageError(`${command} does not take ${token.rawName} (clipflow --help)`);
    }
  }
  if (args.length < spec.args.length) throw new UsageError(`${command} needs ${spec.args[args.length]} (clipflow --help)`);
  if (args.length > spec.args.length) throw new UsageError(`${command}: unexpected argument "${args[spec.args.length]}" (clipflow --help)`);
  const json = values.json === true;
  const arg = args[0] ?? '';
  // Flags are checked before configuration and files, so their mistakes are reported first.
  const status = parseStatus(values.status);
  const limit = parseLimit(values.limit);
  const config = loadConfig();

  switch (command) {
    case 'generate': {
      const job = await readCheckedJobFile(config, arg, values['job-id']);
      const clipflow = await connect(config);
      const handle = await clipflow.start(job);
      console.error(`job ${job.jobId}: workflow ${handle.workflowId} on task queue ${config.temporal.taskQueue}`);
      if (values['no-wait']) {
        out(
          json
            ? JSON.stringify({ jobId: job.jobId, workflowId: handle.workflowId, ...(handle.runId ? { runId: handle.runId } : {}) })
            : job.jobId,
        );
        return 0;
      }
      const { result, error } = await watchJob(handle);
      if (result) out(json ? JSON.stringify(result, null, 2) : summaryTable(result));
      if (error) {
        if (json && !result) out(JSON.stringify({ jobId: job.jobId, workflowId: handle.workflowId, error: describeError(error) }));
        console.error(`clipflow: job ${job.jobId} failed: ${describeError(error)}`);
        return 1;
      }
      return 0;
    }
    case 'validate':
      return validateCommand(config, arg, json, out);
    case 'status': {
      const clipflow = await connect(config);
      const summary = await clipflow.describe(arg);
      const progress = await progressOf(clipflow, summary);
      if (json) out(JSON.stringify({ ...summary, ...(progress ? { progress } : {}) }));
      else out(`${statusLine(summary)}${progress ? `\n${progressBar(progress)}` : ''}`);
      return 0;
    }
    case 'cancel': {
      const clipflow = await connect(config);
      const summary = await clipflow.describe(arg);
      if (summary.status !== 'RUNNING') throw new CommandError(`job ${arg} is not running (${summary.status.toLowerCase()})`);
      await clipflow.cancel(arg);
      out(
        json
          ? JSON.stringify({ jobId: arg, workflowId: summary.workflowId, cancelRequested: true })
          : `cancellation requested for job ${arg}`,
      );
      return 0;
    }
    case 'report': {
      const file = reportPath(config.outputDir, arg);
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch {
        throw new CommandError(`no report for job ${arg} at ${file} (has the job finished? is OUTPUT_DIR the worker's?)`);
      }
      let report: Report;
      try {
        report = JSON.parse(text) as Report;
      } catch (err) {
        throw new CommandError(`the report ${file} is not valid JSON: ${(err as Error).message}`);
      }
      out(json ? JSON.stringify(report) : summaryFromReport(report));
      return 0;
    }
    case 'list': {
      const clipflow = await connect(config);
      const jobs = await clipflow.list({ ...(status ? { status } : {}), ...(limit ? { limit } : {}) });
      if (json) out(JSON.stringify(jobs));
      else if (jobs.length === 0)
        out(`no jobs on task queue ${config.temporal.taskQueue}${status ? ` with status ${status.toLowerCase()}` : ''}`);
      else out(jobs.map((j) => `${j.startTime.toISOString()}  ${j.status.padEnd(10)}  ${j.jobId}`).join('\n'));
      return 0;
    }
  }
  throw new UsageError(`unknown command "${command}"`);
}

async function connect(config: Config): Promise<ClipflowClient> {
  let client: Client;
  try {
    client = await connectClient(config);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new CommandError(`cannot connect to Temporal at ${config.temporal.address ?? DEFAULT_ADDRESS}: ${(err as Error).message}`);
  }
  return createClipflowClient(client, { taskQueue: config.temporal.taskQueue });
}

/** The job's progress, from its workflow; for a finished job only if a worker still answers queries. */
async function progressOf(clipflow: ClipflowClient, summary: JobSummary): Promise<JobProgress | undefined> {
  const handle = clipflow.handle(summary.jobId);
  const query = handle.progress();
  if (summary.status === 'RUNNING') return query;
  const timeout = new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 3_000).unref());
  return Promise.race([query.catch(() => undefined), timeout]);
}

function statusLine(s: JobSummary): string {
  const ended = s.closeTime ? `, ended ${s.closeTime.toISOString()}` : '';
  return `job ${s.jobId}: ${s.status.toLowerCase()} (started ${s.startTime.toISOString()}${ended})`;
}

interface Report {
  jobId: string;
  successfulClips: number;
  totalClips: number;
  totalCostUsd: number;
  clips: { clipIndex: number; success: boolean; path: string | null; error: string | null }[];
}

function summaryFromReport(report: Report): string {
  const lines = report.clips.map((c) => `clip ${c.clipIndex}: ${c.success ? `ok  ${c.path}` : `FAILED  ${c.error}`}`);
  return [`job ${report.jobId}: ${report.successfulClips}/${report.totalClips} clips, $${report.totalCostUsd.toFixed(2)}`, ...lines].join(
    '\n',
  );
}

function describeError(err: unknown): string {
  const cause = (err as { cause?: { message?: string; cause?: { message?: string } } }).cause;
  return oneLine(cause?.cause?.message ?? cause?.message ?? (err as Error).message ?? String(err));
}

/** One line, safe for a terminal (control bytes escaped) and bounded, whatever the error echoes. */
function oneLine(text: string): string {
  return printable(text.replace(/\s*\n\s*/g, ' ').trim(), 2000);
}

/** The exit code and the one line to print for an error that ends the command. */
function errorOutcome(err: unknown): { code: number; line: string } {
  const message = err instanceof Error ? err.message : String(err);
  const isParseError = typeof (err as { code?: unknown }).code === 'string' && (err as { code: string }).code.startsWith('ERR_PARSE_ARGS');
  if (err instanceof UsageError || err instanceof ConfigError || isParseError) {
    if (!isParseError) return { code: 2, line: `clipflow: ${oneLine(message)}` };
    // Node's own wording is long ("To specify a positional argument starting with a '-' …"): keep the point.
    const unknown = /^Unknown option '([^']+)'/.exec(message);
    const text = unknown ? `unknown option ${unknown[1]}` : oneLine(message).replace(/\. To specify .*$/, '');
    return { code: 2, line: `clipflow: ${text} (clipflow --help)` };
  }
  if (err instanceof WorkflowNotFoundError) return { code: 1, line: `clipflow: no such job (${err.workflowId})` };
  return { code: 1, line: `clipflow: ${oneLine(message)}` };
}

/** Exits once what was written to stdout and stderr has been handed over. */
function exit(code: number): void {
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

run(process.argv.slice(2)).then(exit, (err: unknown) => {
  const { code, line } = errorOutcome(err);
  console.error(line);
  exit(code);
});
