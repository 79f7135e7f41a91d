import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClipflowClient } from '../src/client.js';
import { ConfigError, loadConfig } from '../src/config/index.js';
import type { DevServer } from '../src/dev-server/start-dev-server.js';
import { activityLogContext } from '../src/logging.js';
import { createActivityDeps, createClipflowWorker, workerOptionsFromConfig } from '../src/worker.js';
import { clipPrompts, startTestServer, testConfig, uniqueName, workflowBundle } from './support/env.js';
import { activityRuns } from './support/history.js';
import { spawnTsx } from './support/tsx-process.js';
import { until } from './support/wait.js';

let server: DevServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

const TOKEN = 'r8_lifecycleTokenThatMustNotBeLogged';

interface Line {
  time: string;
  level: string;
  message: string;
  jobId?: string;
  clipIndex?: number;
  attempt?: number;
  activityType?: string;
  sdkComponent?: string;
  [key: string]: unknown;
}

const TIMEOUT_MS = 120_000;

describe('worker options from configuration', () => {
  it('maps shutdown grace, concurrency and rate limits, with defaults', () => {
    const defaults = workerOptionsFromConfig(loadConfig({}));
    expect(defaults).toMatchObject({
      namespace: 'default',
      taskQueue: 'clipflow',
      shutdownGraceTime: 30_000,
      maxConcurrentActivityTaskExecutions: 100,
    });
    expect(defaults).not.toHaveProperty('maxActivitiesPerSecond');
    expect(defaults).not.toHaveProperty('maxTaskQueueActivitiesPerSecond');
    expect(defaults.interceptors.activity).toEqual([activityLogContext]);

    const tuned = workerOptionsFromConfig(
      loadConfig({
        TEMPORAL_TASK_QUEUE: 'clips-eu',
        WORKER_SHUTDOWN_GRACE_S: '12.5',
        WORKER_MAX_CONCURRENT_ACTIVITIES: '8',
        WORKER_ACTIVITIES_PER_SECOND: '2.5',
        WORKER_TASK_QUEUE_ACTIVITIES_PER_SECOND: '5',
      }),
    );
    expect(tuned).toMatchObject({
      taskQueue: 'clips-eu',
      shutdownGraceTime: 12_500,
      maxConcurrentActivityTaskExecutions: 8,
      maxActivitiesPerSecond: 2.5,
      maxTaskQueueActivitiesPerSecond: 5,
    });
  });

  it('names the variable of a bad value', () => {
    for (const [name, value] of [
      ['WORKER_MAX_CONCURRENT_ACTIVITIES', '0'],
      ['WORKER_SHUTDOWN_GRACE_S', '-1'],
      ['WORKER_TASK_QUEUE_ACTIVITIES_PER_SECOND', 'fast'],
    ] as const) {
      let error: unknown;
      try {
        loadConfig({ [name]: value });
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toContain(name);
    }
  });

  it('reach the Worker the clipflow worker creates', async () => {
    const config = await testConfig({
      WORKER_MAX_CONCURRENT_ACTIVITIES: '4',
      WORKER_ACTIVITIES_PER_SECOND: '3',
      WORKER_TASK_QUEUE_ACTIVITIES_PER_SECOND: '6',
      WORKER_SHUTDOWN_GRACE_S: '7',
    });
    const deps = await createActivityDeps(config);
    try {
      const worker = await createClipflowWorker({
        config,
        connection: server.env.nativeConnection,
        deps,
        workflowBundle: await workflowBundle(),
        taskQueue: uniqueName('opts'),
      });
      expect(worker.options.maxActivitiesPerSecond).toBe(3);
      expect(worker.options.maxTaskQueueActivitiesPerSecond).toBe(6);
      expect(worker.options.shutdownGraceTimeMs).toBe(7_000);
      expect(worker.options.tuner.activityTaskSlotSupplier).toEqual({ type: 'fixed-size', numSlots: 4 });
      // Started and stopped at once, so it lets go of the shared connection.
      await worker.runUntil(sleep(10));
    } finally {
      await deps.close();
    }
  });
});

describe('a worker process receiving SIGTERM mid-job', () => {
  it('lets running clips finish, exits 0 within the grace time and logs JSON lines throughout', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'clipflow-lifecycle-'));
    const taskQueue = uniqueName('lifecycle');
    const outputDir = path.join(dir, 'outputs');
    const graceS = 25;
    const env: Record<string, string> = {
      ...(process.env as Record<string, string>),
      TEMPORAL_ADDRESS: server.address,
      TEMPORAL_TASK_QUEUE: taskQueue,
      OUTPUT_DIR: outputDir,
      CLIPFLOW_DATA_DIR: path.join(dir, 'data-child'),
      LOCAL_PROVIDER_DELAY_MS: '2500',
      CLIP_HEARTBEAT_TIMEOUT_S: '5',
      WORKER_SHUTDOWN_GRACE_S: String(graceS),
      LOG_LEVEL: 'INFO',
      REPLICATE_API_TOKEN: TOKEN,
    };
    const workerProcess = spawnTsx('src/worker.ts', env, { captureOutput: true });
    const lines = () =>
      workerProcess
        .stderr()
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => {
          try {
            return JSON.parse(l) as Line;
          } catch {
            return { time: '', level: 'NOT-JSON', message: l } as Line;
          }
        });

    try {
      await until('the worker to start', () => lines().some((l) => l.message === 'clipflow worker started'), TIMEOUT_MS);
      const started = lines().find((l) => l.message === 'clipflow worker started')!;
      expect(started).toMatchObject({ taskQueue, address: server.address, tls: false, apiKey: false, shutdownGraceTime: graceS * 1000 });

      const clipflow = createClipflowClient(server.env.client, { taskQueue });
      const jobId = uniqueName('sigterm');
      const job = await clipflow.start({ jobId, clipPrompts: clipPrompts(3, 1), options: { concurrency: 3 } });
      const generating = await until(
        'three clips generating',
        () => {
          const g = lines().filter((l) => l.message === 'generating clip' && l.jobId === jobId);
          return g.length >= 3 && g;
        },
        TIMEOUT_MS,
      );
      const inFlight = new Set(generating.map((l) => l.clipIndex));
      const signalledAt = Date.now();
      workerProcess.child.kill('SIGTERM');
      const { code, signal, at } = await Promise.race([
        workerProcess.exited,
        sleep((graceS + 15) * 1000).then(() => {
          throw new Error('the worker did not exit after SIGTERM');
        }),
      ]);
      expect(signal).toBeNull();
      expect(code).toBe(0);
      expect(at - signalledAt).toBeLessThan(graceS * 1000);

      const all = lines();
      expect(all.filter((l) => l.level === 'NOT-JSON')).toEqual([]);
      for (const line of all) {
        expect(Number.isNaN(Date.parse(line.time))).toBe(false);
        expect(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR']).toContain(line.level);
        expect(typeof line.message).toBe('string');
      }
      expect(workerProcess.stdout().trim()).toBe('');
      expect(workerProcess.stderr()).not.toContain(TOKEN);

      // The clips running at SIGTERM were finished in the grace period, not cancelled.
      const ready = all.filter((l) => l.message === 'clip ready' && l.jobId === jobId);
      expect(new Set(ready.map((l) => l.clipIndex))).toEqual(inFlight);
      expect(all.find((l) => l.message.startsWith('shutdown requested'))).toMatchObject({ signal: 'SIGTERM', shutdownGraceS: graceS });
      expect(all.some((l) => l.message === 'clipflow worker stopped')).toBe(true);
      expect(all.some((l) => /cancel/i.test(l.message) && l.jobId === jobId)).toBe(false);

      // Every line an activity logged says which job, clip and attempt it is about.
      const activityLines = all.filter((l) => l.sdkComponent === 'activity' && l.activityType === 'generateClip');
      expect(activityLines.length).toBeGreaterThanOrEqual(6);
      for (const line of activityLines) {
        expect(line).toMatchObject({ jobId, clipIndex: expect.any(Number), attempt: 1 });
      }

      // The job is not lost: a new worker on the task queue finishes it without making a clip again.
      expect((await job.describe()).status).toBe('RUNNING');
      const config = await testConfig({ OUTPUT_DIR: outputDir });
      const deps = await createActivityDeps(config);
      try {
        const worker = await createClipflowWorker({
          config,
          connection: server.env.nativeConnection,
          deps,
          workflowBundle: await workflowBundle(),
          taskQueue,
        });
        const result = await worker.runUntil(job.result());
        expect(result.successfulClips).toBe(3);
        const runs = activityRuns(await job.raw.fetchHistory(), 'generateClip');
        expect(runs).toHaveLength(3);
        expect(runs.every((r) => r.outcome === 'completed' && r.attempt === 1)).toBe(true);
      } finally {
        await deps.close();
      }
    } finally {
      await workerProcess.kill();
    }
  });
});
