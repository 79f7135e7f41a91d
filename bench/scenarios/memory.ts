/**
 * 5. Memory: one worker in a child process, with the embedded cost tracker (no DATABASE_URL).
 *   startup   peak RSS of a worker that opens a fresh data dir, then of one that reopens it
 *   in flight RSS with `inFlight` clips running at once (jobs × clipsPerJob, each job at concurrency
 *             clipsPerJob, predictions far slower than the measurement), per in-flight clip
 * A tracker process the worker starts is measured beside it.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createClipflowClient, type JobHandle } from '../../src/client.js';
import { childPids, configEnv, procStatusKb, spawnWorker, stopChild, uniqueName, type Bench, type Child } from '../harness.js';
import { clipPrompts } from '../prompts.js';
import { summarize, type Summary } from '../stats.js';

export interface MemoryParams {
  inFlight: number;
  clipsPerJob: number;
  /** Long enough that no prediction ends while the worker is measured. */
  latencyMs: number;
  /** How often each clip activity asks the provider (a Replicate worker's default). */
  pollIntervalMs: number;
  /** How long RSS is sampled once every clip is in flight. */
  holdMs: number;
}

export const MEMORY_DEFAULTS: MemoryParams = {
  inFlight: 2000,
  clipsPerJob: 100,
  latencyMs: 1_800_000,
  pollIntervalMs: 2000,
  holdMs: 20_000,
};

/** MiB of one process: its peak and current resident set size. */
export interface ProcessMemory {
  peakRssMiB: number;
  rssMiB: number;
}

export interface StartupMemory {
  worker: ProcessMemory;
  /** The processes the worker started (a tracker process), if any. */
  children: (ProcessMemory & { command: string })[];
  /** Worker and children together: peaks added, an upper bound on what they held at once. */
  totalPeakRssMiB: number;
  readyMs: number;
}

export interface MemoryResult {
  params: MemoryParams;
  startup: { fresh: StartupMemory; reopened: StartupMemory };
  inFlight: {
    /** Worker RSS once ready, before any job. */
    idleRssMiB: number;
    /** Predictions created by the end of sampling: above inFlight when activities were retried. */
    reached: number;
    rampMs: number;
    rssMiB: Summary;
    peakRssMiB: number;
    /** (median RSS while every clip is in flight − idle RSS) / clips in flight. */
    rssPerClipKiB: number;
    children: (ProcessMemory & { command: string })[];
  };
}

const MiB = (kb: number) => kb / 1024;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function processMemory(pid: number): ProcessMemory {
  return { peakRssMiB: MiB(procStatusKb(pid, 'VmHWM')), rssMiB: MiB(procStatusKb(pid, 'VmRSS')) };
}

/** What a child process is, for the table: node names its main thread "MainThread". */
function describeChild(pid: number, command: string): string {
  const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  if (cmdline.includes('pglite-process-main')) return 'cost tracker';
  return command;
}

/** The worker's own child processes (ffprobe runs are short-lived; a tracker process stays). */
function childMemory(pid: number): (ProcessMemory & { command: string })[] {
  return childPids(pid).flatMap((c) => {
    try {
      return [{ command: describeChild(c.pid, c.command), ...processMemory(c.pid) }];
    } catch {
      return [];
    }
  });
}

async function startupMemory(bench: Bench, env: Record<string, string>, params: MemoryParams): Promise<StartupMemory> {
  const worker = await spawnWorker(bench, {
    taskQueue: uniqueName('bench-memory'),
    latencyMs: params.latencyMs,
    pollIntervalMs: 1000,
    configEnv: env,
  });
  try {
    // Settle: the peak is the start-up's, not a transient sampled too early.
    await sleep(3000);
    const own = processMemory(worker.pid);
    const children = childMemory(worker.pid);
    return {
      worker: own,
      children,
      totalPeakRssMiB: own.peakRssMiB + children.reduce((sum, c) => sum + c.peakRssMiB, 0),
      readyMs: worker.readyAt - worker.spawnedAt,
    };
  } finally {
    await stopChild(worker);
  }
}

function createsSoFar(file: string): number {
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean).length;
  } catch {
    return 0;
  }
}

