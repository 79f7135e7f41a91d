/**
 * 3. Crash cost: a worker process is SIGKILLed at 50% progress of a job and a replacement started.
 * Extra wall time against the uncrashed makespan, and duplicate provider creates; the same for the
 * promise pool, which can only start over.
 */
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClipflowClient } from '../../src/client.js';
import { loadConfig } from '../../src/config/index.js';
import type { PoolSpec } from '../child-spec.js';
import { readCreates } from '../fixed-latency-provider.js';
import { configEnv, spawnScript, spawnWorker, stopChild, uniqueName, type Bench, type Child } from '../harness.js';
import { clipPrompts } from '../prompts.js';
import { profileHistory, timeline, type TimelineEntry } from '../history-profile.js';

export interface CrashParams {
  clips: number;
  concurrency: number;
  latencyMs: number;
  pollIntervalMs: number;
  /** CLIP_HEARTBEAT_TIMEOUT_S values to crash under (empty: only the configured default). */
  heartbeatTimeoutsS: number[];
}

export const CRASH_DEFAULTS: Omit<CrashParams, 'pollIntervalMs'> = { clips: 12, concurrency: 3, latencyMs: 2000, heartbeatTimeoutsS: [] };

interface Duplicates {
  creates: number;
  duplicates: number;
  /** Duplicates among clips that had completed before the kill (must be 0 for Temporal). */
  duplicatesOfCompletedBeforeKill: number;
  completedBeforeKill: number[];
  /** Clips with a prediction created before the kill that had not completed. */
  inFlightAtKill: number[];
  /** In-flight clips finished from their first prediction (resumed, no second create). */
  inFlightResumed: number[];
}

export interface TemporalCrashRun extends Duplicates {
  heartbeatTimeoutS: number;
  killAfterMs: number;
  replacementStartupMs: number;
  wallMs: number;
  extraMs: number;
  /** Kill → the replacement starting each in-flight clip's next attempt (heartbeat timeout + retry backoff). */
  inFlightRestartAfterKillMs: number[];
  /** Kill → the replacement's first activity start of any kind. */
  firstReplacementStartAfterKillMs: number;
  /** Workflow tasks that timed out (a dead worker's sticky queue), with how long each waited. */
  workflowTaskTimeouts: { afterKillMs: number; waitedMs: number; type: string }[];
  attemptsOver1: number;
  /** History events from the kill on (offsets from the kill), search-attribute upserts left out. */
  timeline: TimelineEntry[];
}

export interface PoolCrashRun extends Duplicates {
  killAfterMs: number;
  restartStartupMs: number;
  wallMs: number;
  extraMs: number;
}

export interface CrashResult {
  params: CrashParams;
  /** CLIP_HEARTBEAT_TIMEOUT_S when unset, as loadConfig gives it. */
  defaultHeartbeatTimeoutS: number;
  temporalBaselineMs: number;
  poolBaselineMs: number;
  temporal: TemporalCrashRun[];
  pool: PoolCrashRun;
}

function countDuplicates(createsLog: string, jobId: string, completedBeforeKill: number[], killAt: number): Duplicates {
  const { lines } = readCreates(createsLog);
  const mine = lines.filter((l) => l.jobId === jobId);
  const perClip = new Map<number, number>();
  for (const l of mine) perClip.set(l.clipIndex, (perClip.get(l.clipIndex) ?? 0) + 1);
  const dup = (clip: number) => Math.max(0, (perClip.get(clip) ?? 0) - 1);
  const createdBeforeKill = [...new Set(mine.filter((l) => l.at <= killAt).map((l) => l.clipIndex))];
  const inFlightAtKill = createdBeforeKill.filter((c) => !completedBeforeKill.includes(c)).sort((a, b) => a - b);
  return {
    creates: mine.length,
    duplicates: [...perClip.keys()].reduce((sum, c) => sum + dup(c), 0),
    duplicatesOfCompletedBeforeKill: completedBeforeKill.reduce((sum, c) => sum + dup(c), 0),
    completedBeforeKill: [...completedBeforeKill].sort((a, b) => a - b),
    inFlightAtKill,
    inFlightResumed: inFlightAtKill.filter((c) => dup(c) === 0),
  };
}

/** Polls until `check` holds, every `everyMs`. */
async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 120_000, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

