import { z } from 'zod';
import type { ProviderChoice, ProviderName } from '../providers/create-provider.js';
import { parseFaultPlan, type FaultPlan } from '../providers/faults.js';
import { ConfigError, int, parseOr, positive, text, type Environment } from './env.js';

/** Which provider and model make the clips, and what a clip must be to pass validation. */
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

const VIDEO = { shortSide: 720, fps: 24, minShortSide: 720, minSizeBytes: 100_000, minDurationS: 1 };

const GENERATION: Record<Environment, GenerationSettings> = {
  development: { provider: 'local', model: 'clipflow/local-ffmpeg', ...VIDEO },
  production: { provider: 'replicate', model: 'minimax/video-01', fallbackModel: 'wavespeedai/wan-2.1-t2v-720p', ...VIDEO },
};

export const providersEnv = z.object({
  VIDEO_PROVIDER: z.enum(['local', 'replicate']).optional(),
  VIDEO_MODEL: text.optional(),
  VIDEO_FALLBACK_MODEL: z.string().optional(),
  VIDEO_SHORT_SIDE: int(64, 4320).optional(),
  VIDEO_MIN_SHORT_SIDE: int(1, 4320).optional(),
  VIDEO_FPS: int(1, 120).optional(),
  LOCAL_PROVIDER_FAULTS: z.string().default(''),
  LOCAL_PROVIDER_DELAY_MS: int(0, 3_600_000).default(0),
  REPLICATE_API_TOKEN: text.optional(),
  REPLICATE_BASE_URL: z.string().url().optional(),
  REPLICATE_POLL_INTERVAL_MS: int(10, 60_000).default(2_000),
  REPLICATE_MAX_RETRY_AFTER_S: positive(3600).default(60),
});

type ProvidersEnv = z.infer<typeof providersEnv>;

export function generationSettings(e: ProvidersEnv, environment: Environment): GenerationSettings {
  const { fallbackModel, ...base } = GENERATION[environment];
  // An empty VIDEO_FALLBACK_MODEL switches the fallback off.
  const fallback = e.VIDEO_FALLBACK_MODEL ?? fallbackModel;
  return {
    ...base,
    provider: e.VIDEO_PROVIDER ?? base.provider,
    model: e.VIDEO_MODEL ?? base.model,
    shortSide: e.VIDEO_SHORT_SIDE ?? base.shortSide,
    minShortSide: e.VIDEO_MIN_SHORT_SIDE ?? base.minShortSide,
    fps: e.VIDEO_FPS ?? base.fps,
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

/** The provider the configuration names, with its options; refuses Replicate without a token. */
export function providerChoice(config: {
  generation: GenerationSettings;
  local: LocalSettings;
  replicate: ReplicateSettings;
}): ProviderChoice {
  if (config.generation.provider === 'local') return { provider: 'local', options: config.local };
  const { apiToken, baseUrl, maxRetryAfterS } = config.replicate;
  if (!apiToken) throw new ConfigError('VIDEO_PROVIDER is replicate but REPLICATE_API_TOKEN is not set');
  return { provider: 'replicate', options: { apiToken, maxRetryAfterS, ...(baseUrl ? { baseUrl } : {}) } };
}
