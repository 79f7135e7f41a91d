import { existsSync } from 'node:fs';
import path from 'node:path';
import { inspect } from 'node:util';
import { loadClientConfigProfile, type ClientConfigProfile, type ConfigDataSource } from '@temporalio/envconfig';
import { z } from 'zod';
import type { PriceTable } from './cost/prices.js';
import type { ProviderChoice, ProviderName } from './providers/create-provider.js';
import { parseFaultPlan, type FaultPlan } from './providers/faults.js';
import { usdToMicros, type MicroUsd } from './shared/money.js';
import { describeIssues } from './shared/model.js';
import { TASK_QUEUE } from './shared/names.js';

/**
 * The only module that reads the environment. Worker, client and CLI call loadConfig() once and
 * pass the result down; everything else takes what it needs as parameters.
 */

export type Environment = 'development' | 'production';

export interface GenerationSettings {
  provider: ProviderName;
  model: string;
  fallbackModel?: string;
  /** Short side of the rendered video, in pixels. */
  shortSide: number;
  fps: number;
  /** Validation: a clip whose short side is smaller is rejected. */
  minShortSide: number;
  minSizeBytes: number;
  minDurationS: number;
}

export interface RetrySettings {
  initialIntervalS: number;
  backoffCoefficient: number;
  maximumIntervalS: number;
  /** Attempts in all, the first included: 4 means three retries. */
  maximumAttempts: number;
}

export interface JobDefaults {
  concurrency: number;
  minClips: number;
  budgetLimitMicroUsd: MicroUsd;
  clipTimeoutS: number;
  heartbeatTimeoutS: number;
  retry: RetrySettings;
}

export interface ImageSettings {
  allowPrivateHosts: boolean;
  maxBytes: number;
  connectTimeoutMs: number;
  totalTimeoutMs: number;
}

/**
 * A credential that stays out of logs, JSON and console output: only `reveal()` gives the value.
 */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return '[redacted]';
  }
  toJSON(): string {
    return '[redacted]';
  }
  [inspect.custom](): string {
    return 'Secret([redacted])';
  }
}

/** PEM text for TLS, from a file or inline; `setting` names where it was configured, for error messages. */
export type PemSource = { setting: string } & ({ path: string } | { data: Secret });

export interface TemporalTls {
  /** Overrides the server name (SNI) checked against the server's certificate. */
  serverName?: string;
  /** Client certificate and key for mTLS: both or neither. */
  clientCert?: PemSource;
  clientKey?: PemSource;
  /** CA that signed the server's certificate, when the system's roots do not cover it. */
  serverCaCert?: PemSource;
}

export interface TemporalSettings {
  /** The cluster's gRPC endpoint; without one the worker and CLI use localhost:7233 and `npm start` starts a dev server. */
  address?: string;
  namespace: string;
  taskQueue: string;
  cliPath?: string;
  uiPort: number;
  searchAttributes: boolean;
  /** Temporal Cloud API key; implies TLS. */
  apiKey?: Secret;
  /** TLS on when present (also when only an API key is given); plaintext otherwise. */
  tls?: TemporalTls;
  /** Extra gRPC headers (TEMPORAL_GRPC_META_* or the profile's grpc_meta). */
  grpcMeta?: Record<string, string>;
  /** The envconfig profile the connection settings came from, if a config file had it. */
  profile?: string;
}

export interface WorkerSettings {
  /** After SIGTERM/SIGINT running activities get this long to finish before they are cancelled. */
  shutdownGraceS: number;
  maxConcurrentActivities: number;
  /** Per worker process; unset means no limit. */
  activitiesPerSecond?: number;
  /** Server-side, for all workers of the task queue together; unset means no limit. */
  taskQueueActivitiesPerSecond?: number;
}

