/**
 * The slots workflow of a provider account on its own, driven through the client as the
 * acquireAccountSlot activity drives it: first come first served, a queued clip that leaves or
 * whose workflow has closed, a refused request, the move to a fresh run (holders and queue kept),
 * and its end when idle.
 */
import { randomUUID } from 'node:crypto';
import { WithStartWorkflowOperation, WorkflowUpdateFailedError } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClosedHolders } from '../src/activities/account-slot.js';
import { startDevServer, type DevServer } from '../src/dev-server/start-dev-server.js';
import {
  ACCOUNT_SLOTS_WORKFLOW_TYPE,
  accountSlotsQuery,
  acquireSlotUpdate,
  releaseSlotSignal,
  type AccountSlotsState,
  type SlotGrant,
} from '../src/shared/account-slots.js';
import { uniqueName, workflowBundle } from './support/env.js';
import { until } from './support/wait.js';

let server: DevServer;
let worker: Worker;
let running: Promise<void>;
const taskQueue = uniqueName('slots');
beforeAll(async () => {
  [server] = await Promise.all([startDevServer(), workflowBundle()]);
  worker = await Worker.create({
    connection: server.env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: { closedHolders: createClosedHolders() },
  });
  running = worker.run();
});
afterAll(async () => {
  worker?.shutdown();
  await running;
  await server?.stop();
});

/** A running workflow that stands for the clips' workflow (the grants are signalled to it). */
let clipRun: { workflowId: string; runId: string };

/** One account's slots, asked as the activity asks (Update with start). */
function account(limit: number, extra: Partial<AccountSlotsState> = {}) {
  const workflowId = `clipflow-slots:${uniqueName('test')}`;
  const state: AccountSlotsState = { account: workflowId, limit, checkEveryS: 60, holders: [], waiting: [], ...extra };
  const client = server.env.client;
  /** `closed`: the asking clip's workflow run has ended by the time its turn comes. */
  const ask = (holder: string, { asked = limit, closed = false, runId = '' } = {}): Promise<SlotGrant> =>
    client.workflow.executeUpdateWithStart(acquireSlotUpdate, {
      args: [
        {
          holder,
          ...(closed ? { workflowId: `gone-${holder}`, runId: randomUUID() } : clipRun),
          ...(runId ? { runId } : {}),
          limit: asked,
          checkEveryS: 60,
        },
      ],
      startWorkflowOperation: new WithStartWorkflowOperation(ACCOUNT_SLOTS_WORKFLOW_TYPE, {
        workflowId,
        taskQueue,
        args: [state],
        workflowIdConflictPolicy: 'USE_EXISTING',
      }),
    });
  const handle = client.workflow.getHandle(workflowId);
  const view = () => handle.query(accountSlotsQuery);
  const release = (holder: string) => handle.signal(releaseSlotSignal, holder);
  const holding = (holders: string[], waiting?: string[]) =>
    until(
      `holders ${holders.join(', ')}`,
      async () => {
        const v = await view();
        return JSON.stringify(v.holders) === JSON.stringify(holders) && (!waiting || JSON.stringify(v.waiting) === JSON.stringify(waiting))
          ? v
          : undefined;
      },
      20_000,
    );
  return { workflowId, ask, handle, view, release, holding };
}

describe('the slots workflow of a provider account', () => {
  beforeAll(async () => {
    // Any running workflow takes a signal; an idle slots workflow of another account stays running.
    const other = account(1);
    await other.ask('other', { closed: true });
    clipRun = { workflowId: other.workflowId, runId: (await other.handle.describe()).runId };
  });

  it('answers at once: a slot, or a place first come first served; asked again it answers the same; a queued clip may leave', async () => {
    const slots = account(2);
    expect(await slots.ask('a')).toEqual({ granted: true });
    expect(await slots.ask('b')).toEqual({ granted: true });
    for (const holder of ['c', 'd', 'e']) expect(await slots.ask(holder)).toEqual({ granted: false });
    // The same clip asking again (its next attempt): its slot, or its place, stands.
    expect(await slots.ask('a')).toEqual({ granted: true });
    expect(await slots.ask('c')).toEqual({ granted: false });
    expect(await slots.view()).toMatchObject({ holders: ['a', 'b'], waiting: ['c', 'd', 'e'] });
    // d leaves the queue (its clip cancelled); a gives its slot back: c's turn, then e's.
    await slots.release('d');
    await slots.release('a');
    await slots.holding(['b', 'c'], ['e']);
    await slots.release('b');
    await slots.holding(['c', 'e'], []);
  });

  it('skips a queued clip whose workflow has closed when its turn comes', async () => {
    const slots = account(1);
    await slots.ask('a');
    expect(await slots.ask('x', { closed: true })).toEqual({ granted: false });
    expect(await slots.ask('c')).toEqual({ granted: false });
    await slots.release('a');
    await slots.holding(['c'], []);
  });

  it('refuses a request it cannot honour, naming what is wrong', async () => {
    const slots = account(1);
    await slots.ask('a');
    const err = await slots.ask('b', { asked: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(String((err as WorkflowUpdateFailedError).cause?.message)).toMatch(/limit must be a whole number ≥ 1, not 0/);
    // A run id the server would refuse to signal would wedge the workflow: refused up front.
    const badRun = await slots.ask('b', { runId: 'run-1' }).catch((e: unknown) => e);
    expect(String((badRun as WorkflowUpdateFailedError).cause?.message)).toMatch(/runId run-1 is not a run id/);
    expect((await slots.view()).waiting).toEqual([]);
  });

  it('moves to a fresh run past its event budget, keeping holders and queue, and goes on serving the queue', async () => {
    const slots = account(1, { handOverAfterEvents: 40 });
    expect(await slots.ask('a')).toEqual({ granted: true });
    const firstRun = (await slots.handle.describe()).runId;
    await slots.ask('b');
    await slots.ask('c');
    // Signals that change nothing add events until the run hands over.
    for (let i = 0; i < 30; i++) await slots.release(`nobody-${i}`);
    await until('a new run', async () => ((await slots.handle.describe()).runId !== firstRun ? true : undefined), 20_000);
    expect(await slots.view()).toMatchObject({ holders: ['a'], waiting: ['b', 'c'] });
    expect(await slots.ask('b')).toEqual({ granted: false });
    await slots.release('a');
    await slots.holding(['b'], ['c']);
    await slots.release('b');
    await slots.holding(['c'], []);
  });

  it('ends when nobody holds or waits, and starts again on the next ask', async () => {
    const slots = account(1, { idleMs: 1_000 });
    await slots.ask('a');
    await slots.release('a');
    await until('the run ended', async () => ((await slots.handle.describe()).status.name === 'COMPLETED' ? true : undefined), 20_000);
    expect(await slots.ask('b')).toEqual({ granted: true });
    expect((await slots.handle.describe()).status.name).toBe('RUNNING');
  });
});
