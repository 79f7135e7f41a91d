import { Context } from '@temporalio/activity';
import { WithStartWorkflowOperation, WorkflowNotFoundError } from '@temporalio/client';
import {
  ACCOUNT_SLOTS_WORKFLOW_TYPE,
  accountSlotsWorkflowId,
  acquireSlotUpdate,
  type AccountSlotsState,
  type AcquireSlotInput,
  type HeldSlot,
  type SlotRequest,
} from '../shared/account-slots.js';
import { ClipflowError, FailureType, toApplicationFailure } from '../shared/failures.js';
import type { ActivityDeps } from './deps.js';

type SlotDeps = Pick<ActivityDeps, 'config' | 'provider' | 'providers' | 'telemetry'>;

/**
 * Asks the account's slots workflow (started by the first clip that asks) for a slot for a clip
 * about to spend the provider account: granted at once, or a place in the queue, whose turn the
 * clip's workflow waits for (a signal) without holding a worker. The slot is the clip's, not this
 * attempt's: asked again (a retried attempt), it answers the same.
 */
export function createAcquireAccountSlot(deps: SlotDeps) {
  return async function acquireAccountSlot({ provider, clipIndex }: AcquireSlotInput): Promise<HeldSlot> {
    const ctx = Context.current();
    const limit = deps.config.accountLimits.limits[provider as keyof typeof deps.config.accountLimits.limits];
    if (limit === undefined)
      throw toApplicationFailure(new ClipflowError(FailureType.Misconfigured, `provider ${provider} has no account limit on this worker`));
    const run = ctx.info.workflowExecution;
    if (!run)
      throw toApplicationFailure(
        new ClipflowError(FailureType.Misconfigured, 'an account slot is held by a workflow run; this activity has none'),
      );
    const account = accountOf(deps, provider);
    const { workflowId, runId } = run;
    const request: SlotRequest = {
      holder: `${workflowId}/${runId}#${clipIndex}`,
      workflowId,
      runId,
      limit,
      checkEveryS: deps.config.accountLimits.checkEveryS,
    };
    const slotsWorkflowId = accountSlotsWorkflowId(account);
    const start = new WithStartWorkflowOperation(ACCOUNT_SLOTS_WORKFLOW_TYPE, {
      workflowId: slotsWorkflowId,
      taskQueue: ctx.info.taskQueue,
      args: [{ account, limit, checkEveryS: request.checkEveryS, holders: [], waiting: [] } satisfies AccountSlotsState],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
    const { granted } = await ctx.client.workflow.executeUpdateWithStart(acquireSlotUpdate, {
      args: [request],
      startWorkflowOperation: start,
    });
    return { slotsWorkflowId, holder: request.holder, granted };
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
