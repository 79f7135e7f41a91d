/** 1. Overhead: 6 clips, concurrency 3, L = 2 s, Temporal vs an in-process promise pool, repeated. */
import { createActivities } from '../../src/activities/index.js';
import { clipPrompts, inProcessWorker, uniqueName, type Bench, type InProcessWorker } from '../harness.js';
import { profileHistory, type HistoryProfile } from '../history-profile.js';
import { runPool } from '../pool.js';
import { median, summarize, type Summary } from '../stats.js';

export interface OverheadParams {
  clips: number;
  concurrency: number;
  latencyMs: number;
  pollIntervalMs: number;
  reps: number;
}

export interface OverheadRun {
  /** Client side: start() called → result() resolved. */
  temporalMs: number;
  /** Server side: WorkflowExecutionStarted → WorkflowExecutionCompleted. */
  serverMs: number;
  poolMs?: number;
  setupMs: number;
  tailMs: number;
  refillMeanMs: number;
  dispatchMeanMs: number;
  runOverLatencyMeanMs: number;
  workflowTasks: number;
  events: number;
}

export interface StepProfile {
  setupMs: number;
  tailMs: number;
  refillMs: number;
  dispatchMs: number;
  runOverLatencyMs: number;
  wftScheduleToStartMs: number;
  wftStartToCompleteMs: number;
  clientExtraMs: number;
  pollLagMs: Summary;
  saveMs: Summary;
  probeMs: Summary;
  recordCostMs: Summary;
  /** The non-clip activities of the last run: when each was scheduled (after workflow start) and how long it took. */
  otherActivities: { type: string; scheduledAfterStartMs: number; scheduledToClosedMs: number }[];
  /** Events of the last run's history, by type. */
  eventsByType: Record<string, number>;
}

export interface OverheadResult {
  params: OverheadParams;
  idealMs: number;
  warmup: { temporalMs: number; poolMs: number };
  runs: OverheadRun[];
  temporal: Summary;
  server: Summary;
  pool: Summary;
  /** Medians over the measured runs. */
  profile: StepProfile;
  target: { ratio: number; medianRatio: number; maxRatio: number; pass: boolean };
  poolRatio: { median: number; max: number };
}

export const OVERHEAD_DEFAULTS: Omit<OverheadParams, 'pollIntervalMs'> = { clips: 6, concurrency: 3, latencyMs: 2000, reps: 5 };

function stepProfile(w: InProcessWorker, runs: OverheadRun[], profiles: HistoryProfile[]): StepProfile {
  const timings = w.bd.timings();
  const last = profiles.at(-1)!;
  return {
    setupMs: median(runs.map((r) => r.setupMs)),
    tailMs: median(runs.map((r) => r.tailMs)),
    refillMs: median(runs.map((r) => r.refillMeanMs)),
    dispatchMs: median(runs.map((r) => r.dispatchMeanMs)),
    runOverLatencyMs: median(runs.map((r) => r.runOverLatencyMeanMs)),
    wftScheduleToStartMs: median(profiles.map((p) => p.workflowTasks.scheduleToStartMs.mean)),
    wftStartToCompleteMs: median(profiles.map((p) => p.workflowTasks.startToCompleteMs.mean)),
    clientExtraMs: median(runs.map((r) => r.temporalMs - r.serverMs)),
    pollLagMs: summarize(timings.pollLagMs),
    saveMs: summarize(timings.saveMs),
    probeMs: summarize(timings.probeMs),
    recordCostMs: summarize(timings.recordCostMs),
    otherActivities: last.spans
      .filter((sp) => sp.type !== 'generateClip')
      .map((sp) => ({
        type: sp.type,
        scheduledAfterStartMs: sp.scheduledAt - last.startAt,
        scheduledToClosedMs: (sp.closedAt ?? sp.scheduledAt) - sp.scheduledAt,
      })),
    eventsByType: last.eventsByType,
  };
}

