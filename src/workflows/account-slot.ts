import { CancellationScope, getExternalWorkflowHandle, log } from '@temporalio/workflow';
import { releaseSlotSignal, type HeldSlot } from '../shared/account-slots.js';
import type { JobSettings } from '../shared/activity-io.js';
import { slotActivities } from './activity-options.js';

/**
 * Runs a clip's work on a provider within a slot of the provider account's limit, when the account
 * has one: waits its turn, then gives the slot back however the work ends (made, failed, cancelled).
 */
export async function withAccountSlot<T>(settings: JobSettings, provider: string, clipIndex: number, work: () => Promise<T>): Promise<T> {
  if (!settings.accountLimited?.includes(provider)) return work();
  const slot = await slotActivities(settings, clipIndex, provider).acquireAccountSlot({ provider, clipIndex });
  try {
    return await work();
  } finally {
    await giveBack(slot);
  }
}

/** Even in a cancelled job: the next clip in the account's queue is waiting for it. */
async function giveBack({ slotsWorkflowId, holder }: HeldSlot): Promise<void> {
  await CancellationScope.nonCancellable(() => getExternalWorkflowHandle(slotsWorkflowId).signal(releaseSlotSignal, holder)).catch(
    // Its slots workflow is gone (terminated by hand): there is nothing to give back to.
    (err: unknown) => log.warn('account slot not given back', { slotsWorkflowId, holder, error: (err as Error).message }),
  );
}
