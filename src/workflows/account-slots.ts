import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import {
  accountSlotsQuery,
  acquireSlotUpdate,
  releaseSlotSignal,
  slotGrantedSignal,
  type AccountSlotsState,
  type SlotGrant,
  type SlotHolder,
  type SlotRequest,
} from '../shared/account-slots.js';
import { FailureType } from '../shared/failures.js';

const { closedHolders } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
  summary: 'holders whose workflow has closed',
});

/** With nobody holding or waiting this long, the workflow ends; the next clip to ask starts it again. */
const IDLE_MS = 5 * 60_000;
/** Past this many events the slots move to a fresh run, so the history stays small however long it serves. */
const HAND_OVER_AFTER_EVENTS = 2_000;

/**
 * The slots of one provider account: at most `limit` clips hold one at once, across every job and
 * worker; the rest wait first come, first served. A clip asks with an Update, answered at once
 * (a slot, or a place in the queue); a queued clip's workflow is signalled when its turn comes, so
 * waiting costs no worker anything. A slot belongs to a clip of a workflow run, not to a worker: a
 * worker that dies leaves its clips' slots with them (their tasks still run at the provider, and
 * their next attempts take them up). A slot comes back when its clip gives it back, or when its
 * workflow has closed without doing so (terminated), found every `checkEveryS`.
 */
export async function providerAccountSlots(state: AccountSlotsState): Promise<void> {
  let { limit, checkEveryS } = state;
  const { handOverAfterEvents = HAND_OVER_AFTER_EVENTS, idleMs = IDLE_MS } = state;
  const slotsWorkflowId = workflowInfo().workflowId;
  const holders = new Map(state.holders.map((h) => [h.holder, h]));
  const waiting: SlotHolder[] = [...state.waiting];
  /** Grants on their way to the clips' workflows. */
  const telling = new Set<Promise<void>>();

  const isWaiting = (holder: string) => waiting.some((w) => w.holder === holder);
  const release = (holder: string) => {
    holders.delete(holder);
    const queued = waiting.findIndex((w) => w.holder === holder);
    if (queued >= 0) waiting.splice(queued, 1);
    grant();
  };
  const tell = (h: SlotHolder) => {
    const told = getExternalWorkflowHandle(h.workflowId, h.runId)
      .signal(slotGrantedSignal, { slotsWorkflowId, holder: h.holder })
      // Its workflow has closed: nobody will use or give back the slot.
      .catch(() => release(h.holder))
      .finally(() => telling.delete(told));
    telling.add(told);
  };
  function grant() {
    while (holders.size < limit && waiting.length > 0) {
      const next = waiting.shift()!;
      holders.set(next.holder, next);
      tell(next);
    }
  }

  setHandler(
    acquireSlotUpdate,
    (request: SlotRequest): SlotGrant => {
      ({ limit, checkEveryS } = request);
      const { holder } = request;
      grant(); // a raised limit frees slots for those already waiting
      // Asked again by the same clip (a retried attempt): its slot or its place stands.
      if (holders.has(holder)) return { granted: true };
      if (isWaiting(holder)) return { granted: false };
      if (holders.size < limit && waiting.length === 0) {
        holders.set(holder, slotHolder(request));
        return { granted: true };
      }
      waiting.push(slotHolder(request));
      return { granted: false };
    },
    { validator: validateRequest },
  );
  setHandler(releaseSlotSignal, release);
  setHandler(accountSlotsQuery, () => ({
    account: state.account,
    limit,
    holders: [...holders.keys()],
    waiting: waiting.map((w) => w.holder),
  }));

  const busy = () => holders.size > 0 || waiting.length > 0;
  const tooLong = () => workflowInfo().historyLength >= handOverAfterEvents || workflowInfo().continueAsNewSuggested;
  while (!tooLong()) {
    if (!busy() && !(await condition(busy, idleMs)) && telling.size === 0 && allHandlersFinished()) return;
    // While slots are held: every checkEveryS, give back those of workflows that closed holding them.
    if (await condition(() => !busy() || tooLong(), checkEveryS * 1000)) continue;
    const runs = [...new Map([...holders.values(), ...waiting].map((h) => [`${h.workflowId}/${h.runId}`, h])).values()];
    const closed = new Set(await closedHolders(runs.map(({ workflowId, runId }) => ({ workflowId, runId }))));
    for (const h of [...holders.values(), ...waiting]) if (closed.has(`${h.workflowId}/${h.runId}`)) release(h.holder);
  }
  // Handed over once every grant has reached its clip; the queue goes on in the next run.
  await condition(() => telling.size === 0 && allHandlersFinished());
  await continueAsNew<typeof providerAccountSlots>({
    account: state.account,
    limit,
    checkEveryS,
    holders: [...holders.values()],
    waiting,
    handOverAfterEvents,
    idleMs,
  });
}

function slotHolder({ holder, workflowId, runId }: SlotRequest): SlotHolder {
  return { holder, workflowId, runId };
}

const RUN_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function validateRequest(request: SlotRequest): void {
  const problems: string[] = [];
  if (!Number.isInteger(request?.limit) || request.limit < 1) problems.push(`limit must be a whole number ≥ 1, not ${request?.limit}`);
  if (!(request?.checkEveryS > 0)) problems.push(`checkEveryS must be > 0, not ${request?.checkEveryS}`);
  for (const key of ['holder', 'workflowId', 'runId'] as const)
    if (typeof request?.[key] !== 'string' || request[key].length === 0) problems.push(`${key} is missing`);
  // The run is signalled when its turn comes: the server refuses (and would wedge this workflow on) a malformed run id.
  if (typeof request?.runId === 'string' && request.runId && !RUN_ID.test(request.runId))
    problems.push(`runId ${request.runId} is not a run id`);
  if (problems.length > 0)
    throw ApplicationFailure.create({
      type: FailureType.Misconfigured,
      message: `slot request refused: ${problems.join('; ')}`,
      nonRetryable: true,
    });
}
