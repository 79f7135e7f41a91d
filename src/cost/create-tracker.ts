import path from 'node:path';
import type { CostTracker } from './tracker.js';

/** Where the embedded database lives inside the data dir. */
export function pgliteCostDir(dataDir: string): string {
  return path.join(dataDir, 'costs-pglite');
}

/** Which tracker a configuration gets, for the worker's start line. */
export function describeCostTracker(config: { databaseUrl?: string; dataDir: string }): string {
  return config.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : `PGlite in ${pgliteCostDir(config.dataDir)} (this process only)`;
}

/**
 * The cost tracker the configuration asks for: PostgreSQL when databaseUrl is set (needed as soon
 * as more than one worker process runs), else an embedded PGlite database in dataDir (one
 * process at a time). Each backend's driver is loaded only when chosen.
 */
export async function createCostTracker(config: { databaseUrl?: string; dataDir: string }): Promise<CostTracker> {
  if (config.databaseUrl) {
    const { createPgCostTracker } = await import('./pg-tracker.js');
    return createPgCostTracker(config.databaseUrl);
  }
  const { createPgliteCostTracker } = await import('./pglite-tracker.js');
  return createPgliteCostTracker(config.dataDir);
}
