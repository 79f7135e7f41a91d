/** Small statistics helpers for the benchmark. */

export interface Summary {
  n: number;
  mean: number;
  median: number;
  p95: number;
  max: number;
  min: number;
}

export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  // Nearest rank: the smallest value with at least q of the values at or below it.
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1]!;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) return { n: 0, mean: Number.NaN, median: Number.NaN, p95: Number.NaN, max: Number.NaN, min: Number.NaN };
  return {
    n: values.length,
    mean: values.reduce((a, b) => a + b, 0) / values.length,
    median: median(values),
    p95: quantile(values, 0.95),
    max: Math.max(...values),
    min: Math.min(...values),
  };
}
