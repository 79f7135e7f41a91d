/**
 * Every workflow of one job: its own (`clipflow-<jobId>`) and, for a job run in batches, each
 * batch's (`<parent>-batch-<n>`, n from 0 to result.batches.count - 1), profiled; and the figures
 * the limits care about, the most events in one workflow and the largest payload anywhere.
 */
import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { batchWorkflowId } from '../src/shared/names.js';
import { profileHistory, type HistoryProfile } from './history-profile.js';

export interface WorkflowFigures {
  workflowId: string;
  status: string;
  events: number;
  largestPayloadBytes: number;
  largestPayloadWhere: string;
  history: temporal.api.history.v1.IHistory;
  profile: HistoryProfile;
}

/** The ids of a job's workflows: the parent's, then its batches' in order. */
export function jobWorkflowIds(parentWorkflowId: string, batches = 0): string[] {
  return [parentWorkflowId, ...Array.from({ length: batches }, (_, n) => batchWorkflowId(parentWorkflowId, n))];
}

export async function jobWorkflows(client: Client, parentWorkflowId: string, batches = 0): Promise<WorkflowFigures[]> {
  return Promise.all(
    jobWorkflowIds(parentWorkflowId, batches).map(async (workflowId) => {
      const handle = client.workflow.getHandle(workflowId);
      const [description, history] = await Promise.all([handle.describe(), handle.fetchHistory()]);
      const profile = profileHistory(history);
      return {
        workflowId,
        status: description.status.name,
        events: profile.events,
        largestPayloadBytes: profile.largestPayload.bytes,
        largestPayloadWhere: profile.largestPayload.where,
        history,
        profile,
      };
    }),
  );
}

/** The job's worst workflow by events, and its largest payload, with where they are. */
export function jobLimits(workflows: readonly WorkflowFigures[]) {
  const byEvents = [...workflows].sort((a, b) => b.events - a.events)[0];
  const byPayload = [...workflows].sort((a, b) => b.largestPayloadBytes - a.largestPayloadBytes)[0];
  return {
    workflows: workflows.length,
    maxEvents: byEvents?.events ?? 0,
    maxEventsWorkflow: byEvents?.workflowId ?? '',
    largestPayloadBytes: byPayload?.largestPayloadBytes ?? 0,
    largestPayloadWhere: byPayload ? `${byPayload.workflowId}: ${byPayload.largestPayloadWhere}` : '',
  };
}
