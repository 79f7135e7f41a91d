import {
  Client,
  Connection,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  type WorkflowExecutionInfo,
  type WorkflowExecutionStatusName,
  type WorkflowHandle,
} from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import { clientConnectionOptions, type Config } from './config/index.js';
import { describeIssues, GenerateClipsInput, type GenerateClipsResult, type JobProgress, type ValidJob } from './shared/model.js';
import { invalidInput } from './shared/failures.js';
import {
  jobIdFromWorkflowId,
  progressQuery,
  raiseBudgetUpdate,
  WORKFLOW_TYPE,
  workflowIdForJob,
  type BudgetRaised,
} from './shared/names.js';
import type { generateClips } from './workflows/generate-clips.js';

/** What the orchestrator calls: start a job, watch it, await its clips. */
export interface ClipflowClient {
  /** Starts the job; starting the same jobId again returns the running (or finished) one, never a second run. */
  start(input: GenerateClipsInput): Promise<JobHandle>;
  handle(jobId: string): JobHandle;
  progress(jobId: string): Promise<JobProgress>;
  result(jobId: string): Promise<GenerateClipsResult>;
  cancel(jobId: string): Promise<void>;
  /** Raises a running job's budget; clips held back for budget then start. */
  raiseBudget(jobId: string, budgetUsd: number): Promise<BudgetRaised>;
  /** Where a job stands (running, completed, failed, …) and when it started and ended. */
  describe(jobId: string): Promise<JobSummary>;
  /** The jobs of this task queue, newest first (visibility is eventually consistent: a job just started may be missing). */
  list(options?: ListJobsOptions): Promise<JobSummary[]>;
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

function summary(info: Pick<WorkflowExecutionInfo, 'workflowId' | 'runId' | 'status' | 'startTime' | 'closeTime'>): JobSummary {
  const status = info.status.name === 'UNSPECIFIED' ? 'UNKNOWN' : info.status.name;
  return {
    jobId: jobIdFromWorkflowId(info.workflowId),
    workflowId: info.workflowId,
    runId: info.runId,
    status,
    startTime: info.startTime,
    ...(info.closeTime ? { closeTime: info.closeTime } : {}),
  };
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

/** Checks a job before it is sent, with the workflow's own rules, naming every bad field. */
export function parseJob(input: unknown): ValidJob {
  const parsed = GenerateClipsInput.safeParse(input);
  if (parsed.success) return parsed.data;
  const { fields, message } = describeIssues(parsed.error.issues);
  throw invalidInput(fields.join(', '), message);
}

export function createClipflowClient(client: Client, options: { taskQueue: string }): ClipflowClient {
  function handle(jobId: string, runId?: string): JobHandle {
    const workflowId = workflowIdForJob(jobId);
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
    async start(input) {
      const job = parseJob(input);
      const workflowId = workflowIdForJob(job.jobId);
      try {
        const started = await client.workflow.start<typeof generateClips>(WORKFLOW_TYPE, {
          taskQueue: options.taskQueue,
          workflowId,
          args: [job],
          // A job id names one job: a second start joins the running one, and a finished job is not run again.
          workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        });
        return handle(job.jobId, started.firstExecutionRunId);
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError) return handle(job.jobId);
        // The SDK says "Failed to start Workflow"; the server's reason (a start input over the
        // blob size limit, say) is in the cause, and is what a person needs to read.
        const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : undefined;
        if (cause) throw new Error(`the server refused to start job ${job.jobId}: ${cause}`, { cause: err });
        throw err;
      }
    },
    handle: (jobId) => handle(jobId),
    progress: (jobId) => handle(jobId).progress(),
    result: (jobId) => handle(jobId).result(),
    cancel: (jobId) => handle(jobId).cancel(),
    raiseBudget: (jobId, budgetUsd) => handle(jobId).raw.executeUpdate(raiseBudgetUpdate, { args: [{ budgetUsd }] }),
    describe: (jobId) => handle(jobId).describe(),
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
  };
}

/** Connects to the cluster the configuration names (address, namespace, TLS, API key: see config/connection.ts). */
export async function connectClient(config: Config): Promise<Client> {
  const connection = await Connection.connect(clientConnectionOptions(config));
  return new Client({ connection, namespace: config.temporal.namespace });
}

/** The partial result a job that failed with InsufficientClips carries, if that is why it failed. */
export function insufficientClipsResult(err: unknown): GenerateClipsResult | undefined {
  if (!(err instanceof WorkflowFailedError)) return undefined;
  const cause = err.cause as { type?: string; details?: unknown[] } | undefined;
  return cause?.type === 'InsufficientClips' ? (cause.details?.[0] as GenerateClipsResult) : undefined;
}
