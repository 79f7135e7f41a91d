/** 2. Throughput: 100 jobs × 10 clips, L = 0, one worker (in a child process) with its default concurrency settings. */
import { createClipflowClient, type JobHandle } from '../../src/client.js';
import { loadConfig } from '../../src/config/index.js';
import { configEnv, cpuMs, cpuSplitMs, devServerPid, procStatusKb, spawnWorker, stopChild, uniqueName, type Bench } from '../harness.js';
import { clipPrompts } from '../prompts.js';
import { profileHistory } from '../history-profile.js';
import type { LoopDelay } from '../event-loop.js';
import { summarize, type Summary } from '../stats.js';

export interface ThroughputParams {
  jobs: number;
  clipsPerJob: number;
  latencyMs: number;
  pollIntervalMs: number;
  /** How many job histories to fetch for events per clip. */
  sampledHistories: number;
}

export interface ThroughputResult {
  params: ThroughputParams;
  /** Job concurrency the worker's config gives each job (VIDEO_GENERATOR_CONCURRENCY default). */
  jobConcurrency: number;
  /** The worker's activity slots (WORKER_MAX_CONCURRENT_ACTIVITIES default). */
  workerMaxConcurrentActivities: number;
  wallMs: number;
  clipsPerSecond: number;
  jobLatencyMs: Summary;
  worker: {
    peakRssMiB: number;
    rssSamplesMiB: Summary;
    /** process.memoryUsage() in the worker at its largest sampled RSS, MiB. */
    memoryAtPeakMiB: Record<string, number>;
    /** RSS (MiB) of the idle worker as it starts: modules loaded, activity deps created (PGlite), Worker created. */
    memoryStagesMiB: Record<string, number>;
    startupMs: number;
    cpuMs: number;
    cpuUserMs: number;
    cpuSystemMs: number;
    /** Including its exited children (the ffprobe runs). */
    cpuWithChildrenMs: number;
    /** Event-loop delay in the worker over the whole run (timers, polls and task handling all wait on it). */
    loopDelay?: LoopDelay;
  };
  /** All CPU (worker + its ffprobes + dev server + this process) per clip. */
  cpuPerClipMs: number;
  server: { peakRssMiB: number; cpuMs: number };
  benchProcessCpuMs: number;
  history: {
    sampled: number;
    eventsPerClip: number;
    eventsPerJob: Summary;
    bytesPerJob: Summary;
    eventsByType: Record<string, number>;
  };
  profile: {
    dispatchMs: Summary;
    runMs: Summary;
    refillMs: Summary;
    wftScheduleToStartMs: Summary;
    wftStartToCompleteMs: Summary;
    setupMs: Summary;
    tailMs: Summary;
    probeMs: Summary;
    saveMs: Summary;
    recordCostMs: Summary;
  };
}

export const THROUGHPUT_DEFAULTS: Omit<ThroughputParams, 'pollIntervalMs'> = {
  jobs: 100,
  clipsPerJob: 10,
  latencyMs: 0,
  sampledHistories: 10,
};

