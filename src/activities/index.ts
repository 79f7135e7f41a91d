import { createCheckBudget } from './check-budget.js';
import type { ActivityDeps } from './deps.js';
import { createGenerateClip } from './generate-clip.js';
import { createJobSettings } from './job-settings.js';
import { createPrepareImage } from './prepare-image.js';
import { createWriteReport } from './write-report.js';

export type { ActivityDeps } from './deps.js';

/** Every activity of the generateClips workflow, bound to its dependencies. */
export function createActivities(deps: ActivityDeps) {
  return {
    jobSettings: createJobSettings(deps),
    checkBudget: createCheckBudget(deps),
    prepareImage: createPrepareImage(deps),
    generateClip: createGenerateClip(deps),
    writeReport: createWriteReport(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
