import { ActivityFailure, ApplicationFailure, setHandler } from '@temporalio/workflow';
import type { JobSettings } from '../shared/activity-io.js';
import { FailureType } from '../shared/failures.js';
import { BudgetUsd, type GenerateClipsResult } from '../shared/model.js';
import { formatUsd, microsToUsd, usdToMicros } from '../shared/money.js';
import { raiseBudgetUpdate } from '../shared/names.js';
import type { BudgetLedger } from './budget-ledger.js';

/** What a job does the same whether it runs in one workflow or in batches. */

/** The job fails with the activity's own failure (BudgetExceeded, Misconfigured), not a wrapper of it. */
export function failWithCause(err: unknown): never {
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) throw err.cause;
  throw err;
}

/**
 * The raiseBudget update: the ledger's limit goes up, then `raised` lets the waiting work start
 * and says how many clips were still held for budget.
 */
export function handleRaiseBudget(ledger: BudgetLedger, raised: () => number | Promise<number>): void {
  setHandler(
    raiseBudgetUpdate,
    ({ budgetUsd }) => {
      ledger.raiseLimit(usdToMicros(budgetUsd));
      const answer = (heldClips: number) => ({ limitUsd: microsToUsd(ledger.limitMicroUsd), heldClips });
      // A one-workflow job answers at once, as it always has; a job in batches first tells its batches.
      const held = raised();
      return typeof held === 'number' ? answer(held) : held.then(answer);
    },
    { validator: ({ budgetUsd }) => validateRaise(budgetUsd, ledger) },
  );
}

/** The same bounds as the job's own options.budgetUsd, and above the current limit. */
function validateRaise(budgetUsd: unknown, ledger: BudgetLedger): void {
  const parsed = BudgetUsd.safeParse(budgetUsd);
  if (!parsed.success) {
    const shown = typeof budgetUsd === 'number' ? String(budgetUsd) : JSON.stringify(budgetUsd)?.slice(0, 100);
    const problem = parsed.error.issues.map((issue) => issue.message).join('; ');
    throw ApplicationFailure.nonRetryable(`invalid input: budgetUsd: ${problem} (got ${shown})`, FailureType.InvalidInput);
  }
  if (usdToMicros(parsed.data) <= ledger.limitMicroUsd) {
    throw ApplicationFailure.nonRetryable(
      `budgetUsd ${formatUsd(usdToMicros(parsed.data))} must be above the current limit ${formatUsd(ledger.limitMicroUsd)}`,
      FailureType.InvalidInput,
    );
  }
}

export function failIfTooFew(result: GenerateClipsResult, settings: Pick<JobSettings, 'minClips'>): void {
  if (result.successfulClips >= settings.minClips) return;
  throw ApplicationFailure.create({
    type: FailureType.InsufficientClips,
    message:
      `job ${result.jobId}: only ${result.successfulClips} of ${result.totalClips} clips succeeded ` +
      `(${result.failedClips} failed); at least ${settings.minClips} are required`,
    nonRetryable: true,
    details: [result],
  });
}
