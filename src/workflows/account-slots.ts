import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import {
  accountSlotsQuery,
  acquireSlotUpdate,
  releaseSlotSignal,
  type AccountSlotsState,
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
 * worker; the rest wait first come, first served. A slot belongs to a clip of a workflow run, not
 * to a worker: a worker that dies leaves its clips' slots with them (their tasks still run at the
 * provider, and their next attempts take them up). A slot comes back when its clip gives it back,
 * or when its workflow has closed without doing so (terminated), found every `checkEveryS`.
 */
export async function providerAccountSlots(state: AccountSlotsState): Promise<void> {
  let { limit, checkEveryS } = state;
  const { handOverAfterEvents = HAND_OVER_AFTER_EVENTS, idleMs = IDLE_MS } = state;
  const holders = new Map(state.holders.map((h) => [h.holder, h]));
  const waiting: SlotHolder[] = [...state.waiting];
  let handingOver = false;

  const isWaiting = (holder: string) => waiting.some((w) => w.holder === holder);
  const grant = () => {
    while (holders.size < limit && waiting.length > 0) {
      const next = waiting.shift()!;
      holders.set(next.holder, next);
    }
  };
  const release = (holder: string) => {
    holders.delete(holder);
    const queued = waiting.findIndex((w) => w.holder === holder);
    if (queued >= 0) waiting.splice(queued, 1);
    grant();
  };

  setHandler(
    acquireSlotUpdate,
    async (request: SlotRequest) => {
      ({ limit, checkEveryS } = request);
      const { holder } = request;
      // Asked again by the same clip (a retried attempt, a new run of this workflow): its slot or its place stands.
      if (!holders.has(holder) && !isWaiting(holder) && !handingOver) waiting.push(slotHolder(request));
      grant();
      await condition(() => holders.has(holder) || !isWaiting(holder) || handingOver);
      return { granted: holders.has(holder) };
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
    if (!busy() && !(await condition(busy, idleMs)) && allHandlersFinished()) return;
    // While slots are held: every checkEveryS, give back those of workflows that closed holding them.
    if (await condition(() => !busy() || tooLong(), checkEveryS * 1000)) continue;
    const runs = [...new Map([...holders.values(), ...waiting].map((h) => [`${h.workflowId}/${h.runId}`, h])).values()];
    const closed = new Set(await closedHolders(runs.map(({ workflowId, runId }) => ({ workflowId, runId }))));
    for (const h of [...holders.values(), ...waiting]) if (closed.has(`${h.workflowId}/${h.runId}`)) release(h.holder);
  }
  // Waiting askers are told to ask again; they find their places in the next run.
  handingOver = true;
  await condition(allHandlersFinished);
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

function validateRequest(request: SlotRequest): void {
  const problems: string[] = [];
  if (!Number.isInteger(request?.limit) || request.limit < 1) problems.push(`limit must be a whole number ≥ 1, not ${request?.limit}`);
  if (!(request?.checkEveryS > 0)) problems.push(`checkEveryS must be > 0, not ${request?.checkEveryS}`);
  for (const key of ['holder', 'workflowId', 'runId'] as const)
    if (typeof request?.[key] !== 'string' || request[key].length === 0) problems.push(`${key} is missing`);
  if (problems.length > 0)
    throw ApplicationFailure.create({
      type: FailureType.Misconfigured,
      message: `slot request refused: ${problems.join('; ')}`,
      nonRetryable: true,
    });
}
