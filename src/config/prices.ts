import { z } from 'zod';
import type { PriceTable } from '../cost/prices.js';
import { parseOr } from './env.js';

export const DEFAULT_PRICES: PriceTable = {
  'clipflow/local-ffmpeg': { usdPerOutputSecond: 0 },
  'minimax/video-01': { usdPerPrediction: 0.5 },
  'wan-video/wan-2.1-t2v-480p': { usdPerPredictSecond: 0.000975, estimatedPredictSecondsPerOutputSecond: 40 },
  'wavespeedai/wan-2.1-t2v-720p': { usdPerOutputSecond: 0.25 },
  // Runway: credits at $0.01; gen4.5 12 and gen4_turbo 5 credits a second of video.
  'gen4.5': { usdPerOutputSecond: 0.12 },
  gen4_turbo: { usdPerOutputSecond: 0.05 },
  // fal: Pika 2.2 at 720p (clipflow asks for 720p), $0.20 for 5 s.
  'fal-ai/pika/v2.2': { usdPerOutputSecond: 0.04 },
};

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

export const pricesEnv = z.object({
  /** JSON, model → price, merged over DEFAULT_PRICES. */
  CLIPFLOW_PRICES: z.string().optional(),
});

export function priceTable(e: z.infer<typeof pricesEnv>): PriceTable {
  const text = e.CLIPFLOW_PRICES;
  if (!text) return DEFAULT_PRICES;
  return { ...DEFAULT_PRICES, ...parseOr('CLIPFLOW_PRICES', () => PriceTableSchema.parse(JSON.parse(text))) };
}
