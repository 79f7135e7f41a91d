import { log } from '@temporalio/activity';
import { estimateClipCost, priceFor } from '../cost/prices.js';
import { ClipflowError, FailureType, toApplicationFailure } from '../shared/failures.js';
import { formatUsd } from '../shared/money.js';
import type { ActivityDeps } from './deps.js';
import { activityTelemetry } from '../telemetry/activity-telemetry.js';
import type { BudgetCheck, BudgetCheckInput } from '../shared/activity-io.js';

export function createCheckBudget({
  config,
  costTracker,
  telemetry = activityTelemetry(),
}: Pick<ActivityDeps, 'config' | 'costTracker' | 'telemetry'>) {
  return async function checkBudget(input: BudgetCheckInput): Promise<BudgetCheck> {
    const price = priceFor(config.prices, input.model);
    const perClipMicroUsd: Record<number, number> = {};
    for (const clip of input.clips) perClipMicroUsd[clip.clipIndex] = estimateClipCost(price, clip.durationS);
    const estimatedMicroUsd = Object.values(perClipMicroUsd).reduce((a, b) => a + b, 0);
    const currentMicroUsd = await costTracker.getTotalCost(input.jobId);
    const limitMicroUsd = input.budgetLimitMicroUsd;
    log.info('budget check', {
      jobId: input.jobId,
      current: formatUsd(currentMicroUsd),
      estimated: formatUsd(estimatedMicroUsd),
      limit: formatUsd(limitMicroUsd),
    });
    // Clips that do not fit are held back by the workflow's ledger; the job is refused up front
    // only when even its cheapest minClips clips would not fit.
    const cheapest = Object.values(perClipMicroUsd)
      .sort((a, b) => a - b)
      .slice(0, input.minClips);
    const minimumMicroUsd = cheapest.reduce((a, b) => a + b, 0);
    if (currentMicroUsd + minimumMicroUsd > limitMicroUsd) {
      telemetry.metrics.budgetStops.inc({ stop: 'job_refused' });
      throw toApplicationFailure(
        new ClipflowError(
          FailureType.BudgetExceeded,
          `job ${input.jobId}: estimated cost ${formatUsd(estimatedMicroUsd)} for ${input.clips.length} clips ` +
            `(${formatUsd(minimumMicroUsd)} for the minimum of ${input.minClips}) plus ${formatUsd(currentMicroUsd)} ` +
            `already spent (current) exceeds the budget limit ${formatUsd(limitMicroUsd)}`,
        ),
        { details: [{ currentMicroUsd, estimatedMicroUsd, minimumMicroUsd, limitMicroUsd }] },
      );
    }
    return { currentMicroUsd, estimatedMicroUsd, limitMicroUsd, perClipMicroUsd };
  };
}
