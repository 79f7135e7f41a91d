import { parseArgs } from 'node:util';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { Client } from '@temporalio/client';
import {
  connectClient,
  createClipflowClient,
  JOB_STATUSES,
  JobInputConflict,
  RedoRefused,
  type JobHandle,
  parseBudgetUsd,
  parseJobId,
  type ClipflowClient,
  type JobStatus,
  type JobSummary,
} from '../client.js';
import { ConfigError, DEFAULT_ADDRESS, loadConfig, type Config } from '../config/index.js';
import type { ArtifactStore } from '../store/artifact-store.js';
import { jobMetadataSettings } from '../job-metadata.js';
import { createStore } from '../store/create-store.js';
import { reportKey } from '../store/keys.js';
import type { JobProgress } from '../shared/model.js';
import { formatUsd, usdToMicros } from '../shared/money.js';
import { ClipflowError, FailureType } from '../shared/failures.js';
import { printable } from '../shared/text.js';
import { UsageError } from './job-file.js';
import { parseClipList, readRedoPrompts } from './redo-args.js';
import { progressLine } from './progress-view.js';
import { reportLines, summaryTable } from './render.js';
import { readCheckedJobFile, validateCommand } from './validate.js';
import { watchJob, workerNotices } from './watch.js';
import { clientTracingInterceptors, startOtlpTracing, type Tracing } from '../telemetry/tracing.js';

