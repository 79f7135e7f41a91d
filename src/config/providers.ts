import { z } from 'zod';
import type { ProviderChoice, ProviderName } from '../providers/create-provider.js';
import { parseFaultPlan, type FaultPlan } from '../providers/faults.js';
import { bool, ConfigError, int, parseOr, positive, text, type Environment } from './env.js';

/** Which provider and model make the clips, and what a clip must be to pass validation. */
export interface GenerationSettings {
  provider: ProviderName;
  model: string;
  fallbackModel?: string;
  /** The provider of the fallback model: the primary, or another one the worker builds beside it. */
  fallbackProvider: ProviderName;
  /**
   * Whether a clip whose content the primary rejected goes to the fallback all the same: the
   * failure table says no (another provider may judge the prompt alike, and rejections are paid).
   */
  fallbackOnContentRejected: boolean;
  /** Short side of the rendered video, in pixels. */
  shortSide: number;
  fps: number;
  /** Validation: a clip whose short side is smaller is rejected. */
  minShortSide: number;
  minSizeBytes: number;
  minDurationS: number;
}

export interface LocalSettings {
  faults: FaultPlan;
  delayMs: number;
}

export interface ReplicateSettings {
  apiToken?: string;
  baseUrl?: string;
  pollIntervalMs: number;
  maxRetryAfterS: number;
}

/** Runway's API (`@runwayml/sdk`). */
export interface RunwaySettings {
  apiSecret?: string;
  baseUrl: string;
  pollIntervalMs: number;
  maxRetryAfterS: number;
}

/** Pika through fal's queue API (`@fal-ai/client`). */
export interface FalSettings {
  key?: string;
  /** Replaces the origin of fal's hosts (queue.fal.run, rest.fal.ai); unset: fal itself. */
  baseUrl?: string;
  pollIntervalMs: number;
  maxRetryAfterS: number;
}

const VIDEO = { shortSide: 720, fps: 24, minShortSide: 720, minSizeBytes: 100_000, minDurationS: 1 };

const DEFAULT_PROVIDER: Record<Environment, ProviderName> = { development: 'local', production: 'replicate' };

/** Each provider's default model, used when VIDEO_MODEL is unset. */
const DEFAULT_MODEL: Record<ProviderName, string> = {
  local: 'clipflow/local-ffmpeg',
  replicate: 'minimax/video-01',
  // gen4.5 makes clips from text and from an image; gen4_turbo only from an image.
  runway: 'gen4.5',
  pika: 'fal-ai/pika/v2.2',
};

/** The fallback model an environment sets by default, per provider, when VIDEO_FALLBACK_MODEL is unset. */
const DEFAULT_FALLBACK_MODEL: Record<Environment, Partial<Record<ProviderName, string>>> = {
  development: {},
  production: { replicate: 'wavespeedai/wan-2.1-t2v-720p' },
};

export const PROVIDER_NAMES = ['local', 'replicate', 'runway', 'pika'] as const satisfies readonly ProviderName[];

export const providersEnv = z.object({
  VIDEO_PROVIDER: z.enum(PROVIDER_NAMES).optional(),
  VIDEO_MODEL: text.optional(),
  VIDEO_FALLBACK_MODEL: z.string().optional(),
  VIDEO_FALLBACK_PROVIDER: z.enum(PROVIDER_NAMES).optional(),
  VIDEO_FALLBACK_ON_CONTENT_REJECTED: bool.default(false),
  VIDEO_SHORT_SIDE: int(64, 4320).optional(),
  VIDEO_MIN_SHORT_SIDE: int(1, 4320).optional(),
  VIDEO_FPS: int(1, 120).optional(),
  LOCAL_PROVIDER_FAULTS: z.string().default(''),
  LOCAL_PROVIDER_DELAY_MS: int(0, 3_600_000).default(0),
  REPLICATE_API_TOKEN: text.optional(),
  REPLICATE_BASE_URL: z.string().url().optional(),
  REPLICATE_POLL_INTERVAL_MS: int(10, 60_000).default(2_000),
  REPLICATE_MAX_RETRY_AFTER_S: positive(3600).default(60),
  RUNWAYML_API_SECRET: text.optional(),
  RUNWAYML_BASE_URL: z.string().url().default('https://api.dev.runwayml.com'),
  RUNWAY_POLL_INTERVAL_MS: int(10, 60_000).default(5_000),
  FAL_KEY: text.optional(),
  FAL_BASE_URL: z.string().url().optional(),
  FAL_POLL_INTERVAL_MS: int(10, 60_000).default(2_000),
  PROVIDER_MAX_RETRY_AFTER_S: positive(3600).default(60),
});

type ProvidersEnv = z.infer<typeof providersEnv>;

