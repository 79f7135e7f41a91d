/** Names shared by worker, client and workflow. Changing one breaks running jobs. */
export const TASK_QUEUE = 'clipflow';
export const WORKFLOW_TYPE = 'generateClips';
export const PROGRESS_QUERY = 'progress';
export const RAISE_BUDGET_UPDATE = 'raiseBudget';

export function workflowIdForJob(jobId: string): string {
  return `clipflow-${jobId}`;
}

export function clipFileName(clipIndex: number): string {
  return `clip_${String(clipIndex).padStart(3, '0')}.mp4`;
}

export const REPORT_FILE_NAME = 'production_report.json';
