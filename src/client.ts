import {
  Client,
  Connection,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  type WorkflowExecutionInfo,
  type WorkflowExecutionStatusName,
  type WorkflowClientInterceptor,
  type WorkflowHandle,
} from '@temporalio/client';
import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { ApplicationFailure, WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow/index.js';
import { tsToMs } from '@temporalio/common/lib/time.js';
import proto from '@temporalio/proto';
import { clientConnectionOptions, type Config } from './config/index.js';
import {
  BudgetUsd,
  describeIssues,
  GenerateClipsInput,
  JobId,
  jobSchema,
  MAX_CLIPS_SETTING,
  MAX_JOB_ID_CHARS,
  namesClipList,
  StoredJobInput,
  type GenerateClipsResult,
  type JobProgress,
  type ValidJob,
  type ValidJobInput,
} from './shared/model.js';
import type { ArtifactStore } from './store/artifact-store.js';
import { clipListKey } from './store/keys.js';
import { FailureType, invalidInput } from './shared/failures.js';
import { jobMetadata, type JobMetadataSettings } from './job-metadata.js';
import { planRedo, RedoRefused, type RedoOptions } from './redo-plan.js';
import {
  CLIPS_FAILED_ATTRIBUTE,
  CLIPS_SUCCEEDED_ATTRIBUTE,
  jobIdFromWorkflowId,
  progressQuery,
  raiseBudgetUpdate,
  SPEND_USD_ATTRIBUTE,
  WORKFLOW_TYPE,
  workflowIdForJob,
  type BudgetRaised,
} from './shared/names.js';
import type { generateClips } from './workflows/generate-clips.js';

/** What the orchestrator calls: start a job, watch it, await its clips. */
export interface ClipflowClient {
  /**
   * Starts the job; starting the same jobId again with the same input returns the running (or
   * finished) one, never a second run. With other input it throws JobInputConflict.
   */
  start(input: GenerateClipsInput): Promise<JobHandle>;
  /**
   * Starts `<jobId>-redo-N`, a new job that keeps the finished job's good clips (not paid for
   * again) and makes again the chosen ones, or the failed ones; throws RedoRefused when it cannot.
   */
  redo(jobId: string, options: RedoOptions): Promise<JobHandle>;
  handle(jobId: string): JobHandle;
  progress(jobId: string): Promise<JobProgress>;
  result(jobId: string): Promise<GenerateClipsResult>;
  cancel(jobId: string): Promise<void>;
  /** Raises a running job's budget (within the bounds of options.budgetUsd); clips held back for budget then start. */
  raiseBudget(jobId: string, budgetUsd: number): Promise<BudgetRaised>;
  /** Where a job stands (running, completed, failed, …) and when it started and ended. */
  describe(jobId: string): Promise<JobSummary>;
  /** The jobs of this task queue, newest first (visibility is eventually consistent: a job just started may be missing). */
  list(options?: ListJobsOptions): Promise<JobSummary[]>;
  /** The workers seen polling this task queue for workflow tasks lately (none: a job waits). */
  workersPolling(): Promise<string[]>;
}

/** A job's workflow status, as Temporal names it. */
export type JobStatus = Exclude<WorkflowExecutionStatusName, 'UNSPECIFIED' | 'UNKNOWN'>;
export const JOB_STATUSES: readonly JobStatus[] = [
  'RUNNING',
  'COMPLETED',
  'FAILED',
  'CANCELLED',
  'TERMINATED',
  'CONTINUED_AS_NEW',
  'TIMED_OUT',
  'PAUSED',
];

export interface JobSummary {
  jobId: string;
  workflowId: string;
  runId: string;
  status: JobStatus | 'UNKNOWN';
  startTime: Date;
  /** Absent while the job runs. */
  closeTime?: Date;
  /** From the job's search attributes, absent until the job has set them (or without them). */
  clipsSucceeded?: number;
  clipsFailed?: number;
  spendUsd?: number;
}

export interface ListJobsOptions {
  status?: JobStatus;
  /** At most this many jobs; 50 when omitted. */
  limit?: number;
}

/** The visibility-query spelling of each status (ExecutionStatus = '…'). */
const STATUS_QUERY_NAMES: Record<JobStatus, string> = {
  RUNNING: 'Running',
  COMPLETED: 'Completed',
  FAILED: 'Failed',
  CANCELLED: 'Canceled',
  TERMINATED: 'Terminated',
  CONTINUED_AS_NEW: 'ContinuedAsNew',
  TIMED_OUT: 'TimedOut',
  PAUSED: 'Paused',
};

function quote(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** The visibility query for the jobs of one task queue, optionally in one status. */
export function listJobsQuery(taskQueue: string, status?: JobStatus): string {
  const parts = [`WorkflowType = ${quote(WORKFLOW_TYPE)}`, `TaskQueue = ${quote(taskQueue)}`];
  if (status) parts.push(`ExecutionStatus = ${quote(STATUS_QUERY_NAMES[status])}`);
  return parts.join(' AND ');
}

function summary(
  info: Pick<WorkflowExecutionInfo, 'workflowId' | 'runId' | 'status' | 'startTime' | 'closeTime' | 'typedSearchAttributes'>,
): JobSummary {
  const status = info.status.name === 'UNSPECIFIED' ? 'UNKNOWN' : info.status.name;
  const attributes = info.typedSearchAttributes;
  const counts = {
    clipsSucceeded: attributes.get(CLIPS_SUCCEEDED_ATTRIBUTE),
    clipsFailed: attributes.get(CLIPS_FAILED_ATTRIBUTE),
    spendUsd: attributes.get(SPEND_USD_ATTRIBUTE),
  };
  return {
    jobId: jobIdFromWorkflowId(info.workflowId),
    workflowId: info.workflowId,
    runId: info.runId,
    status,
    startTime: info.startTime,
    ...(info.closeTime ? { closeTime: info.closeTime } : {}),
    ...Object.fromEntries(Object.entries(counts).filter(([, value]) => value !== undefined)),
  };
}

/** A worker whose last poll is older than this is taken for gone (a long poll lasts about a minute). */
const POLLER_SEEN_WITHIN_MS = 90_000;

/** Thrown by start when the job id is taken by a job whose input differs: its result is not this input's. */
export class JobInputConflict extends Error {
  override readonly name = 'JobInputConflict';
  constructor(
    readonly jobId: string,
    readonly workflowId: string,
    /** Where the inputs first differ, e.g. `clipPrompts[1].prompt`. */
    readonly field: string,
  ) {
    super(
      `job ${jobId} already exists (workflow ${workflowId}) and its input differs from this one (${field || 'the input'}); ` +
        'a job id names one job: use another job id to run this input',
    );
  }
}

/** The path of the first place where two parsed inputs differ ('' when they differ at the top). */
function firstDifference(a: unknown, b: unknown, path = ''): string | undefined {
  if (isDeepStrictEqual(a, b)) return undefined;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) return path;
  if (Array.isArray(a) && Array.isArray(b) && a.length !== b.length) return `${path} (${a.length} vs ${b.length} entries)`;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) {
    const next = Array.isArray(a) ? `${path}[${key}]` : path ? `${path}.${key}` : key;
    const found = firstDifference((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], next);
    if (found !== undefined) return found;
  }
  return path;
}