const USAGE = `usage: clipflow <command> [options]
  generate <job.json> [--job-id ID] [--no-wait] [--json]   check a job file as validate does, start it and show its progress until it ends
  validate <job.json> [--json]                              check a job file as the workflow will (schema, this environment, its model); one line per problem
  status <jobId> [--json]                                   where a job stands, with its progress
  cancel <jobId> [--json]                                   cancel a job (running predictions are cancelled, the report is written)
  report <jobId> [--json]                                   the job's production report
  list [--status STATUS] [--limit N] [--json]               recent jobs of the task queue, newest first, with their counts and spend
  raise-budget <jobId> <usd> [--json]                       raise a running job's budget to <usd>; clips waiting for budget start
  redo <jobId> (--clips 3,5 | --failed) [--file prompts.json] [--no-wait] [--json]
                                                            start <jobId>-redo-N: keeps the finished job's other good clips (not paid
                                                            again) and makes these clips again (new prompts from the file, if given)
Jobs run on a worker: start one first (npm run worker) with the same TEMPORAL_* settings.
Exit codes: 0 done, 1 the job or the cluster failed, 2 usage error (bad flag, bad job id, bad job file, a job id
already used for other input, bad configuration).`;

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
  clips: { type: 'string' },
  failed: { type: 'boolean' },
  file: { type: 'string' },
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
  'raise-budget': { args: ['a job id', 'a budget in USD'], options: ['json'] },
  redo: { args: ['a job id'], options: ['json', 'no-wait', 'clips', 'failed', 'file'] },
};
const COMMAND_NAMES = 'generate, validate, status, cancel, report, list, raise-budget or redo';

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
  if (!command) throw new UsageError(`a command is needed: ${COMMAND_NAMES} (clipflow --help)`);
  const spec = Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (!spec) throw new UsageError(`unknown command ${quoted(command)}: use ${COMMAND_NAMES} (clipflow --help)`);
  for (const token of tokens) {
    if (token.kind === 'option' && !spec.options.includes(token.name as OptionName)) {
      throw new UsageError(`${command} does not take ${token.rawName} (clipflow --help)`);
    }
  }
  if (args.length < spec.args.length) throw new UsageError(`${command} needs ${spec.args[args.length]} (clipflow --help)`);
  if (args.length > spec.args.length)
    throw new UsageError(`${command}: unexpected argument ${quoted(args[spec.args.length] ?? '')} (clipflow --help)`);
  const json = values.json === true;
  const arg = args[0] ?? '';
  // Flags and ids are checked before configuration and files, so their mistakes are reported first.
  const status = parseStatus(values.status);
  const limit = parseLimit(values.limit);
  const jobId = spec.args[0] === 'a job id' ? jobIdArgument(arg) : '';
  const budgetUsd = command === 'raise-budget' ? budgetArgument(args[1] ?? '') : 0;
  const redoClips = values.clips === undefined ? undefined : parseClipList(values.clips);
  if (command === 'redo' && (redoClips === undefined) === (values.failed !== true)) {
    throw new UsageError('redo needs either --clips (the clip indexes to make again) or --failed, not both (clipflow --help)');
  }
  const config = loadConfig();
  const { taskQueue } = config.temporal;

  switch (command) {
    case 'generate': {
      const job = await readCheckedJobFile(config, arg, values['job-id']);
      // A big job's clip list goes to the workers' store; the workflow gets its URI.
      const clipflow = await connect(config, createStore(config.store));
      let handle: Awaited<ReturnType<ClipflowClient['start']>>;
      try {
        handle = await clipflow.start(job);
      } catch (err) {
        // The same id with the same input joins the job; with other input it would report another job's clips.
        if (err instanceof JobInputConflict) throw new UsageError(`${err.message} (job file ${arg})`);
        throw err;
      }
      return follow(clipflow, handle, taskQueue, { json, noWait: values['no-wait'] === true }, out);
    }
    case 'redo': {
      const prompts = values.file === undefined ? undefined : await readRedoPrompts(values.file);
      const clipflow = await connect(config);
      let handle: Awaited<ReturnType<ClipflowClient['redo']>>;
      try {
        handle = await clipflow.redo(jobId, {
          ...(redoClips ? { clips: redoClips } : { failed: true }),
          ...(prompts ? { prompts } : {}),
        });
      } catch (err) {
        if (err instanceof RedoRefused) throw new UsageError(`redo: ${err.message}`);
        // The redo's clips broke the job's rules (a new prompt, most likely): the fields are named.
        if (err instanceof ClipflowError && err.type === FailureType.InvalidInput)
          throw new UsageError(`redo of job ${jobId}: ${err.message}`);
        throw err;
      }
      console.error(`job ${handle.jobId} redoes job ${jobId}`);
      return follow(clipflow, handle, taskQueue, { json, noWait: values['no-wait'] === true }, out);
    }
    case 'validate':
      return validateCommand(config, arg, json, out);
    case 'status': {
      const clipflow = await connect(config);
      const summary = await clipflow.describe(jobId);
      const progress = await progressOf(clipflow, summary);
      if (json) out(JSON.stringify({ ...summary, ...(progress ? { progress } : {}) }));
      else out(`${statusLine(summary)}${progress ? `\n${progressLine(progress)}` : ''}`);
      return 0;
    }
    case 'cancel': {
      const clipflow = await connect(config);
      const summary = await clipflow.describe(jobId);
      if (summary.status !== 'RUNNING') throw new CommandError(`job ${jobId} is not running (${summary.status.toLowerCase()})`);
      await clipflow.cancel(jobId);
      out(
        json ? JSON.stringify({ jobId, workflowId: summary.workflowId, cancelRequested: true }) : `cancellation requested for job ${jobId}`,
      );
      return 0;
    }
    case 'raise-budget': {
      const clipflow = await connect(config);
      const summary = await clipflow.describe(jobId);
      if (summary.status !== 'RUNNING') {
        throw new CommandError(`job ${jobId} is not running (${summary.status.toLowerCase()}): its budget can no longer be raised`);
      }
      let raised: Awaited<ReturnType<ClipflowClient['raiseBudget']>>;
      try {
        raised = await clipflow.raiseBudget(jobId, budgetUsd);
      } catch (err) {
        // The workflow's validator refused it (for example not above the current limit): its words.
        if (err instanceof WorkflowUpdateFailedError) throw new CommandError(`job ${jobId}: ${err.cause?.message ?? err.message}`);
        throw err;
      }
      const waiting = `${raised.heldClips} clip${raised.heldClips === 1 ? '' : 's'} not started yet`;
      out(
        json
          ? JSON.stringify({ jobId, workflowId: summary.workflowId, ...raised })
          : `job ${jobId}: budget raised to ${formatUsd(usdToMicros(raised.limitUsd))} (${waiting})`,
      );
      return 0;
    }
    case 'report': {
      // The report is in the artifact store the workers write to (CLIPFLOW_STORE, else OUTPUT_DIR).
      const store = createStore(config.store);
      const file = store.uriOf(reportKey(jobId));
      let text: string;
      try {
        text = await store.getText(file);
      } catch {
        throw new CommandError(`no report for job ${jobId} at ${file} (has the job finished? is the store the workers'?)`);
      } finally {
        await store.close();
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
      else if (jobs.length === 0) out(`no jobs on task queue ${taskQueue}${status ? ` with status ${status.toLowerCase()}` : ''}`);
      else {
        const width = Math.max(...jobs.map((j) => j.jobId.length));
        out(
          jobs
            .map((j) => `${j.startTime.toISOString()}  ${j.status.padEnd(10)}  ${j.jobId.padEnd(width)}  ${counts(j)}`.trimEnd())
            .join('\n'),
        );
      }
      return 0;
    }
  }
  throw new UsageError(`unknown command "${command}"`);
}

