/**
 * One in-flight limit per provider account, across jobs and workers (RUNWAY_ACCOUNT_LIMIT), on the
 * real dev server against the fake Runway API: two jobs of 6 clips, 3 at a time each, under an
 * account limit of 5; the same with the worker that holds the slots SIGKILLed mid-way; and the slots
 * of a terminated job coming back.
 */
import { CancelledFailure, type WorkflowFailedError } from '@temporalio/client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startDevServer, type DevServer } from '../src/dev-server/start-dev-server.js';
import { accountSlotsQuery, accountSlotsWorkflowId, type AccountSlotsView } from '../src/shared/account-slots.js';
import type { GenerateClipsResult } from '../src/shared/model.js';
import { providerAccount } from '../src/telemetry/activity-telemetry.js';
import { startCrashWorker, type CrashWorker } from './support/crash-worker-process.js';
import { clipPrompts, uniqueName, workflowBundle } from './support/env.js';
import { startFakeRunway } from './support/fake-runway.js';
import type { BehaveFn } from './support/fake-tasks.js';
import { expectValidClips } from './support/job-checks.js';
import { harness, type Harness } from './support/job-runner.js';
import { until } from './support/wait.js';

const TIMEOUT_MS = 90_000;

let server: DevServer;
beforeAll(async () => {
  [server] = await Promise.all([startDevServer(), workflowBundle()]);
});
afterAll(async () => {
  await server?.stop();
});

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

/** A Runway account of its own per test (its slots workflow is named by the secret's fingerprint). */
async function setUp(
  limit: number,
  { latencyMs = 2_500, behave, extra = {} }: { latencyMs?: number; behave?: BehaveFn; extra?: Record<string, string> } = {},
) {
  const secret = `key_${uniqueName('account')}`;
  const fake = await startFakeRunway({ token: secret, latencyMs, ...(behave ? { behave } : {}) });
  cleanups.push(() => fake.close());
  const env = {
    VIDEO_PROVIDER: 'runway',
    VIDEO_FALLBACK_MODEL: '',
    CLIPFLOW_PRICES: JSON.stringify({ 'gen4.5': { usdPerOutputSecond: 0.12 } }),
    VIDEO_GENERATOR_BUDGET_USD: '100',
    RUNWAYML_API_SECRET: secret,
    RUNWAYML_BASE_URL: fake.url,
    RUNWAY_POLL_INTERVAL_MS: '200',
    RUNWAY_ACCOUNT_LIMIT: String(limit),
    CLIP_HEARTBEAT_TIMEOUT_S: '3',
    ...extra,
  };
  const h: Harness = await harness(server, env);
  cleanups.push(() => h.deps.close());
  const slots = server.env.client.workflow.getHandle(accountSlotsWorkflowId(providerAccount('runway', secret)));
  return { fake, h, env, slots };
}

/** Two jobs' prompts told apart at the fake: the second job's clip i says "clip 6+i". */
function twoJobs(h: Harness) {
  const second = clipPrompts(12)
    .slice(6)
    .map((p, i) => ({ ...p, clipIndex: i }));
  return Promise.all([
    h.clipflow.start({ jobId: uniqueName('account-a'), clipPrompts: clipPrompts(6), options: { concurrency: 3 } }),
    h.clipflow.start({ jobId: uniqueName('account-b'), clipPrompts: second, options: { concurrency: 3 } }),
  ]);
}

function expectOneCreatePerClip(fake: { book: { createsOf(clip: number): { status: number }[] } }) {
  for (let clip = 0; clip < 12; clip++)
    expect(
      fake.book.createsOf(clip).map((c) => c.status),
      `clip ${clip}`,
    ).toEqual([200]);
}

async function expectAllGivenBack(slots: { query: (q: typeof accountSlotsQuery) => Promise<AccountSlotsView> }) {
  const view = await until(
    'every slot given back',
    async () => {
      const v = await slots.query(accountSlotsQuery);
      return v.holders.length === 0 && v.waiting.length === 0 ? v : undefined;
    },
    30_000,
  );
  expect(view.holders).toEqual([]);
}