export interface Config {
  environment: Environment;
  temporal: TemporalSettings;
  worker: WorkerSettings;
  job: JobDefaults;
  generation: GenerationSettings;
  prices: PriceTable;
  outputDir: string;
  dataDir: string;
  /** PostgreSQL for the cost tracker; without it an embedded PGlite database in dataDir. */
  databaseUrl?: string;
  image: ImageSettings;
  local: { faults: FaultPlan; delayMs: number };
  replicate: { apiToken?: string; baseUrl?: string; pollIntervalMs: number; maxRetryAfterS: number };
  logLevel: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
}

const GENERATION: Record<Environment, GenerationSettings> = {
  development: {
    provider: 'local',
    model: 'clipflow/local-ffmpeg',
    shortSide: 720,
    fps: 24,
    minShortSide: 720,
    minSizeBytes: 100_000,
    minDurationS: 1,
  },
  production: {
    provider: 'replicate',
    model: 'minimax/video-01',
    fallbackModel: 'wavespeedai/wan-2.1-t2v-720p',
    shortSide: 720,
    fps: 24,
    minShortSide: 720,
    minSizeBytes: 100_000,
    minDurationS: 1,
  },
};

const DEFAULT_BUDGET_USD: Record<Environment, number> = { development: 2, production: 50 };

export const DEFAULT_PRICES: PriceTable = {
  'clipflow/local-ffmpeg': { usdPerOutputSecond: 0 },
  'minimax/video-01': { usdPerPrediction: 0.5 },
  'wan-video/wan-2.1-t2v-480p': { usdPerPredictSecond: 0.000975, estimatedPredictSecondsPerOutputSecond: 40 },
  'wavespeedai/wan-2.1-t2v-720p': { usdPerOutputSecond: 0.25 },
};

const bool = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no'])
  .transform((v) => v === '1' || v === 'true' || v === 'yes');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const positive = (max: number) => z.coerce.number().positive().max(max);

const PriceTableSchema = z.record(
  z.string(),
  z
    .object({
      usdPerOutputSecond: z.number().nonnegative(),
      usdPerPrediction: z.number().nonnegative(),
      usdPerPredictSecond: z.number().nonnegative(),
      estimatedPredictSecondsPerOutputSecond: z.number().nonnegative(),
    })
    .partial()
    .strict(),
);