/** Shows a started job until it ends (or only its id, with --no-wait); the exit code says how it went. */
async function follow(
  clipflow: ClipflowClient,
  handle: JobHandle,
  taskQueue: string,
  { json, noWait }: { json: boolean; noWait: boolean },
  out: (text: string) => void,
): Promise<number> {
  const { jobId } = handle;
  console.error(`job ${jobId}: workflow ${handle.workflowId} on task queue ${taskQueue}`);
  const notices = workerNotices(() => clipflow.workersPolling(), taskQueue);
  if (noWait) {
    const notice = await notices().catch(() => undefined);
    if (notice) console.error(`clipflow: ${notice}`);
    out(json ? JSON.stringify({ jobId, workflowId: handle.workflowId, ...(handle.runId ? { runId: handle.runId } : {}) }) : jobId);
    return 0;
  }
  const { result, error } = await watchJob(handle, {
    notices: async () => {
      const notice = await notices();
      return notice && `clipflow: ${notice}`;
    },
  });
  if (result) out(json ? JSON.stringify(result, null, 2) : `${summaryTable(result)}\n\n${reportLines(result)}`);
  if (error) {
    if (json && !result) out(JSON.stringify({ jobId, workflowId: handle.workflowId, error: describeError(error) }));
    console.error(`clipflow: job ${jobId} failed: ${describeError(error)}`);
    return 1;
  }
  return 0;
}

/** Started on the first connection when traces are configured: a job started here opens its trace here. */
let tracing: Tracing | undefined;

async function connect(config: Config, store?: ArtifactStore): Promise<ClipflowClient> {
  const { otlpEndpoint, serviceName } = config.telemetry;
  if (otlpEndpoint) tracing ??= startOtlpTracing({ serviceName, endpoint: otlpEndpoint });
  let client: Client;
  try {
    client = await connectClient(config, tracing ? clientTracingInterceptors(tracing) : []);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new CommandError(`cannot connect to Temporal at ${config.temporal.address ?? DEFAULT_ADDRESS}: ${(err as Error).message}`);
  }
  return createClipflowClient(client, {
    taskQueue: config.temporal.taskQueue,
    maxClips: config.job.maxClips,
    jobDefaults: jobMetadataSettings(config),
    ...(store ? { store } : {}),
  });
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
  const known = counts(s);
  return `job ${s.jobId}: ${s.status.toLowerCase()} (started ${s.startTime.toISOString()}${ended})${known ? ` · ${known}` : ''}`;
}

/** A job's clip counts and spend from its search attributes ('' before the job has set them). */
function counts(s: JobSummary): string {
  if (s.clipsSucceeded === undefined && s.clipsFailed === undefined && s.spendUsd === undefined) return '';
  return `${s.clipsSucceeded ?? 0} ok · ${s.clipsFailed ?? 0} failed · ${formatUsd(usdToMicros(s.spendUsd ?? 0))}`;
}

/** A value from the command line as it may be shown: quoted, control characters escaped, not too long. */
function quoted(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
}

/** A job id argument, by the rule job files follow: an id is never a path. */
function jobIdArgument(value: string): string {
  try {
    return parseJobId(value);
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/^invalid input: jobId: /, 'job id: '));
  }
}

function budgetArgument(value: string): number {
  const usd = /^\s*\+?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(value) ? Number(value) : Number.NaN;
  if (Number.isNaN(usd)) throw new UsageError(`the budget must be a number of US dollars, like 5 or 12.50, not ${quoted(value)}`);
  try {
    return parseBudgetUsd(usd);
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/^invalid input: budgetUsd: /, 'budget: '));
  }
}

interface Report {
  jobId: string;
  successfulClips: number;
  totalClips: number;
  totalCostUsd: number;
  clips: {
    clipIndex: number;
    success: boolean;
    uri: string | null;
    path: string | null;
    error: string | null;
    imageNote?: string | null;
  }[];
}

/** A made clip's line: text-only when its reference image was not used, saying why. */
function clipMade(c: Report['clips'][number]): string {
  const where = c.path ?? c.uri;
  return c.imageNote ? `ok, text-only  ${where}  (${c.imageNote})` : `ok  ${where}`;
}

function summaryFromReport(report: Report): string {
  const lines = report.clips.map((c) => `clip ${c.clipIndex}: ${c.success ? clipMade(c) : `FAILED  ${c.error}`}`);
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

/** Exits once the spans are sent and what was written to stdout and stderr has been handed over. */
function exit(code: number): void {
  const flushed = tracing ? tracing.shutdown().catch(() => undefined) : Promise.resolve();
  void flushed.then(() => process.stdout.write('', () => process.stderr.write('', () => process.exit(code))));
}

run(process.argv.slice(2)).then(exit, (err: unknown) => {
  const { code, line } = errorOutcome(err);
  console.error(line);
  exit(code);
});