describe('one in-flight limit per provider account', () => {
  it('two jobs of 6 clips, 3 at a time each, under an account limit of 5: never more than 5 tasks in flight, both jobs made', async () => {
    const { fake, h, env, slots } = await setUp(5);
    // Two workers on the task queue: the limit holds across processes, not per worker.
    const other: CrashWorker = startCrashWorker({ serverAddress: server.address, taskQueue: h.taskQueue, config: h.config, env });
    cleanups.push(async () => void (await other.kill()));
    await other.ready(TIMEOUT_MS);

    const results: GenerateClipsResult[] = await h.worker.runUntil(async () => {
      const jobs = await twoJobs(h);
      // While both jobs run, clips wait in the account's queue for their turn.
      const queued = await until(
        'a clip waiting for a slot',
        async () => {
          const v = await slots.query(accountSlotsQuery).catch(() => undefined);
          return v && v.holders.length === 5 && v.waiting.length > 0 ? v : undefined;
        },
        TIMEOUT_MS,
      );
      expect(queued.limit).toBe(5);
      const done = await Promise.all(jobs.map((j) => j.result()));
      await expectAllGivenBack(slots);
      return done;
    });

    console.log(`account limit 5: at most ${fake.book.maxInFlight} Runway tasks in flight for 2 jobs of 6 clips, 3 at a time each`);
    expect(fake.book.maxInFlight).toBeLessThanOrEqual(5);
    for (const result of results) {
      expect(result.successfulClips).toBe(6);
      await expectValidClips(result);
    }
    // Waiting, not refused and retried: one create per clip, none answered 429.
    expectOneCreatePerClip(fake);
    // The slots workflow is named by a fingerprint of the account's secret, never the secret.
    const slotsHistory = JSON.stringify(await slots.fetchHistory());
    expect(slotsHistory).toContain(accountSlotsWorkflowId(providerAccount('runway', env.RUNWAYML_API_SECRET)));
    expect(slotsHistory).not.toContain(env.RUNWAYML_API_SECRET);
  });

  it('the worker holding the slots is SIGKILLed mid-way: its clips keep their slots, nobody exceeds the limit, both jobs made', async () => {
    const { fake, h, env, slots } = await setUp(5, { latencyMs: 6_000 });
    const first = startCrashWorker({ serverAddress: server.address, taskQueue: h.taskQueue, config: h.config, env });
    cleanups.push(async () => void (await first.kill()));
    await first.ready(TIMEOUT_MS);
    const jobs = await twoJobs(h);
    // The first worker alone: it holds 5 slots with tasks running, and a clip waits for one.
    await until(
      '5 tasks in flight and a clip waiting',
      async () => {
        const v = await slots.query(accountSlotsQuery).catch(() => undefined);
        return fake.book.inFlight().length === 5 && v?.waiting.length ? true : undefined;
      },
      TIMEOUT_MS,
    );
    await first.kill();
    const killedAt = Date.now();

    const results = await h.worker.runUntil(async () => {
      const done = await Promise.all(jobs.map((j) => j.result()));
      await expectAllGivenBack(slots);
      return done;
    });
    console.log(
      `account limit 5, worker killed: at most ${fake.book.maxInFlight} tasks in flight, jobs done ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill`,
    );
    expect(fake.book.maxInFlight).toBeLessThanOrEqual(5);
    for (const result of results) expect(result.successfulClips).toBe(6);
    // The running tasks were taken up under the slots their clips held, not made again.
    expectOneCreatePerClip(fake);
  });

  it('the slots of a terminated job come back (ACCOUNT_SLOT_CHECK_S) and the waiting job goes on', async () => {
    // Job A's clips run for a minute; job B waits behind them for the account's 2 slots.
    const slowA: BehaveFn = (ctx) => (ctx.route === 'create' && ctx.clip < 6 ? { kind: 'task', latencyMs: 60_000 } : undefined);
    const { h, slots } = await setUp(2, { latencyMs: 500, behave: slowA, extra: { ACCOUNT_SLOT_CHECK_S: '1' } });
    const result = await h.worker.runUntil(async () => {
      const a = await h.clipflow.start({ jobId: uniqueName('account-a'), clipPrompts: clipPrompts(6), options: { concurrency: 3 } });
      await until(
        'job A holding both slots',
        async () => {
          const v = await slots.query(accountSlotsQuery).catch(() => undefined);
          return v && v.holders.length === 2 ? v : undefined;
        },
        TIMEOUT_MS,
      );
      const second = clipPrompts(12)
        .slice(6)
        .map((p, i) => ({ ...p, clipIndex: i }));
      const b = await h.clipflow.start({ jobId: uniqueName('account-b'), clipPrompts: second, options: { concurrency: 3 } });
      const held = await until(
        'job B waiting behind job A',
        async () => {
          const v = await slots.query(accountSlotsQuery);
          return v.waiting.some((holder) => holder.startsWith(b.workflowId)) ? v : undefined;
        },
        TIMEOUT_MS,
      );
      expect(held.holders.every((holder) => holder.startsWith(a.workflowId))).toBe(true);
      await a.raw.terminate('operator gave up on it');
      const terminatedAt = Date.now();
      const handedOn = await until(
        'job B holding the slots',
        async () => {
          const v = await slots.query(accountSlotsQuery);
          return v.holders.length > 0 && v.holders.every((holder) => holder.startsWith(b.workflowId)) ? Date.now() : undefined;
        },
        30_000,
      );
      console.log(`terminated job's slots came back after ${handedOn - terminatedAt} ms (checked every 1 s)`);
      expect(handedOn - terminatedAt).toBeLessThan(15_000);
      return b.result();
    });
    expect(result.successfulClips).toBe(6);
  });

  it('cancelling jobs: a waiting clip leaves the queue, a holding clip cancels its task and gives its slot back', async () => {
    const slow: BehaveFn = (ctx) => (ctx.route === 'create' ? { kind: 'task', latencyMs: 60_000 } : undefined);
    const { fake, h, slots } = await setUp(2, { behave: slow });
    await h.worker.runUntil(async () => {
      const a = await h.clipflow.start({ jobId: uniqueName('account-a'), clipPrompts: clipPrompts(3), options: { concurrency: 3 } });
      await until(
        'job A holding both slots, its third clip waiting',
        async () => {
          const v = await slots.query(accountSlotsQuery).catch(() => undefined);
          return v && v.holders.length === 2 && v.waiting.length === 1 && fake.book.inFlight().length === 2 ? v : undefined;
        },
        TIMEOUT_MS,
      );
      const cancelledAt = Date.now();
      await a.cancel();
      const err = await a.result().catch((e: unknown) => e);
      expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
      const view = await slots.query(accountSlotsQuery);
      expect(view).toMatchObject({ holders: [], waiting: [] });
      for (const cancel of fake.book.cancels) expect(cancel.time - cancelledAt).toBeLessThan(5_000);
    });
    expect(fake.book.cancels).toHaveLength(2);
    expect(fake.book.inFlight()).toEqual([]);
    expect(fake.book.acceptedCreates()).toHaveLength(2);
  });

  it('a clip waiting its turn holds no worker: 6 clips through 1 slot on a worker that runs 2 activities at once', async () => {
    const { fake, h, slots } = await setUp(1, { latencyMs: 500, extra: { WORKER_MAX_CONCURRENT_ACTIVITIES: '2' } });
    const results = await h.worker.runUntil(async () => {
      const done = await Promise.all((await twoJobs(h)).map((j) => j.result()));
      await expectAllGivenBack(slots);
      return done;
    });
    // Were the waiting clips' activities still running, the 2 would be taken by them and the holder never run.
    expect(results.map((r) => r.successfulClips)).toEqual([6, 6]);
    expect(fake.book.maxInFlight).toBe(1);
  });
});
