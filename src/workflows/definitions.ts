import { defineQuery } from '@temporalio/workflow';
import type { JobProgress } from '../shared/model.js';
import { PROGRESS_QUERY } from '../shared/names.js';

/** Signal, query and update definitions shared by the workflow and the client. */
export const progressQuery = defineQuery<JobProgress>(PROGRESS_QUERY);
