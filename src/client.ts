import { Client, Connection, WorkflowExecutionAlreadyStartedError, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/common';
import type { Config } from './config.js';
import { describeIssues, GenerateClipsInput, type GenerateClipsResult, type JobProgress, type ValidJob } from './shared/model.js';
import { InvalidInputError } from './shared/errors.js';
import { WORKFLOW_TYPE, workflowIdForJob } from './shared/names.js';
import type { generateClips } from './workflows/generate-clips.js';
import { progressQuery, raiseBudgetUpdate, type BudgetRaised } from './workflows/definitions.js';

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
}

export interface JobHandle {
  jobId: string;
  workflowId: string;
  runId?: string;
  progress(): Promise<JobProgress>;
  result(): Promise<GenerateClipsResult>;
  cancel(): Promise<void>;
  raw: WorkflowHandle<typeof generateClips>;
}

/** Checks a job before it is sent, with the workflow's own rules, naming every bad field. */
export function parseJob(input: unknown): ValidJob {
  const parsed = GenerateClipsInput.safeParse(input);
  if (parsed.success) return parsed.data;
  const { fields, message } = describeIssues(parsed.error.issues);
  throw new InvalidInputError(fields.join(', '), message);
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
        throw err;
      }
    },
    handle: (jobId) => handle(jobId),
    progress: (jobId) => handle(jobId).progress(),
    result: (jobId) => handle(jobId).result(),
    cancel: (jobId) => handle(jobId).cancel(),
    raiseBudget: (jobId, budgetUsd) => handle(jobId).raw.executeUpdate(raiseBudgetUpdate, { args: [{ budgetUsd }] }),
  };
}

/** Connects to the cluster the configuration names. */
export async function connectClient(config: Config): Promise<Client> {
  const connection = await Connection.connect({ address: config.temporal.address ?? 'localhost:7233' });
  return new Client({ connection, namespace: config.temporal.namespace });
}

/** The partial result a job that failed with InsufficientClips carries, if that is why it failed. */
export function insufficientClipsResult(err: unknown): GenerateClipsResult | undefined {
  if (!(err instanceof WorkflowFailedError)) return undefined;
  const cause = err.cause as { type?: string; details?: unknown[] } | undefined;
  return cause?.type === 'InsufficientClips' ? (cause.details?.[0] as GenerateClipsResult) : undefined;
}
