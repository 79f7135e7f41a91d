import path from 'node:path';
import { z } from 'zod';
import type { PriceTable } from '../cost/prices.js';
import { describeIssues } from '../shared/model.js';
import { accountLimits, accountLimitsEnv, type AccountLimits } from './account-limits.js';
import { connectionEnv } from './connection.js';
import { contentCheckSettings, contentChecksEnv, type ContentCheckSettings } from './content-checks.js';
import { ConfigError, ENVIRONMENTS, text, type Env, type Environment } from './env.js';
import { jobDefaults, jobEnv, type JobDefaults } from './job.js';
import { imageSettings, limitsEnv, workerSettings, type ImageSettings, type WorkerSettings } from './limits.js';
import { priceTable, pricesEnv } from './prices.js';
import { storeEnv, storeSettings, type StoreSettings } from './store.js';
import {
  generationSettings,
  falSettings,
  localSettings,
  providersEnv,
  replicateSettings,
  runwaySettings,
  type FalSettings,
  type GenerationSettings,
  type LocalSettings,
  type ReplicateSettings,
  type RunwaySettings,
} from './providers.js';
import { telemetryEnv, telemetrySettings, type TelemetrySettings } from './telemetry.js';
import { temporalEnv, temporalSettings, type TemporalSettings } from './temporal.js';

/**
 * The only module that reads the environment. Worker, client and CLI call loadConfig() once and
 * pass the result down; everything else takes what it needs as parameters. One file per concern.
 */

export interface Config {
  environment: Environment;
  temporal: TemporalSettings;
  worker: WorkerSettings;
  job: JobDefaults;
  generation: GenerationSettings;
  /** In-flight limits per provider account, across jobs and workers. */
  accountLimits: AccountLimits;
  /** What a clip's content must be: decoded to its end, no long black or frozen stretch. */
  contentChecks: ContentCheckSettings;
  prices: PriceTable;
  outputDir: string;
  /** Where reference images, clips and reports are stored. */
  store: StoreSettings;
  dataDir: string;
  /** PostgreSQL for the cost tracker; without it an embedded PGlite database in dataDir. */
  databaseUrl?: string;
  image: ImageSettings;
  local: LocalSettings;
  replicate: ReplicateSettings;
  runway: RunwaySettings;
  fal: FalSettings;
  logLevel: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /** Metrics endpoints and trace export, all off unless configured. */
  telemetry: TelemetrySettings;
}

const EnvSchema = z.object({
  CLIPFLOW_ENV: z.enum(ENVIRONMENTS).default('development'),
  OUTPUT_DIR: text.default('outputs'),
  CLIPFLOW_DATA_DIR: text.default('.data'),
  DATABASE_URL: text.optional(),
  LOG_LEVEL: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']).default('INFO'),
  ...connectionEnv.shape,
  ...temporalEnv.shape,
  ...limitsEnv.shape,
  ...jobEnv.shape,
  ...providersEnv.shape,
  ...accountLimitsEnv.shape,
  ...pricesEnv.shape,
  ...storeEnv.shape,
  ...contentChecksEnv.shape,
  ...telemetryEnv.shape,
});

/** Every variable clipflow reads (besides envconfig's TEMPORAL_GRPC_META_* headers). */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(EnvSchema.shape);

export function loadConfig(env: Env = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) throw new ConfigError(`invalid configuration: ${describeIssues(parsed.error.issues).message}`);
  const e = parsed.data;
  const environment = e.CLIPFLOW_ENV;
  return {
    environment,
    temporal: temporalSettings(e, env),
    worker: workerSettings(e),
    job: jobDefaults(e, environment),
    generation: generationSettings(e, environment),
    accountLimits: accountLimits(e),
    contentChecks: contentCheckSettings(e, environment),
    prices: priceTable(e),
    outputDir: path.resolve(e.OUTPUT_DIR),
    store: storeSettings(e, path.resolve(e.OUTPUT_DIR)),
    dataDir: path.resolve(e.CLIPFLOW_DATA_DIR),
    ...(e.DATABASE_URL ? { databaseUrl: e.DATABASE_URL } : {}),
    image: imageSettings(e),
    local: localSettings(e),
    replicate: replicateSettings(e),
    runway: runwaySettings(e),
    fal: falSettings(e),
    logLevel: e.LOG_LEVEL,
    telemetry: telemetrySettings(e),
  };
}

export {
  clientConnectionOptions,
  connectionSecrets,
  DEFAULT_ADDRESS,
  describeConnection,
  nativeConnectionOptions,
} from './connect-options.js';
export type { TemporalConnection } from './connection.js';
export { ConfigError, type Env, type Environment } from './env.js';
export type { AccountLimits } from './account-limits.js';
export type { ContentCheckSettings } from './content-checks.js';
export type { JobDefaults } from './job.js';
export type { ImageSettings, WorkerSettings } from './limits.js';
export { DEFAULT_PRICES } from './prices.js';
export {
  configuredProviders,
  pollIntervalMs,
  providerChoice,
  type FalSettings,
  type GenerationSettings,
  type LocalSettings,
  type ReplicateSettings,
  type RunwaySettings,
} from './providers.js';
export type { RetrySettings } from './retry.js';
export { Secret } from './secret.js';
export type { StoreSettings } from './store.js';
export type { TelemetrySettings } from './telemetry.js';
export type { TemporalSettings } from './temporal.js';
