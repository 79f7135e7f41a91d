import path from 'node:path';

/** Where the embedded database lives inside the data dir. */
export function pgliteCostDir(dataDir: string): string {
  return path.join(dataDir, 'costs-pglite');
}

/** Which tracker a configuration gets, for the worker's start line. */
export function describeCostTracker(config: { databaseUrl?: string; dataDir: string }): string {
  return config.databaseUrl
    ? 'PostgreSQL (DATABASE_URL)'
    : `PGlite in ${pgliteCostDir(config.dataDir)} (in a process of this worker's own, for this worker only)`;
}