export async function runOverhead(bench: Bench, log: (line: string) => void, params: OverheadParams): Promise<OverheadResult> {
  const { clips, concurrency, latencyMs, pollIntervalMs, reps } = params;
  const idealMs = Math.ceil(clips / concurrency) * latencyMs;
  const prompts = clipPrompts(clips);

  async function temporalOnce(w: InProcessWorker): Promise<{ ms: number; profile: HistoryProfile }> {
    const jobId = uniqueName('overhead');
    const began = performance.now();
    const handle = await w.clipflow.start({ jobId, clipPrompts: prompts, options: { concurrency } });
    const result = await handle.result();
    const ms = performance.now() - began;
    if (result.successfulClips !== clips) throw new Error(`overhead: ${result.successfulClips}/${clips} clips`);
    return { ms, profile: profileHistory(await handle.raw.fetchHistory(), latencyMs) };
  }

  async function poolOnce(w: InProcessWorker): Promise<number> {
    const began = performance.now();
    const result = await runPool({
      jobId: uniqueName('overhead-pool'),
      clips: prompts,
      model: w.config.generation.model,
      concurrency,
      retry: w.config.job.retry,
      generateClip: createActivities(w.bd.deps).generateClip,
    });
    const elapsed = performance.now() - began;
    if (result.clips.length !== clips) throw new Error(`overhead pool: ${result.clips.length}/${clips} clips`);
    return elapsed;
  }

  function describeRun(t: { ms: number; profile: HistoryProfile }, poolMs?: number): OverheadRun {
    const p = t.profile;
    return {
      temporalMs: t.ms,
      serverMs: p.makespanMs,
      ...(poolMs !== undefined ? { poolMs } : {}),
      setupMs: p.setupMs,
      tailMs: p.tailMs,
      refillMeanMs: p.refillMs.mean,
      dispatchMeanMs: p.dispatchMs.mean,
      runOverLatencyMeanMs: p.runOverLatencyMs.mean,
      workflowTasks: p.workflowTasks.count,
      events: p.events,
    };
  }

  const w = await inProcessWorker(bench, 'overhead', { latencyMs, pollIntervalMs });
  try {
    // One unmeasured round first: the first workflow on a fresh worker pays for its V8 context.
    const warm = await temporalOnce(w);
    const warmPool = await poolOnce(w);
    log(`  warm-up: temporal ${(warm.ms / 1000).toFixed(3)} s, pool ${(warmPool / 1000).toFixed(3)} s (not counted)`);
    w.bd.resetTimings();
    const runs: OverheadRun[] = [];
    const profiles: HistoryProfile[] = [];
    for (let i = 0; i < reps; i++) {
      const t = await temporalOnce(w);
      const poolMs = await poolOnce(w);
      profiles.push(t.profile);
      const run = describeRun(t, poolMs);
      runs.push(run);
      log(
        `  run ${i + 1}/${reps}: temporal ${(t.ms / 1000).toFixed(3)} s (server ${(run.serverMs / 1000).toFixed(3)} s), ` +
          `pool ${(poolMs / 1000).toFixed(3)} s; setup ${run.setupMs.toFixed(0)} ms, refill ${run.refillMeanMs.toFixed(0)} ms, ` +
          `run-L ${run.runOverLatencyMeanMs.toFixed(0)} ms, tail ${run.tailMs.toFixed(0)} ms`,
      );
    }
    const temporal = summarize(runs.map((r) => r.temporalMs));
    const pool = summarize(runs.map((r) => r.poolMs!));
    const ratio = 1.05;
    return {
      params,
      idealMs,
      warmup: { temporalMs: warm.ms, poolMs: warmPool },
      runs,
      temporal,
      server: summarize(runs.map((r) => r.serverMs)),
      pool,
      profile: stepProfile(w, runs, profiles),
      target: {
        ratio,
        medianRatio: temporal.median / idealMs,
        maxRatio: temporal.max / idealMs,
        pass: temporal.median <= ratio * idealMs && temporal.max <= ratio * idealMs,
      },
      poolRatio: { median: pool.median / idealMs, max: pool.max / idealMs },
    };
  } finally {
    await w.stop();
  }
}