export function generationSettings(e: ProvidersEnv, environment: Environment): GenerationSettings {
  const provider = e.VIDEO_PROVIDER ?? DEFAULT_PROVIDER[environment];
  const fallbackProvider = e.VIDEO_FALLBACK_PROVIDER ?? provider;
  // Another provider falls back to its own default model; an empty VIDEO_FALLBACK_MODEL switches the fallback off.
  const fallback =
    e.VIDEO_FALLBACK_MODEL ??
    (fallbackProvider === provider ? DEFAULT_FALLBACK_MODEL[environment][provider] : DEFAULT_MODEL[fallbackProvider]);
  return {
    provider,
    model: e.VIDEO_MODEL ?? DEFAULT_MODEL[provider],
    fallbackProvider,
    fallbackOnContentRejected: e.VIDEO_FALLBACK_ON_CONTENT_REJECTED,
    shortSide: e.VIDEO_SHORT_SIDE ?? VIDEO.shortSide,
    minShortSide: e.VIDEO_MIN_SHORT_SIDE ?? VIDEO.minShortSide,
    fps: e.VIDEO_FPS ?? VIDEO.fps,
    minSizeBytes: VIDEO.minSizeBytes,
    minDurationS: VIDEO.minDurationS,
    ...(fallback ? { fallbackModel: fallback } : {}),
  };
}

export function localSettings(e: ProvidersEnv): LocalSettings {
  return {
    faults: parseOr('LOCAL_PROVIDER_FAULTS', () => parseFaultPlan(e.LOCAL_PROVIDER_FAULTS)),
    delayMs: e.LOCAL_PROVIDER_DELAY_MS,
  };
}

export function replicateSettings(e: ProvidersEnv): ReplicateSettings {
  return {
    ...(e.REPLICATE_API_TOKEN ? { apiToken: e.REPLICATE_API_TOKEN } : {}),
    ...(e.REPLICATE_BASE_URL ? { baseUrl: e.REPLICATE_BASE_URL } : {}),
    pollIntervalMs: e.REPLICATE_POLL_INTERVAL_MS,
    maxRetryAfterS: e.REPLICATE_MAX_RETRY_AFTER_S,
  };
}

export function runwaySettings(e: ProvidersEnv): RunwaySettings {
  return {
    ...(e.RUNWAYML_API_SECRET ? { apiSecret: e.RUNWAYML_API_SECRET } : {}),
    baseUrl: e.RUNWAYML_BASE_URL,
    pollIntervalMs: e.RUNWAY_POLL_INTERVAL_MS,
    maxRetryAfterS: e.PROVIDER_MAX_RETRY_AFTER_S,
  };
}

export function falSettings(e: ProvidersEnv): FalSettings {
  return {
    ...(e.FAL_KEY ? { key: e.FAL_KEY } : {}),
    ...(e.FAL_BASE_URL ? { baseUrl: e.FAL_BASE_URL } : {}),
    pollIntervalMs: e.FAL_POLL_INTERVAL_MS,
    maxRetryAfterS: e.PROVIDER_MAX_RETRY_AFTER_S,
  };
}

interface ProviderConfig {
  generation: GenerationSettings;
  local: LocalSettings;
  replicate: ReplicateSettings;
  runway: RunwaySettings;
  fal: FalSettings;
}

function required<T>(value: T | undefined, provider: ProviderName, variable: string, setting: string): T {
  if (value === undefined) throw new ConfigError(`${setting} is ${provider} but ${variable} is not set`);
  return value;
}

/**
 * The named provider (the primary by default) with its options; refuses one without its
 * credentials. Takes any name so that a primary and a fallback provider can each be built.
 */
export function providerChoice(config: ProviderConfig, provider: ProviderName = config.generation.provider): ProviderChoice {
  const setting = provider === config.generation.provider ? 'VIDEO_PROVIDER' : 'VIDEO_FALLBACK_PROVIDER';
  switch (provider) {
    case 'local':
      return { provider, options: config.local };
    case 'replicate': {
      const { apiToken, baseUrl, maxRetryAfterS } = config.replicate;
      return {
        provider,
        options: {
          apiToken: required(apiToken, provider, 'REPLICATE_API_TOKEN', setting),
          maxRetryAfterS,
          ...(baseUrl ? { baseUrl } : {}),
        },
      };
    }
    case 'runway': {
      const { apiSecret, baseUrl, maxRetryAfterS } = config.runway;
      return { provider, options: { apiSecret: required(apiSecret, provider, 'RUNWAYML_API_SECRET', setting), baseUrl, maxRetryAfterS } };
    }
    case 'pika': {
      const { key, baseUrl, maxRetryAfterS } = config.fal;
      return { provider, options: { key: required(key, provider, 'FAL_KEY', setting), maxRetryAfterS, ...(baseUrl ? { baseUrl } : {}) } };
    }
  }
}

/** The providers a worker serves: the primary, and the fallback's provider when the fallback is on and it differs. */
export function configuredProviders(config: ProviderConfig): ProviderName[] {
  const { provider, fallbackProvider, fallbackModel } = config.generation;
  return fallbackModel && fallbackProvider !== provider ? [provider, fallbackProvider] : [provider];
}

/** How often the named provider's running predictions are asked about. */
export function pollIntervalMs(config: ProviderConfig, provider: ProviderName = config.generation.provider): number {
  const intervals: Record<ProviderName, number> = {
    // A local render reports its end itself; the poll only keeps heartbeats going.
    local: 200,
    replicate: config.replicate.pollIntervalMs,
    runway: config.runway.pollIntervalMs,
    pika: config.fal.pollIntervalMs,
  };
  return intervals[provider];
}