const EnvSchema = z.object({
  CLIPFLOW_ENV: z.enum(['development', 'production']).default('development'),
  TEMPORAL_ADDRESS: z.string().min(1).optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).optional(),
  TEMPORAL_API_KEY: z.string().min(1).optional(),
  TEMPORAL_TLS: bool.optional(),
  TEMPORAL_TLS_CLIENT_CERT_PATH: z.string().min(1).optional(),
  TEMPORAL_TLS_CLIENT_KEY_PATH: z.string().min(1).optional(),
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: z.string().min(1).optional(),
  TEMPORAL_TLS_SERVER_NAME: z.string().min(1).optional(),
  TEMPORAL_CONFIG_FILE: z.string().min(1).optional(),
  TEMPORAL_PROFILE: z.string().min(1).optional(),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default(TASK_QUEUE),
  TEMPORAL_CLI_PATH: z.string().min(1).optional(),
  TEMPORAL_UI_PORT: int(1, 65535).default(8233),
  CLIPFLOW_SEARCH_ATTRIBUTES: bool.default(true),
  VIDEO_GENERATOR_CONCURRENCY: int(1, 100).default(3),
  VIDEO_GENERATOR_MIN_CLIPS: int(1, 10_000).default(3),
  VIDEO_GENERATOR_BUDGET_USD: positive(100_000).optional(),
  VIDEO_PROVIDER: z.enum(['local', 'replicate']).optional(),
  VIDEO_MODEL: z.string().min(1).optional(),
  VIDEO_FALLBACK_MODEL: z.string().optional(),
  VIDEO_SHORT_SIDE: int(64, 4320).optional(),
  VIDEO_MIN_SHORT_SIDE: int(1, 4320).optional(),
  VIDEO_FPS: int(1, 120).optional(),
  CLIP_TIMEOUT_S: positive(3600).default(300),
  CLIP_HEARTBEAT_TIMEOUT_S: positive(600).default(10),
  RETRY_INITIAL_INTERVAL_S: positive(3600).default(2),
  RETRY_BACKOFF_COEFFICIENT: z.coerce.number().min(1).max(10).default(2),
  RETRY_MAXIMUM_INTERVAL_S: positive(3600).default(60),
  RETRY_MAXIMUM_ATTEMPTS: int(1, 20).default(4),
  CLIPFLOW_PRICES: z.string().optional(),
  OUTPUT_DIR: z.string().min(1).default('outputs'),
  CLIPFLOW_DATA_DIR: z.string().min(1).default('.data'),
  DATABASE_URL: z.string().min(1).optional(),
  IMAGE_ALLOW_PRIVATE_HOSTS: bool.default(false),
  IMAGE_MAX_BYTES: int(1, 200_000_000).default(10_000_000),
  IMAGE_CONNECT_TIMEOUT_MS: int(1, 120_000).default(5_000),
  IMAGE_TOTAL_TIMEOUT_MS: int(1, 600_000).default(30_000),
  LOCAL_PROVIDER_FAULTS: z.string().default(''),
  LOCAL_PROVIDER_DELAY_MS: int(0, 3_600_000).default(0),
  REPLICATE_API_TOKEN: z.string().min(1).optional(),
  REPLICATE_BASE_URL: z.string().url().optional(),
  REPLICATE_POLL_INTERVAL_MS: int(10, 60_000).default(2_000),
  REPLICATE_MAX_RETRY_AFTER_S: positive(3600).default(60),
  LOG_LEVEL: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']).default('INFO'),
  WORKER_SHUTDOWN_GRACE_S: z.coerce.number().min(0).max(86_400).default(30),
  WORKER_MAX_CONCURRENT_ACTIVITIES: int(1, 10_000).default(100),
  WORKER_ACTIVITIES_PER_SECOND: positive(100_000).optional(),
  WORKER_TASK_QUEUE_ACTIVITIES_PER_SECOND: positive(100_000).optional(),
});

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = describeIssues(parsed.error.issues).message;
    throw new ConfigError(`invalid configuration: ${problems}`);
  }
  const e = parsed.data;
  const environment = e.CLIPFLOW_ENV;
  const base = GENERATION[environment];
  const generation: GenerationSettings = {
    ...base,
    provider: e.VIDEO_PROVIDER ?? base.provider,
    model: e.VIDEO_MODEL ?? base.model,
    shortSide: e.VIDEO_SHORT_SIDE ?? base.shortSide,
    minShortSide: e.VIDEO_MIN_SHORT_SIDE ?? base.minShortSide,
    fps: e.VIDEO_FPS ?? base.fps,
  };
  const fallback = e.VIDEO_FALLBACK_MODEL ?? base.fallbackModel;
  if (fallback) generation.fallbackModel = fallback;
  else delete generation.fallbackModel;

  return {
    environment,
    temporal: {
      ...temporalConnection(env),
      ...(e.TEMPORAL_CLI_PATH ? { cliPath: e.TEMPORAL_CLI_PATH } : {}),
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      uiPort: e.TEMPORAL_UI_PORT,
      searchAttributes: e.CLIPFLOW_SEARCH_ATTRIBUTES,
    },
    worker: {
      shutdownGraceS: e.WORKER_SHUTDOWN_GRACE_S,
      maxConcurrentActivities: e.WORKER_MAX_CONCURRENT_ACTIVITIES,
      ...(e.WORKER_ACTIVITIES_PER_SECOND !== undefined ? { activitiesPerSecond: e.WORKER_ACTIVITIES_PER_SECOND } : {}),
      ...(e.WORKER_TASK_QUEUE_ACTIVITIES_PER_SECOND !== undefined
        ? { taskQueueActivitiesPerSecond: e.WORKER_TASK_QUEUE_ACTIVITIES_PER_SECOND }
        : {}),
    },
    job: {
      concurrency: e.VIDEO_GENERATOR_CONCURRENCY,
      minClips: e.VIDEO_GENERATOR_MIN_CLIPS,
      budgetLimitMicroUsd: usdToMicros(e.VIDEO_GENERATOR_BUDGET_USD ?? DEFAULT_BUDGET_USD[environment]),
      clipTimeoutS: e.CLIP_TIMEOUT_S,
      heartbeatTimeoutS: e.CLIP_HEARTBEAT_TIMEOUT_S,
      retry: {
        initialIntervalS: e.RETRY_INITIAL_INTERVAL_S,
        backoffCoefficient: e.RETRY_BACKOFF_COEFFICIENT,
        maximumIntervalS: e.RETRY_MAXIMUM_INTERVAL_S,
        maximumAttempts: e.RETRY_MAXIMUM_ATTEMPTS,
      },
    },
    generation,
    prices: { ...DEFAULT_PRICES, ...parsePrices(e.CLIPFLOW_PRICES) },
    outputDir: path.resolve(e.OUTPUT_DIR),
    dataDir: path.resolve(e.CLIPFLOW_DATA_DIR),
    ...(e.DATABASE_URL ? { databaseUrl: e.DATABASE_URL } : {}),
    image: {
      allowPrivateHosts: e.IMAGE_ALLOW_PRIVATE_HOSTS,
      maxBytes: e.IMAGE_MAX_BYTES,
      connectTimeoutMs: e.IMAGE_CONNECT_TIMEOUT_MS,
      totalTimeoutMs: e.IMAGE_TOTAL_TIMEOUT_MS,
    },
    local: { faults: parseOr('LOCAL_PROVIDER_FAULTS', () => parseFaultPlan(e.LOCAL_PROVIDER_FAULTS)), delayMs: e.LOCAL_PROVIDER_DELAY_MS },
    replicate: {
      ...(e.REPLICATE_API_TOKEN ? { apiToken: e.REPLICATE_API_TOKEN } : {}),
      ...(e.REPLICATE_BASE_URL ? { baseUrl: e.REPLICATE_BASE_URL } : {}),
      pollIntervalMs: e.REPLICATE_POLL_INTERVAL_MS,
      maxRetryAfterS: e.REPLICATE_MAX_RETRY_AFTER_S,
    },
    logLevel: e.LOG_LEVEL,
  };
}

