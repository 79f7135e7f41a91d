import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';

/**
 * One in-flight limit per provider account, shared by every job and every worker: a workflow per
 * account hands out slots (leases) to clips, which wait their turn in it. Names and shapes shared by
 * that workflow, the activity that asks it for a slot and the clip workflows that give slots back.
 */

export const ACCOUNT_SLOTS_WORKFLOW_TYPE = 'providerAccountSlots';

/** ":" never appears in a job id, so this id cannot be taken by a job's workflow. */
export function accountSlotsWorkflowId(account: string): string {
  return `clipflow-slots:${account}`;
}

/** Who holds (or waits for) a slot: one clip of one workflow run, on one provider. */
export interface SlotHolder {
  /** `<workflowId>/<runId>#<clipIndex>`: the same across the clip's activity attempts. */
  holder: string;
  workflowId: string;
  runId: string;
}

export interface SlotRequest extends SlotHolder {
  /** The account's limit as the asking worker is configured: the latest asker's limit applies. */
  limit: number;
  /** How often the workflow looks for holders whose workflow has closed without giving back. */
  checkEveryS: number;
}

/** granted false: the clip is in the queue, and its workflow gets slotGrantedSignal when its turn comes. */
export interface SlotGrant {
  granted: boolean;
}

/** Sent to a waiting clip's workflow run when the slot is its. */
export interface SlotGranted {
  slotsWorkflowId: string;
  holder: string;
}

export interface AccountSlotsState {
  account: string;
  limit: number;
  checkEveryS: number;
  holders: SlotHolder[];
  /** First come, first served. */
  waiting: SlotHolder[];
  /** Past this many events the slots move to a fresh run (default 2,000). */
  handOverAfterEvents?: number;
  /** With nobody holding or waiting this long, the workflow ends (default 5 minutes). */
  idleMs?: number;
}

/** What the workflow's query shows (and the Web UI's Queries tab). */
export interface AccountSlotsView {
  account: string;
  limit: number;
  holders: string[];
  waiting: string[];
}

/** Answers at once: a slot now, or a place in the queue. */
export const acquireSlotUpdate = defineUpdate<SlotGrant, [SlotRequest]>('acquireSlot');
export const slotGrantedSignal = defineSignal<[SlotGranted]>('accountSlotGranted');
/** Gives a slot back, or leaves the queue; a holder that holds nothing is ignored. */
export const releaseSlotSignal = defineSignal<[holder: string]>('releaseSlot');
export const accountSlotsQuery = defineQuery<AccountSlotsView>('slots');

/**
 * What acquireAccountSlot returns: the slot the clip's workflow gives back when the clip is done
 * with the provider, granted at once or to be granted by slotGrantedSignal.
 */
export interface HeldSlot extends SlotGranted {
  granted: boolean;
}

export interface AcquireSlotInput {
  provider: string;
  clipIndex: number;
}