export interface JobHandle {
  jobId: string;
  workflowId: string;
  runId?: string;
  progress(): Promise<JobProgress>;
  result(): Promise<GenerateClipsResult>;
  cancel(): Promise<void>;
  describe(): Promise<JobSummary>;
  raw: WorkflowHandle<typeof generateClips>;
}

/** Checks a job id with the rule the job input uses: an id names a workflow and an outputs folder. */
export function parseJobId(jobId: unknown): string {
  const parsed = JobId.safeParse(jobId);
  if (parsed.success) return parsed.data;
  const shown = typeof jobId === 'string' ? JSON.stringify(jobId.length > 80 ? `${jobId.slice(0, 80)}…` : jobId) : String(jobId);
  throw invalidInput('jobId', `${parsed.error.issues.map((i) => i.message).join('; ')} (got ${shown})`);
}

/** Checks a budget with the bounds of options.budgetUsd, as the workflow's raiseBudget validator does. */
export function parseBudgetUsd(budgetUsd: unknown): number {
  const parsed = BudgetUsd.safeParse(budgetUsd);
  if (parsed.success) return parsed.data;
  throw invalidInput('budgetUsd', `${parsed.error.issues.map((i) => i.message).join('; ')} (got ${String(budgetUsd)})`);
}

/** Checks a job before it is sent, with the workflow's own rules (and the sanity limit on its clips), naming every bad field. */
export function parseJob(input: unknown, maxClips?: number): ValidJob {
  const schema = maxClips === undefined ? GenerateClipsInput : jobSchema(undefined, { maxClips, setting: MAX_CLIPS_SETTING });
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const { fields, message } = describeIssues(parsed.error.issues);
  throw invalidInput(fields.join(', '), message);
}

