import { z } from 'zod';
import type { ProviderName } from '../providers/create-provider.js';
import { int, positive } from './env.js';

/**
 * How many tasks may be in flight at once at each provider account, across every job and worker
 * (unset: no account-wide limit, only each job's concurrency).
 */
export interface AccountLimits {
  /** By provider; the account is the one the provider's credential names. */
  limits: Partial<Record<ProviderName, number>>;
  /** How often a provider account's slots are checked for holders whose workflow closed without giving them back. */
  checkEveryS: number;
}

export const accountLimitsEnv = z.object({
  RUNWAY_ACCOUNT_LIMIT: int(1, 10_000).optional(),
  FAL_ACCOUNT_LIMIT: int(1, 10_000).optional(),
  REPLICATE_ACCOUNT_LIMIT: int(1, 10_000).optional(),
  ACCOUNT_SLOT_CHECK_S: positive(3600).default(60),
});

type AccountLimitsEnv = z.infer<typeof accountLimitsEnv>;

export function accountLimits(e: AccountLimitsEnv): AccountLimits {
  const limits: Partial<Record<ProviderName, number>> = {};
  if (e.RUNWAY_ACCOUNT_LIMIT !== undefined) limits.runway = e.RUNWAY_ACCOUNT_LIMIT;
  if (e.FAL_ACCOUNT_LIMIT !== undefined) limits.pika = e.FAL_ACCOUNT_LIMIT;
  if (e.REPLICATE_ACCOUNT_LIMIT !== undefined) limits.replicate = e.REPLICATE_ACCOUNT_LIMIT;
  return { limits, checkEveryS: e.ACCOUNT_SLOT_CHECK_S };
}
