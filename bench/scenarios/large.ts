/**
 * 4. A large job in one workflow: 800 clips (the largest CLIPFLOW_BATCH_SIZE, past which a job runs
 * in child workflows), concurrency 50, L = 100 ms; history size against Temporal's limits.
 */
import { cpuMs, devServerPid, inProcessWorker, uniqueName, type Bench } from '../harness.js';
import { clipPrompts } from '../prompts.js';
import { profileHistory } from '../history-profile.js';
import { startLoopMonitor, type LoopDelay } from '../event-loop.js';
import { summarize, type Summary } from '../stats.js';

export interface LargeParams {
  clips: number;
  concurrency: number;
  latencyMs: number;
  pollIntervalMs: number;
}

export const LARGE_DEFAULTS: Omit<LargeParams, 'pollIntervalMs'> = { clips: 800, concurrency: 50, latencyMs: 100 };

/** Temporal's defaults (server dynamic config limit.historyCount.*, limit.historySize.*, limit.blobSize.*). */
export const LIMITS = {
  eventsError: 51_200,
  eventsWarn: 10_240,
  /** limit.historyCount/historySize.suggestContinueAsNew: the server sets suggestContinueAsNew on workflow tasks. */
  eventsSuggestContinueAsNew: 4_096,
  bytesSuggestContinueAsNew: 4 * 2 ** 20,
  bytesError: 50 * 2 ** 20,
  bytesWarn: 10 * 2 ** 20,
  blobError: 2 * 2 ** 20,
  blobWarn: 512 * 2 ** 10,
};

export interface LargeResult {
  params: LargeParams;
  idealMs: number;
  makespanMs: number;
  serverMakespanMs: number;
  successfulClips: number;
  history: {
    events: number;
    bytes: number;
    /** As DescribeWorkflowExecution reports them. */
    describedLength: number;
    describedSizeBytes: number;
    eventsByType: Record<string, number>;
    largestPayload: { bytes: number; where: string };
    eventsPerClip: number;
    bytesPerClip: number;
  };
  /** Clips per job at which each limit would be reached, extrapolating linearly from this job. */
  clipsAtLimit: { eventsWarn: number; eventsError: number; bytesError: number; blobWarn: number; blobError: number };
  profile: {
    /** Most generateClip activities in flight at once, from the history. */
    maxInFlight: number;
    meanInFlight: number;
    dispatchMs: Summary;
    runOverLatencyMs: Summary;
    refillMs: Summary;
    workflowTasks: number;
    wftScheduleToStartMs: Summary;
    wftStartToCompleteMs: Summary;
    clipsPerWorkflowTask: number;
    setupMs: number;
    tailMs: number;
    pollLagMs: Summary;
    probeMs: Summary;
    saveMs: Summary;
    recordCostMs: Summary;
  };
  cpu: {
    benchProcessMs: number;
    benchProcessUserMs: number;
    benchProcessSystemMs: number;
    serverMs: number;
    ffprobeMs: number;
    wallMs: number;
  };
  /** The worker's (this process's) event loop during the job. */
  loopDelay: LoopDelay;
  /** Sizes of the payloads that grow with the job. */
  payloads: { workflowInput: number; workflowResult: number };
}

/** Mean number of spans in flight over [from, to]. */
function meanOverlap(spans: { startedAt: number; endedAt: number }[], from: number, to: number): number {
  const busy = spans.reduce((sum, sp) => sum + (Math.min(sp.endedAt, to) - Math.max(sp.startedAt, from)), 0);
  return busy / (to - from);
}

