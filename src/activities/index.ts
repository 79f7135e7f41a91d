import { createAcquireAccountSlot, createClosedHolders } from './account-slot.js';
import { createLoadBatchPage } from './batch-page.js';
import { createWriteBatchResults } from './batch-results.js';
import { createCheckBudget } from './check-budget.js';
import type { ActivityDeps } from './deps.js';
import { createGenerateClip } from './generate-clip.js';
import { createJobSettings } from './job-settings.js';
import { createMergeReport } from './merge-report.js';
import { createPlanBatches } from './plan-batches.js';
import { createPrepareImage } from './prepare-image.js';
import { createWriteReport } from './write-report.js';
import { activityTelemetry } from '../telemetry/activity-telemetry.js';

export type { ActivityDeps } from './deps.js';

/** Every activity of the generateClips workflow, bound to its dependencies. */
export function createActivities(given: ActivityDeps) {
  // One set of metrics for all of them.
  const deps = { ...given, telemetry: given.telemetry ?? activityTelemetry() };
  return {
    jobSettings: createJobSettings(deps),
    checkBudget: createCheckBudget(deps),
    prepareImage: createPrepareImage(deps),
    generateClip: createGenerateClip(deps),
    writeReport: createWriteReport(deps),
    // A job past one batch: split, page through a batch, store its results, merge the report.
    planBatches: createPlanBatches(deps),
    loadBatchPage: createLoadBatchPage(deps),
    writeBatchResults: createWriteBatchResults(deps),
    mergeReport: createMergeReport(deps),
    // One in-flight limit per provider account: a clip's turn, and the account's check for closed holders.
    acquireAccountSlot: createAcquireAccountSlot(deps),
    closedHolders: createClosedHolders(),
  };
}

export type Activities = ReturnType<typeof createActivities>;
