import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { BatchProgress } from './activity-io.js';
import type { JobProgress } from './model.js';

/**
 * Names shared by the worker, the client and the workflow: the task queue, the workflow and its
 * id, its query and update, and its search attributes. Changing one breaks running jobs.
 */
export const TASK_QUEUE = 'clipflow';
export const WORKFLOW_TYPE = 'generateClips';

const WORKFLOW_ID_PREFIX = 'clipflow-';

export function workflowIdForJob(jobId: string): string {
  return `${WORKFLOW_ID_PREFIX}${jobId}`;
}

/** The job id a clipflow workflow id stands for (the id itself when it is not one of ours). */
export function jobIdFromWorkflowId(workflowId: string): string {
  return workflowId.startsWith(WORKFLOW_ID_PREFIX) ? workflowId.slice(WORKFLOW_ID_PREFIX.length) : workflowId;
}

export const progressQuery = defineQuery<JobProgress>('progress');

export interface RaiseBudget {
  budgetUsd: number;
}
export interface BudgetRaised {
  limitUsd: number;
  /** Clips waiting for budget when the limit was raised. */
  heldClips: number;
}
export const raiseBudgetUpdate = defineUpdate<BudgetRaised, [RaiseBudget]>('raiseBudget');

/**
 * Custom search attributes a person filters jobs by in the Web UI or with
 * `temporal workflow list --query "ClipflowJobId='…'"`. The dev server registers them at start;
 * a cluster needs them registered once (see the README).
 */
export const JOB_ID_ATTRIBUTE = defineSearchAttributeKey('ClipflowJobId', SearchAttributeType.KEYWORD);
export const CLIPS_SUCCEEDED_ATTRIBUTE = defineSearchAttributeKey('ClipflowClipsSucceeded', SearchAttributeType.INT);
export const CLIPS_FAILED_ATTRIBUTE = defineSearchAttributeKey('ClipflowClipsFailed', SearchAttributeType.INT);
export const SPEND_USD_ATTRIBUTE = defineSearchAttributeKey('ClipflowSpendUsd', SearchAttributeType.DOUBLE);

export const SEARCH_ATTRIBUTES = [JOB_ID_ATTRIBUTE, CLIPS_SUCCEEDED_ATTRIBUTE, CLIPS_FAILED_ATTRIBUTE, SPEND_USD_ATTRIBUTE];

/** The child workflow that runs one batch of a big job. */
export const BATCH_WORKFLOW_TYPE = 'generateClipsBatch';

/** A batch's workflow id follows from its parent's, so a tool can walk every workflow of a job. */
export function batchWorkflowId(parentWorkflowId: string, batch: number): string {
  return `${parentWorkflowId}-batch-${batch}`;
}

/** A batch tells its parent how far it has come (a few times per batch, not per clip). */
export const batchProgressSignal = defineSignal<[BatchProgress]>('batchProgress');
/** The parent gives a running batch more allowance (after raiseBudget). */
export const extendAllowanceSignal = defineSignal<[{ addMicroUsd: number }]>('extendAllowance');
/** The job's spend has passed its limit: a running batch stops its clips and starts no more. */
export const stopForBudgetSignal = defineSignal('stopForBudget');
