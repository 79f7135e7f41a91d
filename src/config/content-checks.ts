import { z } from 'zod';
import type { ContentCheckSettings } from '../media/content-check.js';
import { int, positive, type Environment } from './env.js';

export type { ContentCheckSettings };

/**
 * What a clip's content must be, per environment. Development renders with the local provider,
 * whose clips never hold still nor go dark, so any stretch of half a second is a fault; a real
 * model may fade through black or hold a shot, so production allows a little more.
 */
const CONTENT_CHECKS: Record<Environment, ContentCheckSettings> = {
  development: {
    blackMinS: 0.5,
    blackPixelMax: 32,
    blackRatio: 0.98,
    freezeMinS: 0.5,
    freezeNoiseDb: -60,
    maxDecodeErrors: 0,
    timeoutMs: 120_000,
  },
  production: {
    blackMinS: 1,
    blackPixelMax: 32,
    blackRatio: 0.98,
    freezeMinS: 2,
    freezeNoiseDb: -60,
    maxDecodeErrors: 0,
    timeoutMs: 300_000,
  },
};

export const contentChecksEnv = z.object({
  CONTENT_BLACK_MIN_S: positive(3600).optional(),
  CONTENT_FREEZE_MIN_S: positive(3600).optional(),
  CONTENT_FREEZE_NOISE_DB: z.coerce.number().min(-120).max(0).optional(),
  CONTENT_MAX_DECODE_ERRORS: int(0, 1_000_000).optional(),
  CONTENT_CHECK_TIMEOUT_S: positive(3600).optional(),
});

export function contentCheckSettings(e: z.infer<typeof contentChecksEnv>, environment: Environment): ContentCheckSettings {
  const base = CONTENT_CHECKS[environment];
  return {
    ...base,
    blackMinS: e.CONTENT_BLACK_MIN_S ?? base.blackMinS,
    freezeMinS: e.CONTENT_FREEZE_MIN_S ?? base.freezeMinS,
    freezeNoiseDb: e.CONTENT_FREEZE_NOISE_DB ?? base.freezeNoiseDb,
    maxDecodeErrors: e.CONTENT_MAX_DECODE_ERRORS ?? base.maxDecodeErrors,
    timeoutMs: e.CONTENT_CHECK_TIMEOUT_S !== undefined ? Math.round(e.CONTENT_CHECK_TIMEOUT_S * 1000) : base.timeoutMs,
  };
}