export async function runLarge(bench: Bench, log: (line: string) => void, params: LargeParams): Promise<LargeResult> {
  const { clips, concurrency, latencyMs, pollIntervalMs } = params;
  const idealMs = Math.ceil(clips / concurrency) * latencyMs;
  // One workflow however many clips (up to the largest batch size).
  const w = await inProcessWorker(bench, 'large', { latencyMs, pollIntervalMs, env: { CLIPFLOW_BATCH_SIZE: String(clips) } });
  try {
    const serverPid = devServerPid();
    const cpu0 = {
      self: process.cpuUsage(),
      server: serverPid ? cpuMs(serverPid) : Number.NaN,
      children: cpuMs(process.pid, true) - cpuMs(process.pid),
    };
    const loop = startLoopMonitor();
    const jobId = uniqueName('large');
    const began = performance.now();
    const handle = await w.clipflow.start({ jobId, clipPrompts: clipPrompts(clips), options: { concurrency } });
    const progressLog = setInterval(() => {
      void handle.progress().then(
        (p) => log(`  ${p.done}/${p.total} clips (${((performance.now() - began) / 1000).toFixed(0)} s)`),
        () => undefined,
      );
    }, 10_000);
    const result = await handle.result().finally(() => clearInterval(progressLog));
    const makespanMs = performance.now() - began;
    const loopDelay = loop.stop();
    const self = process.cpuUsage(cpu0.self);
    const cpu = {
      benchProcessMs: (self.user + self.system) / 1000,
      benchProcessUserMs: self.user / 1000,
      benchProcessSystemMs: self.system / 1000,
      serverMs: serverPid ? cpuMs(serverPid) - cpu0.server : Number.NaN,
      ffprobeMs: cpuMs(process.pid, true) - cpuMs(process.pid) - cpu0.children,
      wallMs: makespanMs,
    };
    const history = await handle.raw.fetchHistory();
    const described = await handle.raw.describe();
    const p = profileHistory(history, latencyMs);
    const spans = p.spans
      .filter((sp) => sp.type === 'generateClip' && sp.startedAt !== undefined && sp.closedAt !== undefined)
      .map((sp) => ({ startedAt: sp.startedAt!, endedAt: sp.closedAt! }));
    let maxInFlight = 0;
    const edges = spans
      .flatMap((sp) => [
        { at: sp.startedAt, d: 1 },
        { at: sp.endedAt, d: -1 },
      ])
      .sort((a, b) => a.at - b.at || a.d - b.d);
    let current = 0;
    for (const e of edges) {
      current += e.d;
      maxInFlight = Math.max(maxInFlight, current);
    }
    const firstStart = Math.min(...spans.map((sp) => sp.startedAt));
    const lastEnd = Math.max(...spans.map((sp) => sp.endedAt));
    const timings = w.bd.timings();
    const perClipEvents = p.events / clips;
    const perClipBytes = p.bytes / clips;
    // The largest payload (the workflow result) grows with the clips; the rest is fixed.
    const payloadPerClip = p.largestPayload.bytes / clips;
    return {
      params,
      idealMs,
      makespanMs,
      serverMakespanMs: p.makespanMs,
      successfulClips: result.successfulClips,
      history: {
        events: p.events,
        bytes: p.bytes,
        describedLength: described.historyLength,
        describedSizeBytes: described.historySize ?? Number.NaN,
        eventsByType: p.eventsByType,
        largestPayload: p.largestPayload,
        eventsPerClip: perClipEvents,
        bytesPerClip: perClipBytes,
      },
      clipsAtLimit: {
        eventsWarn: Math.floor(LIMITS.eventsWarn / perClipEvents),
        eventsError: Math.floor(LIMITS.eventsError / perClipEvents),
        bytesError: Math.floor(LIMITS.bytesError / perClipBytes),
        blobWarn: Math.floor(LIMITS.blobWarn / payloadPerClip),
        blobError: Math.floor(LIMITS.blobError / payloadPerClip),
      },
      profile: {
        maxInFlight,
        meanInFlight: meanOverlap(spans, firstStart, lastEnd),
        dispatchMs: p.dispatchMs,
        runOverLatencyMs: p.runOverLatencyMs,
        refillMs: p.refillMs,
        workflowTasks: p.workflowTasks.count,
        wftScheduleToStartMs: p.workflowTasks.scheduleToStartMs,
        wftStartToCompleteMs: p.workflowTasks.startToCompleteMs,
        clipsPerWorkflowTask: clips / p.workflowTasks.count,
        setupMs: p.setupMs,
        tailMs: p.tailMs,
        pollLagMs: summarize(timings.pollLagMs),
        probeMs: summarize(timings.probeMs),
        saveMs: summarize(timings.saveMs),
        recordCostMs: summarize(timings.recordCostMs),
      },
      cpu,
      loopDelay,
      payloads: p.payloads,
    };
  } finally {
    await w.stop();
  }
}