/**
 * A start input above this size does not carry the clips: they go to the artifact store and the
 * workflow gets their URI, so no start input nears Temporal's 256 KiB payload warning (nor its
 * 2 MB limit) whatever the prompts' lengths.
 */
export const INLINE_INPUT_BYTES = 128 * 1024;

export interface ClipflowClientOptions {
  taskQueue: string;
  /** Where a big job's clip list goes (the workers' store); without one every job is sent whole. */
  store?: ArtifactStore;
  /** The sanity limit on a job's clips (CLIPFLOW_MAX_CLIPS), checked before the job is sent. */
  maxClips?: number;
  /** The defaults a job's Web UI summary names where the job does not say (jobMetadataSettings(config)). */
  jobDefaults?: JobMetadataSettings;
}

export { RedoRefused, type RedoOptions } from './redo-plan.js';

export function createClipflowClient(client: Client, options: ClipflowClientOptions): ClipflowClient {
  function handle(jobId: string, runId?: string): JobHandle {
    const workflowId = workflowIdForJob(parseJobId(jobId));
    const raw = client.workflow.getHandle<typeof generateClips>(workflowId);
    return {
      jobId,
      workflowId,
      ...(runId ? { runId } : {}),
      raw,
      progress: () => raw.query(progressQuery),
      result: () => raw.result(),
      cancel: async () => {
        await raw.cancel();
      },
      describe: async () => summary(await raw.describe()),
    };
  }

  return {
    start: (input) => startJob(parseJob(input, options.maxClips)),
    async redo(jobId, redoOptions) {
      const original = handle(jobId);
      const result = await finishedResult(original);
      const input = await startedInput(original.workflowId);
      if (!input || namesClipList(input)) {
        throw new RedoRefused(`job ${jobId} has its clip list in the store (a job past one batch): redoing it is not supported`);
      }
      const planned = planRedo(GenerateClipsInput.parse(input), result, redoOptions, await freeRedoId(jobId));
      // The redo's memo names the job it redoes; that job's memo cannot change once it has ended.
      return startJob(parseJob(planned, options.maxClips), { redoOf: jobId });
    },
    handle: (jobId) => handle(jobId),
    progress: async (jobId) => handle(jobId).progress(),
    result: async (jobId) => handle(jobId).result(),
    cancel: async (jobId) => handle(jobId).cancel(),
    raiseBudget: async (jobId, budgetUsd) =>
      handle(jobId).raw.executeUpdate(raiseBudgetUpdate, { args: [{ budgetUsd: parseBudgetUsd(budgetUsd) }] }),
    describe: async (jobId) => handle(jobId).describe(),
    async list({ status, limit = 50 } = {}) {
      if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`list: limit must be a positive integer, not ${limit}`);
      const jobs: JobSummary[] = [];
      const query = listJobsQuery(options.taskQueue, status);
      for await (const info of client.workflow.list({ query, pageSize: Math.min(limit, 1000) })) {
        jobs.push(summary(info));
        if (jobs.length >= limit) break;
      }
      return jobs;
    },
    async workersPolling() {
      const { TaskQueueKind, TaskQueueType } = proto.temporal.api.enums.v1;
      const { pollers } = await client.workflowService.describeTaskQueue({
        namespace: client.options.namespace,
        taskQueue: { name: options.taskQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
        taskQueueType: TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
      });
      const now = Date.now();
      return pollers
        .filter((p) => p.lastAccessTime && now - tsToMs(p.lastAccessTime) < POLLER_SEEN_WITHIN_MS)
        .map((p) => p.identity ?? 'a worker');
    },
  };

  async function startJob(valid: ValidJob, memo?: Record<string, unknown>): Promise<JobHandle> {
    const job = await startInput(valid);
    const workflowId = workflowIdForJob(job.jobId);
    try {
      const started = await client.workflow.start<typeof generateClips>(WORKFLOW_TYPE, {
        taskQueue: options.taskQueue,
        workflowId,
        args: [job],
        ...(memo ? { memo } : {}),
        // The Web UI's summary and details of the job (Temporal's user metadata).
        ...jobMetadata(valid, options.jobDefaults),
        // A job id names one job: a second start joins the running one, and a finished job is not run again.
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      });
      const joined = handle(job.jobId, started.firstExecutionRunId);
      await requireSameInput(joined, job);
      return joined;
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) {
        const existing = handle(job.jobId);
        await requireSameInput(existing, job);
        return existing;
      }
      // The SDK says "Failed to start Workflow"; the server's reason (a start input over the
      // blob size limit, say) is in the cause, and is what a person needs to read.
      const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : undefined;
      if (cause) throw new Error(`the server refused to start job ${job.jobId}: ${cause}`, { cause: err });
      throw err;
    }
  }

  /** A finished job's result; a job that failed for too few clips carries it in its failure. */
  async function finishedResult(job: JobHandle): Promise<GenerateClipsResult> {
    const { status } = await job.describe();
    if (status === 'COMPLETED') return job.result();
    if (status === 'FAILED') {
      const err = await job.result().then(
        () => undefined,
        (e: unknown) => e,
      );
      const cause = err instanceof WorkflowFailedError ? err.cause : undefined;
      if (cause instanceof ApplicationFailure && cause.type === FailureType.InsufficientClips && cause.details?.[0]) {
        return cause.details[0] as GenerateClipsResult;
      }
    }
    throw new RedoRefused(
      `job ${job.jobId} has not finished with clips (${status.toLowerCase()}): only a completed job, or one that made too few clips, can be redone`,
    );
  }

  /** The first free `<jobId>-redo-N`: the id says which job it redoes and the how-manieth redo it is. */
  async function freeRedoId(jobId: string): Promise<string> {
    for (let n = 1; ; n++) {
      const id = `${jobId}-redo-${n}`;
      if (id.length > MAX_JOB_ID_CHARS) throw new RedoRefused(`job id ${id} would be longer than ${MAX_JOB_ID_CHARS} characters`);
      const exists = await handle(id)
        .describe()
        .then(
          () => true,
          (err: unknown) => {
            if (err instanceof WorkflowNotFoundError) return false;
            throw err;
          },
        );
      if (!exists) return id;
    }
  }

  /** The input a workflow was started with (its first history event). */
  async function startedInput(workflowId: string, runId?: string): Promise<unknown> {
    const { history } = await client.workflowService.getWorkflowExecutionHistory({
      namespace: client.options.namespace,
      execution: { workflowId, ...(runId ? { runId } : {}) },
      maximumPageSize: 1,
    });
    const payloads = history?.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads;
    return decodeFromPayloadsAtIndex(client.options.loadedDataConverter, 0, payloads);
  }

  /**
   * The job as it is sent: whole when it is small, else its clip list in the store under a key
   * named by the list's hash (the same list gives the same URI, another list another one).
   */
  async function startInput(job: ValidJob): Promise<ValidJobInput> {
    const { store } = options;
    // A redo is sent whole: it runs in one workflow, which reads no clip list from the store.
    if (!store || job.redo || Buffer.byteLength(JSON.stringify(job)) <= INLINE_INPUT_BYTES) return job;
    const list = JSON.stringify(job.clipPrompts);
    const uri = await store.putText(clipListKey(job.jobId, createHash('sha256').update(list).digest('hex')), list, 'application/json');
    return { jobId: job.jobId, clipList: { uri, clips: job.clipPrompts.length }, ...(job.options ? { options: job.options } : {}) };
  }

  /**
   * A start that found the job already there joins it only if it is the same job: the input the
   * job was started with (its first history event) must be this one.
   */
  async function requireSameInput(job: JobHandle, input: ValidJobInput): Promise<void> {
    const first = await startedInput(job.workflowId, job.runId);
    const recorded = (namesClipList(first) ? StoredJobInput : GenerateClipsInput).safeParse(first);
    const field = firstDifference(recorded.success ? recorded.data : undefined, input);
    if (field !== undefined) throw new JobInputConflict(input.jobId, job.workflowId, field);
  }
}

/** Connects to the cluster the configuration names (address, namespace, TLS, API key: see config/connection.ts). */
/** A client for the configured namespace; with `interceptors` (tracing), the jobs it starts open their trace. */
export async function connectClient(config: Config, interceptors: WorkflowClientInterceptor[] = []): Promise<Client> {
  const connection = await Connection.connect(clientConnectionOptions(config));
  return new Client({ connection, namespace: config.temporal.namespace, interceptors: { workflow: interceptors } });
}

/** The partial result a job that failed with InsufficientClips carries, if that is why it failed. */
export function insufficientClipsResult(err: unknown): GenerateClipsResult | undefined {
  if (!(err instanceof WorkflowFailedError)) return undefined;
  const cause = err.cause as { type?: string; details?: unknown[] } | undefined;
  return cause?.type === 'InsufficientClips' ? (cause.details?.[0] as GenerateClipsResult) : undefined;
}