async function inFlightMemory(bench: Bench, log: (line: string) => void, params: MemoryParams): Promise<MemoryResult['inFlight']> {
  const { inFlight, clipsPerJob, latencyMs, pollIntervalMs, holdMs } = params;
  const env = await configEnv(bench, 'memory-inflight', { WORKER_MAX_CONCURRENT_ACTIVITIES: String(inFlight) });
  const createsLog = path.join(bench.root, 'memory-inflight', 'creates.jsonl');
  const taskQueue = uniqueName('bench-memory');
  let worker: Child | undefined;
  const handles: JobHandle[] = [];
  try {
    worker = await spawnWorker(bench, { taskQueue, latencyMs, pollIntervalMs, configEnv: env, createsLog });
    await sleep(3000);
    const idleRssMiB = MiB(procStatusKb(worker.pid, 'VmRSS'));
    const clipflow = createClipflowClient(bench.server.env.client, { taskQueue });
    const began = performance.now();
    const jobs = Math.ceil(inFlight / clipsPerJob);
    for (let i = 0; i < jobs; i++) {
      const clips = Math.min(clipsPerJob, inFlight - i * clipsPerJob);
      handles.push(
        await clipflow.start({ jobId: `${taskQueue}-${i}`, clipPrompts: clipPrompts(clips), options: { concurrency: clipsPerJob } }),
      );
    }
    // Every clip is in flight once its prediction is created (none ends before latencyMs).
    let reached = createsSoFar(createsLog);
    let lastLog = 0;
    while (reached < inFlight) {
      if (performance.now() - began > latencyMs / 2) throw new Error(`memory: only ${reached} of ${inFlight} clips in flight`);
      if (performance.now() - lastLog > 10_000) {
        log(`  ${reached}/${inFlight} clips in flight (${((performance.now() - began) / 1000).toFixed(0)} s)`);
        lastLog = performance.now();
      }
      await sleep(1000);
      reached = createsSoFar(createsLog);
    }
    const rampMs = performance.now() - began;
    log(`  ${reached} clips in flight after ${(rampMs / 1000).toFixed(1)} s; sampling RSS for ${holdMs / 1000} s`);
    const samples: number[] = [];
    for (const end = performance.now() + holdMs; performance.now() < end; await sleep(500)) {
      samples.push(MiB(procStatusKb(worker.pid, 'VmRSS')));
    }
    const rssMiB = summarize(samples);
    return {
      idleRssMiB,
      reached: createsSoFar(createsLog),
      rampMs,
      rssMiB,
      peakRssMiB: MiB(procStatusKb(worker.pid, 'VmHWM')),
      rssPerClipKiB: ((rssMiB.median - idleRssMiB) * 1024) / inFlight,
      children: childMemory(worker.pid),
    };
  } finally {
    // The predictions would run for latencyMs: end the jobs instead of waiting.
    await Promise.all(handles.map((h) => h.raw.terminate('memory benchmark measured').catch(() => undefined)));
    if (worker) {
      worker.process.kill('SIGKILL');
      await worker.exited;
    }
  }
}

export async function runMemory(bench: Bench, log: (line: string) => void, params: MemoryParams): Promise<MemoryResult> {
  const env = await configEnv(bench, 'memory-startup');
  const fresh = await startupMemory(bench, env, params);
  log(
    `  fresh data dir: worker peak ${fresh.worker.peakRssMiB.toFixed(0)} MiB, with its processes ${fresh.totalPeakRssMiB.toFixed(0)} MiB`,
  );
  const reopened = await startupMemory(bench, env, params);
  log(
    `  reopened data dir: worker peak ${reopened.worker.peakRssMiB.toFixed(0)} MiB, with its processes ${reopened.totalPeakRssMiB.toFixed(0)} MiB`,
  );
  const inFlight = await inFlightMemory(bench, log, params);
  log(
    `  ${params.inFlight} in flight: median RSS ${inFlight.rssMiB.median.toFixed(0)} MiB, ${inFlight.rssPerClipKiB.toFixed(1)} KiB per clip`,
  );
  return { params, startup: { fresh, reopened }, inFlight };
}