export async function runThroughput(bench: Bench, log: (line: string) => void, params: ThroughputParams): Promise<ThroughputResult> {
  const { jobs, clipsPerJob, latencyMs, pollIntervalMs } = params;
  const taskQueue = uniqueName('bench-throughput');
  const env = await configEnv(bench, 'throughput');
  const config = loadConfig(env);
  const worker = await spawnWorker(bench, { taskQueue, latencyMs, pollIntervalMs, configEnv: env });
  log(`  worker pid ${worker.pid} ready in ${((worker.readyAt - worker.spawnedAt) / 1000).toFixed(1)} s`);
  const clipflow = createClipflowClient(bench.server.env.client, { taskQueue });
  const serverPid = devServerPid();
  const rssSamples: number[] = [];
  const sampler = setInterval(() => {
    try {
      rssSamples.push(procStatusKb(worker.pid, 'VmRSS') / 1024);
    } catch {
      /* exited */
    }
  }, 250);
  const cpu0 = {
    split: cpuSplitMs(worker.pid),
    worker: cpuMs(worker.pid),
    workerAll: cpuMs(worker.pid, true),
    server: serverPid ? cpuMs(serverPid) : Number.NaN,
    self: process.cpuUsage(),
  };

  const prompts = clipPrompts(clipsPerJob);
  const began = performance.now();
  const latencies: number[] = [];
  let finished = 0;
  const handles: JobHandle[] = [];
  await Promise.all(
    Array.from({ length: jobs }, async (_, i) => {
      const jobBegan = performance.now();
      const handle = await clipflow.start({ jobId: `${taskQueue}-job-${String(i).padStart(3, '0')}`, clipPrompts: prompts });
      handles[i] = handle;
      const result = await handle.result();
      if (result.successfulClips !== clipsPerJob) throw new Error(`throughput: job ${i} made ${result.successfulClips}/${clipsPerJob}`);
      latencies.push(performance.now() - jobBegan);
      if (++finished % 25 === 0) log(`  ${finished}/${jobs} jobs done (${((performance.now() - began) / 1000).toFixed(1)} s)`);
    }),
  );
  const wallMs = performance.now() - began;
  clearInterval(sampler);
  const workerCpu = cpuMs(worker.pid) - cpu0.worker;
  const workerAllCpu = cpuMs(worker.pid, true) - cpu0.workerAll;
  const split = cpuSplitMs(worker.pid);
  const serverCpu = serverPid ? cpuMs(serverPid) - cpu0.server : Number.NaN;
  const selfCpu = process.cpuUsage(cpu0.self);
  const peakRssMiB = procStatusKb(worker.pid, 'VmHWM') / 1024;
  const serverPeakMiB = serverPid ? procStatusKb(serverPid, 'VmHWM') / 1024 : Number.NaN;

  // Histories of evenly spaced jobs: events per clip, and where the time went.
  const step = Math.max(1, Math.floor(jobs / params.sampledHistories));
  const sampled = handles.filter((_, i) => i % step === 0).slice(0, params.sampledHistories);
  const profiles = await Promise.all(sampled.map(async (h) => profileHistory(await h.raw.fetchHistory(), latencyMs)));
  const eventsByType: Record<string, number> = {};
  for (const p of profiles)
    for (const [k, v] of Object.entries(p.eventsByType)) eventsByType[k] = (eventsByType[k] ?? 0) + v / profiles.length;
  const clipSpans = profiles.flatMap((p) =>
    p.spans.filter((sp) => sp.type === 'generateClip' && sp.startedAt !== undefined && sp.closedAt !== undefined),
  );
  const refills = profiles.flatMap((p) =>
    p.spans
      .filter((sp) => sp.type === 'generateClip' && sp.triggeredByCompletionAt !== undefined)
      .map((sp) => sp.scheduledAt - sp.triggeredByCompletionAt!),
  );

  await stopChild(worker);
  const stats = worker.lines.find((l) => l.event === 'stats') as { timings?: Record<string, number[]>; loopDelay?: LoopDelay } | undefined;
  const t = stats?.timings ?? {};
  const mems = worker.lines.filter((l) => l.event === 'mem') as unknown as Record<string, number>[];
  const peakMem = mems.reduce<Record<string, number> | undefined>((best, m) => (!best || m.rss! > best.rss! ? m : best), undefined) ?? {};
  const memoryAtPeakMiB = Object.fromEntries(
    ['rss', 'heapTotal', 'heapUsed', 'external', 'arrayBuffers'].map((k) => [k, (peakMem[k] ?? Number.NaN) / 2 ** 20]),
  );
  return {
    params,
    jobConcurrency: config.job.concurrency,
    workerMaxConcurrentActivities: config.worker.maxConcurrentActivities,
    wallMs,
    clipsPerSecond: (jobs * clipsPerJob) / (wallMs / 1000),
    jobLatencyMs: summarize(latencies),
    worker: {
      peakRssMiB,
      rssSamplesMiB: summarize(rssSamples),
      memoryAtPeakMiB,
      memoryStagesMiB: (worker.lines.find((l) => l.event === 'ready')?.memoryStages ?? {}) as Record<string, number>,
      startupMs: worker.readyAt - worker.spawnedAt,
      cpuMs: workerCpu,
      cpuUserMs: split.userMs - cpu0.split.userMs,
      cpuSystemMs: split.systemMs - cpu0.split.systemMs,
      cpuWithChildrenMs: workerAllCpu,
      ...(stats?.loopDelay ? { loopDelay: stats.loopDelay } : {}),
    },
    cpuPerClipMs: (workerAllCpu + serverCpu + (selfCpu.user + selfCpu.system) / 1000) / (jobs * clipsPerJob),
    server: { peakRssMiB: serverPeakMiB, cpuMs: serverCpu },
    benchProcessCpuMs: (selfCpu.user + selfCpu.system) / 1000,
    history: {
      sampled: profiles.length,
      eventsPerClip: profiles.reduce((a, p) => a + p.events, 0) / (profiles.length * clipsPerJob),
      eventsPerJob: summarize(profiles.map((p) => p.events)),
      bytesPerJob: summarize(profiles.map((p) => p.bytes)),
      eventsByType,
    },
    profile: {
      dispatchMs: summarize(clipSpans.map((sp) => sp.startedAt! - sp.scheduledAt)),
      runMs: summarize(clipSpans.map((sp) => sp.closedAt! - sp.startedAt!)),
      refillMs: summarize(refills),
      wftScheduleToStartMs: summarize(profiles.map((p) => p.workflowTasks.scheduleToStartMs.mean)),
      wftStartToCompleteMs: summarize(profiles.map((p) => p.workflowTasks.startToCompleteMs.mean)),
      setupMs: summarize(profiles.map((p) => p.setupMs)),
      tailMs: summarize(profiles.map((p) => p.tailMs)),
      probeMs: summarize(t.probeMs ?? []),
      saveMs: summarize(t.saveMs ?? []),
      recordCostMs: summarize(t.recordCostMs ?? []),
    },
  };
}
