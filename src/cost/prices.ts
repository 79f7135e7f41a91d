import { ClipflowError, FailureType } from '../shared/failures.js';
import type { MicroUsd } from '../shared/money.js';
import { usdToMicros } from '../shared/money.js';

/**
 * One price table serves both the pre-flight estimate and the actual cost of a finished clip.
 * A model is priced by the second of output video, by the prediction, or by the second of
 * hardware time (Replicate's metrics.predict_time); the estimate of a hardware-priced model
 * assumes `estimatedPredictSecondsPerOutputSecond`.
 */
export interface ModelPrice {
  usdPerOutputSecond?: number;
  usdPerPrediction?: number;
  usdPerPredictSecond?: number;
  estimatedPredictSecondsPerOutputSecond?: number;
}

export type PriceTable = Readonly<Record<string, ModelPrice>>;

export function priceFor(table: PriceTable, model: string): ModelPrice {
  const price = table[model];
  // A configuration error: retrying cannot fix it, and nothing may be spent on an unpriced model.
  if (!price) throw new ClipflowError(FailureType.Misconfigured, `no price for model "${model}" in the price table (CLIPFLOW_PRICES)`);
  return price;
}

export function estimateClipCost(price: ModelPrice, durationS: number): MicroUsd {
  const predictS = durationS * (price.estimatedPredictSecondsPerOutputSecond ?? 0);
  return (
    usdToMicros((price.usdPerOutputSecond ?? 0) * durationS) +
    usdToMicros(price.usdPerPrediction ?? 0) +
    usdToMicros((price.usdPerPredictSecond ?? 0) * predictS)
  );
}

export function actualClipCost(price: ModelPrice, facts: { outputDurationS: number; predictTimeS?: number }): MicroUsd {
  return (
    usdToMicros((price.usdPerOutputSecond ?? 0) * facts.outputDurationS) +
    usdToMicros(price.usdPerPrediction ?? 0) +
    usdToMicros((price.usdPerPredictSecond ?? 0) * (facts.predictTimeS ?? 0))
  );
}
