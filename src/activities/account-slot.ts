import { CancelledFailure, Context } from '@temporalio/activity';
import { WithStartWorkflowOperation, WorkflowNotFoundError } from '@temporalio/client';
import {
  ACCOUNT_SLOTS_WORKFLOW_TYPE,
  accountSlotsWorkflowId,
  acquireSlotUpdate,
  releaseSlotSignal,
  type AccountSlotsState,
  type AcquireSlotInput,
  type HeldSlot,
  type SlotRequest,
} from '../shared/account-slots.js';
import { ClipflowError, FailureType, toApplicationFailure } from '../shared/failures.js';
import type { ActivityDeps } from './deps.js';

type SlotDeps = Pick<ActivityDeps, 'config' | 'provider' | 'providers' | 'telemetry'>;

/**
 * Waits for a slot at the provider account a clip is about to spend, in the account's slots
 * workflow (started by the first clip that asks). The slot is the clip's, not this attempt's: an
 * attempt whose worker dies leaves it to the next attempt, which finds it granted. The clip's
 * workflow gives it back with the HeldSlot returned.
 */
export function createAcquireAccountSlot(deps: SlotDeps) {
  return async function acquireAccountSlot({ provider, clipIndex }: AcquireSlotInput): Promise<HeldSlot> {
    const ctx = Context.current();
    const limit = deps.config.accountLimits.limits[provider as keyof typeof deps.config.accountLimits.limits];
    if (limit === undefined)
      throw toApplicationFailure(new ClipflowError(FailureType.Misconfigured, `provider ${provider} has no account limit on this worker`));
    const account = accountOf(deps, provider);
    const run = ctx.info.workflowExecution;
    if (!run)
      throw toApplicationFailure(
        new ClipflowError(FailureType.Misconfigured, 'an account slot is held by a workflow run; this activity has none'),
      );
    const { workflowId, runId } = run;
    const request: SlotRequest = {
      holder: `${workflowId}/${runId}#${clipIndex}`,
      workflowId,
      runId,
      limit,
      checkEveryS: deps.config.accountLimits.checkEveryS,
    };
    const slotsWorkflowId = accountSlotsWorkflowId(account);
    const initial: AccountSlotsState = { account, limit, checkEveryS: request.checkEveryS, holders: [], waiting: [] };
    // Heartbeats carry cancellation (job cancel, budget stop) to a clip still waiting for its turn.
    const beating = setInterval(() => ctx.heartbeat(), 1000);
    try {
      for (;;) {
        const start = new WithStartWorkflowOperation(ACCOUNT_SLOTS_WORKFLOW_TYPE, {
          workflowId: slotsWorkflowId,
          taskQueue: ctx.info.taskQueue,
          args: [initial],
          workflowIdConflictPolicy: 'USE_EXISTING',
        });
        const asked = ctx.client.workflow.executeUpdateWithStart(acquireSlotUpdate, { args: [request], startWorkflowOperation: start });
        asked.catch(() => undefined); // abandoned when cancelled: the release below takes the clip out of the queue
        const { granted } = await Promise.race([asked, ctx.cancelled]);
        if (granted) return { slotsWorkflowId, holder: request.holder };
        // Not granted: the slots moved to a fresh run, where this clip's place is kept.
      }
    } catch (err) {
      if (err instanceof CancelledFailure) {
        await ctx.client.workflow
          .getHandle(slotsWorkflowId)
          .signal(releaseSlotSignal, request.holder)
          .catch(() => undefined);
      }
      throw err;
    } finally {
      clearInterval(beating);
    }
  };
}

/** A paused workflow still holds its slots: its clips' tasks may still run. */
const CLOSED = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'TERMINATED', 'CONTINUED_AS_NEW', 'TIMED_OUT']);

/** The workflow runs (`<workflowId>/<runId>`) among those given that are no longer running. */
export function createClosedHolders() {
  return async function closedHolders(runs: { workflowId: string; runId: string }[]): Promise<string[]> {
    const { client } = Context.current();
    const closed: string[] = [];
    for (const { workflowId, runId } of runs) {
      const ended = await client.workflow
        .getHandle(workflowId, runId)
        .describe()
        .then(
          (d) => CLOSED.has(d.status.name),
          (err: unknown) => {
            if (err instanceof WorkflowNotFoundError) return true;
            throw err;
          },
        );
      if (ended) closed.push(`${workflowId}/${runId}`);
    }
    return closed;
  };
}

/** The account a provider's clips spend: its label on the worker's metrics (a credential fingerprint, never the credential). */
function accountOf(deps: SlotDeps, provider: string): string {
  if (provider === deps.provider.name || provider === deps.config.generation.provider) return deps.telemetry?.account ?? provider;
  return deps.providers?.[provider]?.account ?? provider;
}
