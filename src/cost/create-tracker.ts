import type { CostTracker } from './tracker.js';

/**
 * The cost tracker the configuration asks for: PostgreSQL when databaseUrl is set (needed as soon
 * as more than one worker process runs), else an embedded PGlite database in dataDir (one worker
 * at a time), run in a process of its own to keep PGlite's memory out of the worker. Each
 * backend's driver is loaded only when chosen.
 */
export async function createCostTracker(config: { databaseUrl?: string; dataDir: string }): Promise<CostTracker> {
  if (config.databaseUrl) {
    const { createPgCostTracker } = await import('./pg-tracker.js');
    return createPgCostTracker(config.databaseUrl);
  }
  const { createPgliteProcessCostTracker } = await import('./pglite-process-tracker.js');
  return createPgliteProcessCostTracker(config.dataDir);
}