export async function runCrash(bench: Bench, log: (line: string) => void, params: CrashParams): Promise<CrashResult> {
  const { clips, concurrency, latencyMs, pollIntervalMs } = params;
  const half = Math.ceil(clips / 2);
  const prompts = clipPrompts(clips);
  const client = bench.server.env.client;
  const defaultHeartbeatTimeoutS = loadConfig({}).job.heartbeatTimeoutS;
  const heartbeatTimeoutsS = params.heartbeatTimeoutsS.length ? params.heartbeatTimeoutsS : [defaultHeartbeatTimeoutS];

  // Uncrashed Temporal makespan, with the worker in a child process as in the crash runs.
  let temporalBaselineMs: number;
  {
    const taskQueue = uniqueName('bench-crash-base');
    const worker = await spawnWorker(bench, { taskQueue, latencyMs, pollIntervalMs, configEnv: await configEnv(bench, 'crash-base') });
    const clipflow = createClipflowClient(client, { taskQueue });
    const began = Date.now();
    const handle = await clipflow.start({ jobId: uniqueName('crash-base'), clipPrompts: prompts, options: { concurrency } });
    const result = await handle.result();
    temporalBaselineMs = Date.now() - began;
    if (result.successfulClips !== clips) throw new Error('crash baseline: not all clips made');
    await stopChild(worker);
    log(`  temporal, uncrashed: ${(temporalBaselineMs / 1000).toFixed(2)} s`);
  }

  const temporal: TemporalCrashRun[] = [];
  for (const heartbeatTimeoutS of heartbeatTimeoutsS) {
    const name = `crash-hb${heartbeatTimeoutS}`;
    const taskQueue = uniqueName(`bench-${name}`);
    const shared = await configEnv(bench, name, { CLIP_HEARTBEAT_TIMEOUT_S: String(heartbeatTimeoutS) });
    const stateFile = path.join(bench.root, name, 'predictions.json');
    const createsLog = path.join(bench.root, name, 'creates.jsonl');
    const workerOptions = (dataDir: string) => ({
      taskQueue,
      latencyMs,
      pollIntervalMs,
      stateFile,
      createsLog,
      // Each process its own embedded cost database (PGlite is one process per directory); one output dir.
      configEnv: { ...shared, CLIPFLOW_DATA_DIR: path.join(bench.root, name, dataDir) },
    });
    const first = await spawnWorker(bench, workerOptions('data-first'));
    const clipflow = createClipflowClient(client, { taskQueue });
    const jobId = uniqueName(name);
    const began = Date.now();
    const handle = await clipflow.start({ jobId, clipPrompts: prompts, options: { concurrency } });
    let halfAt: number | undefined;
    await until('50% progress', async () => {
      // Until the workflow's first task has run, it has no progress query yet.
      const progress = await handle.progress().catch(() => undefined);
      if (!progress || progress.done < half) return false;
      halfAt ??= Date.now();
      // Kill with the next clips' predictions in flight (or after a second if none comes).
      const created = readCreates(createsLog).lines.filter((l) => l.jobId === jobId).length;
      return created >= Math.min(clips, half + concurrency) || Date.now() - halfAt > 1000;
    });
    first.process.kill('SIGKILL');
    const killAt = Date.now();
    await first.exited;
    log(`  temporal, heartbeat timeout ${heartbeatTimeoutS} s: killed worker ${first.pid} at ${((killAt - began) / 1000).toFixed(2)} s`);
    const second = await spawnWorker(bench, workerOptions('data-second'));
    const result = await handle.result();
    const wallMs = Date.now() - began;
    if (result.successfulClips !== clips) throw new Error(`crash: ${result.successfulClips}/${clips} clips`);
    const history = await handle.raw.fetchHistory();
    const profile = profileHistory(history, latencyMs);
    await stopChild(second);

    const clipSpans = profile.spans.filter((sp) => sp.type === 'generateClip');
    const byFirst = clipSpans
      .filter((sp) => sp.identity.startsWith(`${first.pid}@`) && sp.outcome === 'completed')
      .map((sp) => sp.clipIndex!);
    const dups = countDuplicates(createsLog, jobId, byFirst, killAt);
    const bySecond = profile.spans.filter((sp) => sp.identity.startsWith(`${second.pid}@`) && sp.startedAt !== undefined);
    const run: TemporalCrashRun = {
      heartbeatTimeoutS,
      killAfterMs: killAt - began,
      replacementStartupMs: second.readyAt - second.spawnedAt,
      wallMs,
      extraMs: wallMs - temporalBaselineMs,
      ...dups,
      inFlightRestartAfterKillMs: clipSpans
        .filter((sp) => dups.inFlightAtKill.includes(sp.clipIndex!))
        .map((sp) => (sp.startedAt ?? Number.NaN) - killAt),
      firstReplacementStartAfterKillMs: Math.min(...bySecond.map((sp) => sp.startedAt!)) - killAt,
      workflowTaskTimeouts: profile.workflowTasks.timeouts.map((t) => ({
        afterKillMs: t.scheduledAt - killAt,
        waitedMs: t.afterMs,
        type: t.type,
      })),
      attemptsOver1: clipSpans.filter((sp) => sp.attempt > 1).length,
      timeline: timeline(history, killAt).filter((e) => !/SEARCH_ATTRIBUTES|PROPERTIES_MODIFIED|MARKER/.test(e.type)),
    };
    temporal.push(run);
    log(
      `    wall ${(wallMs / 1000).toFixed(2)} s (+${(run.extraMs / 1000).toFixed(2)} s); replacement up in ${(run.replacementStartupMs / 1000).toFixed(1)} s; ` +
        `creates ${run.creates}, duplicates ${run.duplicates} (of completed-before-kill ${run.duplicatesOfCompletedBeforeKill}); ` +
        `in flight ${JSON.stringify(run.inFlightAtKill)}, resumed ${JSON.stringify(run.inFlightResumed)}`,
    );
  }

  // The promise pool: uncrashed, then killed at the same point and started again from scratch.
  const poolSpec = async (name: string, jobId: string, createsLog?: string): Promise<PoolSpec> => ({
    configEnv: await configEnv(bench, name),
    jobId,
    clips,
    concurrency,
    latencyMs,
    pollIntervalMs,
    sampleFile: bench.sample,
    ...(createsLog ? { createsLog } : {}),
  });
  const eventAt = (child: Child, event: string) => child.lines.find((l) => l.event === event)!.at;
  const base = spawnScript('pool-process.ts', await poolSpec('crash-pool-base', uniqueName('pool-base')));
  await base.waitFor('the pool to end', (lines) => lines.some((l) => l.event === 'end'));
  await base.exited;
  const poolBaselineMs = eventAt(base, 'end') - eventAt(base, 'start');
  log(`  pool, uncrashed: ${(poolBaselineMs / 1000).toFixed(2)} s`);

  const createsLog = path.join(bench.root, 'crash-pool', 'creates.jsonl');
  const jobId = uniqueName('crash-pool');
  const firstPool = spawnScript('pool-process.ts', await poolSpec('crash-pool/first', jobId, createsLog));
  await firstPool.waitFor('the pool to start', (lines) => lines.some((l) => l.event === 'start'));
  let halfAt: number | undefined;
  await until(
    'the pool at 50%',
    () => {
      const done = firstPool.lines.filter((l) => l.event === 'done').length;
      if (done < half) return false;
      halfAt ??= Date.now();
      const created = readCreates(createsLog).lines.filter((l) => l.jobId === jobId).length;
      return created >= Math.min(clips, half + concurrency) || Date.now() - halfAt > 1000;
    },
    120_000,
    10,
  );
  firstPool.process.kill('SIGKILL');
  const killAt = Date.now();
  await firstPool.exited;
  const completedBeforeKill = firstPool.lines.filter((l) => l.event === 'done').map((l) => l.clipIndex as number);
  const restartSpawnedAt = Date.now();
  const second = spawnScript('pool-process.ts', await poolSpec('crash-pool/second', jobId, createsLog));
  await second.waitFor('the restarted pool to end', (lines) => lines.some((l) => l.event === 'end'));
  await second.exited;
  const poolStart = eventAt(firstPool, 'start');
  const wallMs = eventAt(second, 'end') - poolStart;
  const pool: PoolCrashRun = {
    killAfterMs: killAt - poolStart,
    restartStartupMs: eventAt(second, 'start') - restartSpawnedAt,
    wallMs,
    extraMs: wallMs - poolBaselineMs,
    ...countDuplicates(createsLog, jobId, completedBeforeKill, killAt),
  };
  log(
    `  pool: killed at ${(pool.killAfterMs / 1000).toFixed(2)} s, restarted from scratch: wall ${(wallMs / 1000).toFixed(2)} s (+${(pool.extraMs / 1000).toFixed(2)} s); ` +
      `creates ${pool.creates}, duplicates ${pool.duplicates} (of completed-before-kill ${pool.duplicatesOfCompletedBeforeKill})`,
  );
  return { params, defaultHeartbeatTimeoutS, temporalBaselineMs, poolBaselineMs, temporal, pool };
}
