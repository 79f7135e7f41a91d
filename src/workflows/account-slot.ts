import { CancellationScope, condition, getExternalWorkflowHandle, log, setHandler } from '@temporalio/workflow';
import { releaseSlotSignal, slotGrantedSignal, type HeldSlot } from '../shared/account-slots.js';
import type { JobSettings } from '../shared/activity-io.js';
import { slotActivities } from './activity-options.js';

/**
 * A workflow run's clips at provider accounts with an account-wide limit: each waits its turn in
 * the account's slots workflow, does its work, and gives the slot back however the work ended
 * (made, failed, cancelled). One per workflow run: it listens for the grants of queued clips.
 */
export class AccountSlots {
  /** Grants received, as `<slots workflow> <holder>`; a grant may arrive before its clip waits for it. */
  private readonly granted = new Set<string>();

  constructor(private readonly settings: JobSettings) {
    setHandler(slotGrantedSignal, ({ slotsWorkflowId, holder }) => {
      this.granted.add(`${slotsWorkflowId} ${holder}`);
    });
  }

  /** Runs `work` within a slot of the provider's account when the account has a limit, else at once. */
  async within<T>(provider: string, clipIndex: number, work: () => Promise<T>): Promise<T> {
    if (!this.settings.accountLimited?.includes(provider)) return work();
    const slot = await slotActivities(clipIndex, provider).acquireAccountSlot({ provider, clipIndex });
    const key = `${slot.slotsWorkflowId} ${slot.holder}`;
    try {
      if (!slot.granted) await condition(() => this.granted.has(key));
      return await work();
    } finally {
      this.granted.delete(key);
      await giveBack(slot);
    }
  }
}

/** Even in a cancelled job: the next clip in the account's queue is waiting for it. A queued clip leaves the queue. */
async function giveBack({ slotsWorkflowId, holder }: HeldSlot): Promise<void> {
  await CancellationScope.nonCancellable(() => getExternalWorkflowHandle(slotsWorkflowId).signal(releaseSlotSignal, holder)).catch(
    // Its slots workflow is gone (terminated by hand): there is nothing to give back to.
    (err: unknown) => log.warn('account slot not given back', { slotsWorkflowId, holder, error: (err as Error).message }),
  );
}