/** The provider the configuration names, with its options; refuses Replicate without a token. */
export function providerChoice(config: Pick<Config, 'generation' | 'local' | 'replicate'>): ProviderChoice {
  if (config.generation.provider === 'local') return { provider: 'local', options: config.local };
  const { apiToken, baseUrl, maxRetryAfterS } = config.replicate;
  if (!apiToken) throw new ConfigError('VIDEO_PROVIDER is replicate but REPLICATE_API_TOKEN is not set');
  return { provider: 'replicate', options: { apiToken, maxRetryAfterS, ...(baseUrl ? { baseUrl } : {}) } };
}

function parsePrices(text: string | undefined): PriceTable {
  if (!text) return {};
  return parseOr('CLIPFLOW_PRICES', () => PriceTableSchema.parse(JSON.parse(text)));
}

function parseOr<T>(variable: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    const detail = err instanceof z.ZodError ? describeIssues(err.issues).message : (err as Error).message;
    throw new ConfigError(`invalid configuration: ${variable}: ${detail}`);
  }
}

type ConnectionSettings = Pick<TemporalSettings, 'address' | 'namespace' | 'apiKey' | 'tls' | 'grpcMeta' | 'profile'>;

/**
 * The connection to Temporal, the way every Temporal tool reads it (@temporalio/envconfig): a profile
 * of a TOML config file (TEMPORAL_CONFIG_FILE, else the user's temporalio/temporal.toml; TEMPORAL_PROFILE,
 * else "default") with the TEMPORAL_* variables on top. Files named here are read when connecting.
 */
