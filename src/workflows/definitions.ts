import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { JobProgress } from '../shared/model.js';
import { PROGRESS_QUERY, RAISE_BUDGET_UPDATE } from '../shared/names.js';

/** Signal, query and update definitions shared by the workflow and the client. */
export const progressQuery = defineQuery<JobProgress>(PROGRESS_QUERY);

export interface RaiseBudget {
  budgetUsd: number;
}
export interface BudgetRaised {
  limitUsd: number;
  /** Clips waiting for budget when the limit was raised. */
  heldClips: number;
}
export const raiseBudgetUpdate = defineUpdate<BudgetRaised, [RaiseBudget]>(RAISE_BUDGET_UPDATE);
