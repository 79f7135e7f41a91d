import { createCheckBudget } from './check-budget.js';
import type { ActivityDeps } from './deps.js';
import { createGenerateClip } from './generate-clip.js';
import { createJobSettings } from './job-settings.js';
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
  };
}

export type Activities = ReturnType<typeof createActivities>;
