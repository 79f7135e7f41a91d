/**
 * 5. Scale: jobs of 1,000, 5,000 and 20,000 clips, each with a fresh worker in a child process,
 * L = 100 ms. A job past one batch runs in child workflows; every workflow of the job (the parent
 * and each batch) is read for its events and its largest payload.
 */
import { rm } from 'node:fs/promises';
import { createClipflowClient } from '../../src/client.js';
import { loadConfig } from '../../src/config/index.js';
import { createStore } from '../../src/store/create-store.js';
import { configEnv, devServerPid, loadAverage, procStatusKb, spawnWorker, stopChild, uniqueName, type Bench } from '../harness.js';
import { jobLimits, jobWorkflows } from '../job-histories.js';
import { clipPrompts } from '../prompts.js';

/** os.loadavg() as the harness rounds it. */
type LoadAverage = ReturnType<typeof loadAverage>;

export interface ScaleParams {
  sizes: number[];
  concurrency: number;
  latencyMs: number;
  pollIntervalMs: number;
}

export const SCALE_DEFAULTS: Omit<ScaleParams, 'pollIntervalMs'> = { sizes: [1_000, 5_000, 20_000], concurrency: 50, latencyMs: 100 };

export interface ScaleJob {
  clips: number;
  successfulClips: number;
  makespanMs: number;
  makespanPerClipMs: number;
  /** Makespan per clip against the first (smallest) job's: 1 is linear scaling. */
  perClipVsFirst: number;
  /** The parent and its batches. */
  workflows: number;
  batches: number;
  totalEvents: number;
  mostEvents: { events: number; workflowId: string };
  /** Where names the workflow and the event. */
  largestPayload: { bytes: number; where: string };
  startInputBytes: number;
  /** Largest RSS sampled every 500 ms during the job, MiB. */
  workerPeakRssMiB: number;
  serverPeakRssMiB: number;
  load: { start: LoadAverage; end: LoadAverage };
}

export interface ScaleResult {
  params: ScaleParams;
  jobs: ScaleJob[];
}

export async function runScale(bench: Bench, log: (line: string) => void, params: ScaleParams): Promise<ScaleResult> {
  const jobs: ScaleJob[] = [];
  for (const clips of params.sizes) {
    const job = await runOne(bench, log, params, clips);
    const first = jobs[0] ?? job;
    job.perClipVsFirst = job.makespanPerClipMs / first.makespanPerClipMs;
    jobs.push(job);
    log(
      `  ${clips} clips: ${(job.makespanMs / 1000).toFixed(1)} s, ${job.workflows} workflows, most events ${job.mostEvents.events}, ` +
        `largest payload ${job.largestPayload.bytes} B, worker ${job.workerPeakRssMiB.toFixed(0)} MiB, server ${job.serverPeakRssMiB.toFixed(0)} MiB`,
    );
  }
  return { params, jobs };
}

async function runOne(bench: Bench, log: (line: string) => void, params: ScaleParams, clips: number): Promise<ScaleJob> {
  const env = await configEnv(bench, `scale-${clips}`);
  const config = loadConfig(env);
  const taskQueue = uniqueName(`bench-scale-${clips}`);
  const worker = await spawnWorker(bench, {
    taskQueue,
    latencyMs: params.latencyMs,
    pollIntervalMs: params.pollIntervalMs,
    configEnv: env,
  });
  const serverPid = devServerPid();
  const peak = { worker: 0, server: 0 };
  const sample = () => {
    peak.worker = Math.max(peak.worker, procStatusKb(worker.pid, 'VmRSS') / 1024 || 0);
    if (serverPid) peak.server = Math.max(peak.server, procStatusKb(serverPid, 'VmRSS') / 1024 || 0);
  };
  const sampler = setInterval(sample, 500);
  const loadStart = loadAverage();
  try {
    // As the CLI does: a clip list too big to send goes to the workers' store, and the job carries its URI.
    const clipflow = createClipflowClient(bench.server.env.client, {
      taskQueue,
      store: createStore(config.store),
      maxClips: config.job.maxClips,
    });
    const began = performance.now();
    const handle = await clipflow.start({
      jobId: uniqueName(`scale-${clips}`),
      clipPrompts: clipPrompts(clips),
      options: { concurrency: params.concurrency },
    });
    const progressLog = setInterval(() => {
      void handle.progress().then(
        (p) => log(`  ${p.done}/${p.total} clips (${((performance.now() - began) / 1000).toFixed(0)} s)`),
        () => undefined,
      );
    }, 30_000);
    const result = await handle.result().finally(() => clearInterval(progressLog));
    const makespanMs = performance.now() - began;
    sample();

    // Every workflow of the job: the parent and each of its batches.
    const workflows = await jobWorkflows(bench.server.env.client, handle.workflowId, result.batches?.count ?? 0);
    const limits = jobLimits(workflows);
    const parent = workflows[0];
    return {
      clips,
      successfulClips: result.successfulClips,
      makespanMs,
      makespanPerClipMs: makespanMs / clips,
      perClipVsFirst: 1,
      workflows: workflows.length,
      batches: workflows.length - 1,
      totalEvents: workflows.reduce((sum, w) => sum + w.events, 0),
      mostEvents: { events: limits.maxEvents, workflowId: limits.maxEventsWorkflow },
      largestPayload: { bytes: limits.largestPayloadBytes, where: limits.largestPayloadWhere },
      startInputBytes: parent?.profile.payloads.workflowInput ?? 0,
      workerPeakRssMiB: peak.worker,
      serverPeakRssMiB: peak.server,
      load: { start: loadStart, end: loadAverage() },
    };
  } finally {
    clearInterval(sampler);
    await stopChild(worker);
    // Measured: the clips go, or the next job would not fit on the disk (20,000 sample clips and
    // their posters take about 26 GB).
    if (env.OUTPUT_DIR) await rm(env.OUTPUT_DIR, { recursive: true, force: true });
  }
}