function temporalConnection(env: Record<string, string | undefined>): ConnectionSettings {
  const vars: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined) vars[key] = value;
  const configFile = vars.TEMPORAL_CONFIG_FILE;
  if (configFile !== undefined && !existsSync(configFile)) {
    throw new ConfigError(`invalid configuration: TEMPORAL_CONFIG_FILE: no such file ${configFile}`);
  }
  let profile: ClientConfigProfile;
  try {
    profile = loadClientConfigProfile({ overrideEnvVars: vars });
  } catch (err) {
    const message = ((err as Error).message ?? String(err)).split('\n')[0] ?? '';
    const setting = /profile '.*' not found/i.test(message)
      ? 'TEMPORAL_PROFILE'
      : /cannot specify both/i.test(message)
        ? 'Temporal connection settings'
        : (configFile ? 'TEMPORAL_CONFIG_FILE' : 'the Temporal config file');
    throw new ConfigError(`invalid configuration: ${setting}: ${message}`);
  }
  const profileName = vars.TEMPORAL_PROFILE ?? 'default';
  const inProfile = (key: string) =>
    `${key} of profile "${profileName}" in ${configFile ?? 'the Temporal config file'}`;
  const source = (
    from: ConfigDataSource | undefined,
    pathVar: string,
    dataVar: string,
    tomlKey: string,
  ): PemSource | undefined => {
    if (!from) return undefined;
    if ('path' in from) return { setting: vars[pathVar] !== undefined ? pathVar : inProfile(`tls.${tomlKey}_path`), path: from.path };
    const text = typeof from.data === 'string' ? from.data : new TextDecoder().decode(from.data);
    return { setting: vars[dataVar] !== undefined ? dataVar : inProfile(`tls.${tomlKey}_data`), data: new Secret(text) };
  };

  const settings: ConnectionSettings = { namespace: profile.namespace ?? 'default' };
  if (profile.address) settings.address = profile.address;
  if (profile.apiKey) settings.apiKey = new Secret(profile.apiKey);
  if (profile.grpcMeta && Object.keys(profile.grpcMeta).length > 0) settings.grpcMeta = profile.grpcMeta;
  if (vars.TEMPORAL_PROFILE) settings.profile = vars.TEMPORAL_PROFILE;

  // TLS when the profile or the TEMPORAL_TLS* variables ask for it, or when there is an API key,
  // unless it is switched off explicitly (TEMPORAL_TLS=false, tls.disabled = true).
  const tls = profile.tls;
  if (tls?.disabled) return settings;
  if (!tls && !settings.apiKey) return settings;
  const clientCert = source(tls?.clientCert, 'TEMPORAL_TLS_CLIENT_CERT_PATH', 'TEMPORAL_TLS_CLIENT_CERT_DATA', 'client_cert');
  const clientKey = source(tls?.clientKey, 'TEMPORAL_TLS_CLIENT_KEY_PATH', 'TEMPORAL_TLS_CLIENT_KEY_DATA', 'client_key');
  const serverCaCert = source(tls?.serverCACert, 'TEMPORAL_TLS_SERVER_CA_CERT_PATH', 'TEMPORAL_TLS_SERVER_CA_CERT_DATA', 'server_ca_cert');
  if (clientCert && !clientKey) {
    throw new ConfigError(`invalid configuration: ${clientCert.setting} is set but no client key is (TEMPORAL_TLS_CLIENT_KEY_PATH)`);
  }
  if (clientKey && !clientCert) {
    throw new ConfigError(`invalid configuration: ${clientKey.setting} is set but no client certificate is (TEMPORAL_TLS_CLIENT_CERT_PATH)`);
  }
  settings.tls = {
    ...(tls?.serverName ? { serverName: tls.serverName } : {}),
    ...(clientCert ? { clientCert } : {}),
    ...(clientKey ? { clientKey } : {}),
    ...(serverCaCert ? { serverCaCert } : {}),
  };
  return settings;
}
