/**
 * Money is carried as integer micro-dollars (1 USD = 1_000_000 µ$) so sums never drift.
 * Only presentation converts to dollars, once, at the edge.
 */
export type MicroUsd = number;

export const MICROS_PER_USD = 1_000_000;

export function usdToMicros(usd: number): MicroUsd {
  return Math.round(usd * MICROS_PER_USD);
}

export function microsToUsd(micros: MicroUsd): number {
  return micros / MICROS_PER_USD;
}

export function formatUsd(micros: MicroUsd): string {
  const sign = micros < 0 ? '-' : '';
  const abs = Math.abs(micros);
  const whole = Math.floor(abs / MICROS_PER_USD);
  const cents = Math.round((abs % MICROS_PER_USD) / 10_000);
  // 0.995 rounds to 1.00, not 0.100.
  if (cents === 100) return `${sign}$${whole + 1}.00`;
  return `${sign}$${whole}.${String(cents).padStart(2, '0')}`;
}
