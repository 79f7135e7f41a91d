/**
 * The slots workflow of a provider account on its own, driven through the client as the
 * acquireAccountSlot activity drives it: first come first served, a waiting clip that leaves,
 * a refused request, the move to a fresh run (holders and queue kept, waiting askers told to ask
 * again), and its end when idle.
 */
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

/** One account's slots, asked as the activity asks (Update with start). */
function account(limit: number, extra: Partial<AccountSlotsState> = {}) {
  const workflowId = `clipflow-slots:${uniqueName('test')}`;
  const state: AccountSlotsState = { account: workflowId, limit, checkEveryS: 60, holders: [], waiting: [], ...extra };
  const client = server.env.client;
  const ask = (holder: string, asked = limit): Promise<SlotGrant> =>
    client.workflow.executeUpdateWithStart(acquireSlotUpdate, {
      args: [{ holder, workflowId: `wf-${holder}`, runId: `run-${holder}`, limit: asked, checkEveryS: 60 }],
      startWorkflowOperation: new WithStartWorkflowOperation(ACCOUNT_SLOTS_WORKFLOW_TYPE, {
        workflowId,
        taskQueue,
        args: [state],
        workflowIdConflictPolicy: 'USE_EXISTING',
      }),
    });
  /** Asks until granted, as the activity does when a run hands over. */
  const take = async (holder: string): Promise<number> => {
    let asks = 0;
    for (;;) {
      asks += 1;
      if ((await ask(holder)).granted) return asks;
    }
  };
  const handle = client.workflow.getHandle(workflowId);
  const view = () => handle.query(accountSlotsQuery);
  const release = (holder: string) => handle.signal(releaseSlotSignal, holder);
  return { workflowId, ask, take, handle, view, release };
}

describe('the slots workflow of a provider account', () => {
  it('grants first come first served, keeps a retried asker’s slot, and lets a waiting clip leave', async () => {
    const slots = account(2);
    expect(await slots.ask('a')).toEqual({ granted: true });
    expect(await slots.ask('b')).toEqual({ granted: true });
    const c = slots.take('c');
    await until('c waiting', async () => ((await slots.view()).waiting.includes('c') ? true : undefined), 20_000);
    const d = slots.ask('d');
    const e = slots.ask('e');
    await until('d and e waiting', async () => ((await slots.view()).waiting.length === 3 ? true : undefined), 20_000);
    // The same clip asking again (its next attempt) holds its slot still.
    expect(await slots.ask('a')).toEqual({ granted: true });
    // d leaves the queue (its clip cancelled): told no, and e moves up behind c.
    await slots.release('d');
    expect(await d).toEqual({ granted: false });
    await slots.release('a');
    expect(await c).toBe(1);
    expect(await slots.view()).toMatchObject({ holders: ['b', 'c'], waiting: ['e'] });
    await slots.release('b');
    expect(await e).toEqual({ granted: true });
    expect((await slots.view()).holders).toEqual(['c', 'e']);
  });

  it('refuses a request it cannot honour, naming what is wrong', async () => {
    const slots = account(1);
    await slots.ask('a');
    const err = await slots.ask('b', 0).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(String((err as WorkflowUpdateFailedError).cause?.message)).toMatch(/limit must be a whole number ≥ 1, not 0/);
    expect((await slots.view()).waiting).toEqual([]);
  });

  it('moves to a fresh run past its event budget, keeping holders and queue; the waiting ask again and are served', async () => {
    const slots = account(1, { handOverAfterEvents: 40 });
    expect(await slots.ask('a')).toEqual({ granted: true });
    const firstRun = (await slots.handle.describe()).runId;
    const b = slots.take('b');
    const c = slots.take('c');
    await until('b and c waiting', async () => ((await slots.view()).waiting.length === 2 ? true : undefined), 20_000);
    // Signals that change nothing add events until the run hands over.
    for (let i = 0; i < 30; i++) await slots.release(`nobody-${i}`);
    await until('a new run', async () => ((await slots.handle.describe()).runId !== firstRun ? true : undefined), 20_000);
    expect(await slots.view()).toMatchObject({ holders: ['a'], waiting: ['b', 'c'] });
    await slots.release('a');
    // b was told to ask again at the hand-over and was served first in the new run.
    expect(await b).toBeGreaterThanOrEqual(2);
    expect((await slots.view()).holders).toEqual(['b']);
    await slots.release('b');
    expect(await c).toBeGreaterThanOrEqual(2);
    expect(await slots.view()).toMatchObject({ holders: ['c'], waiting: [] });
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
