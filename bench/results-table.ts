/** docs/benchmarks.md: tables of bench/results.json, every figure read from it. */
import type { BenchResults, LoadAverage, ScenarioRecord } from './results.js';
import { CRASH_DEFAULTS, type CrashResult } from './scenarios/crash.js';
import { LARGE_DEFAULTS, LIMITS, type LargeResult } from './scenarios/large.js';
import { MEMORY_DEFAULTS, type MemoryResult, type StartupMemory } from './scenarios/memory.js';
import { OVERHEAD_DEFAULTS, type OverheadResult } from './scenarios/overhead.js';
import { SCALE_DEFAULTS, type ScaleResult } from './scenarios/scale.js';
import { THROUGHPUT_DEFAULTS, type ThroughputResult } from './scenarios/throughput.js';

const s = (ms: number, digits = 2) => `${(ms / 1000).toFixed(digits)} s`;
const ms = (x: number) => `${x.toFixed(0)} ms`;
const ratio = (x: number) => `${x.toFixed(3)}×`;
const int = (n: number) => Math.round(n).toLocaleString('en-US');
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const load = (l: LoadAverage) => l.map((x) => x.toFixed(2)).join(' ');
const row = (...cells: (string | number)[]) => `| ${cells.join(' | ')} |`;

/** Which parameters differ from the scenario's defaults, as "name a (default b)". */
function scaled(params: object, defaults: object): string[] {
  return Object.entries(defaults)
    .filter(([k, v]) => JSON.stringify((params as Record<string, unknown>)[k]) !== JSON.stringify(v))
    .map(([k, v]) => `${k} ${JSON.stringify((params as Record<string, unknown>)[k])} (default ${JSON.stringify(v)})`);
}

function section<R extends { params: object }>(
  title: string,
  record: ScenarioRecord<R> | undefined,
  defaults: object,
  body: (r: R) => string[],
): string[] {
  if (!record) return [];
  const head = [`## ${title}`, ''];
  const ran = `Ran ${record.startedAt}, ${record.durationS} s; load average (1/5/15 min) ${load(record.load.start)} at the start, ${load(record.load.end)} at the end.`;
  if (!record.result) return [...head, `**Failed**: ${record.error?.split('\n')[0] ?? 'no result'}`, '', ran, ''];
  const changed = scaled(record.result.params, defaults);
  const scale = changed.length ? ` Scaled down from the scenario's defaults: ${changed.join(', ')}.` : '';
  return [...head, ...body(record.result), '', ran + scale, ''];
}

function overhead(o: OverheadResult): string[] {
  const { clips, concurrency, latencyMs, pollIntervalMs, reps } = o.params;
  return [
    `${clips} clips, concurrency ${concurrency}, L = ${s(latencyMs, 1)}, poll every ${pollIntervalMs} ms; ${reps} runs of each after one warm-up. Ideal makespan ceil(N/C) × L = ${s(o.idealMs)}.`,
    '',
    row('', 'Temporal workflow', 'promise pool (same activity code, in process)'),
    row('---', '---', '---'),
    row('makespan, median', s(o.temporal.median, 3), s(o.pool.median, 3)),
    row('makespan, max', s(o.temporal.max, 3), s(o.pool.max, 3)),
    row('median / ideal', ratio(o.target.medianRatio), ratio(o.poolRatio.median)),
    row(`target ≤ ${o.target.ratio}× (median and max)`, o.target.pass ? 'met' : 'missed', ''),
    row('clip activity started → closed, less L (mean; poll lag, save, ffprobe, cost)', ms(o.profile.runOverLatencyMs), ''),
    row('poll lag, prediction ready → seen (both, mean)', ms(o.profile.pollLagMs.mean), ''),
    row('ffprobe per clip (both, mean)', ms(o.profile.probeMs.mean), ''),
  ];
}

function throughput(t: ThroughputResult): string[] {
  const { jobs, clipsPerJob, latencyMs } = t.params;
  return [
    `${jobs} jobs × ${clipsPerJob} clips started at once, L = ${latencyMs} ms (no polling: each prediction has succeeded when created), one worker in a child process with ${t.workerMaxConcurrentActivities} activity slots, each job at concurrency ${t.jobConcurrency}.`,
    '',
    row('', 'Temporal'),
    row('---', '---'),
    row(`wall time for ${int(jobs * clipsPerJob)} clips`, s(t.wallMs, 1)),
    row('throughput', `${t.clipsPerSecond.toFixed(1)} clips/s`),
    row('job latency p50 / p95', `${s(t.jobLatencyMs.median, 1)} / ${s(t.jobLatencyMs.p95, 1)}`),
    row('worker peak RSS', `${t.worker.peakRssMiB.toFixed(0)} MiB`),
    row('CPU per clip (worker and its ffprobes, dev server, client)', `${t.cpuPerClipMs.toFixed(1)} ms`),
    row(`history events per clip (${t.history.sampled} jobs)`, t.history.eventsPerClip.toFixed(2)),
  ];
}

function crash(c: CrashResult): string[] {
  const { clips, concurrency, latencyMs, pollIntervalMs } = c.params;
  const label = (hb: number) => `Temporal, heartbeat timeout ${hb} s${hb === c.defaultHeartbeatTimeoutS ? ' (default)' : ''}`;
  const line = (what: string, temporal: (r: CrashResult['temporal'][number]) => string, pool: string) =>
    row(what, ...c.temporal.map(temporal), pool);
  const p = c.pool;
  return [
    `${clips} clips, concurrency ${concurrency}, L = ${s(latencyMs, 1)}, poll every ${pollIntervalMs} ms. The worker (or the pool) runs in a child process, is SIGKILLed once ${Math.ceil(clips / 2)} clips are done and the next predictions are created, and a new process is started; the pool starts over.`,
    '',
    row('', ...c.temporal.map((r) => label(r.heartbeatTimeoutS)), 'promise pool, restarted'),
    row('---', ...c.temporal.map(() => '---'), '---'),
    line('uncrashed makespan', () => s(c.temporalBaselineMs), s(c.poolBaselineMs)),
    line('killed after', (r) => s(r.killAfterMs), s(p.killAfterMs)),
    line('new process ready after', (r) => s(r.replacementStartupMs, 1), s(p.restartStartupMs, 1)),
    line('wall time with the crash', (r) => s(r.wallMs), s(p.wallMs)),
    line('extra wall time', (r) => `+${s(r.extraMs)}`, `+${s(p.extraMs)}`),
    line(`provider creates (${clips} clips)`, (r) => `${r.creates}`, `${p.creates}`),
    line('duplicate creates', (r) => `${r.duplicates}`, `${p.duplicates}`),
    line('… of clips completed before the kill', (r) => `${r.duplicatesOfCompletedBeforeKill}`, `${p.duplicatesOfCompletedBeforeKill}`),
    line(
      'in-flight predictions resumed',
      (r) => `${r.inFlightResumed.length} of ${r.inFlightAtKill.length}`,
      `${p.inFlightResumed.length} of ${p.inFlightAtKill.length}`,
    ),
  ];
}

function large(l: LargeResult): string[] {
  const { clips, concurrency, latencyMs, pollIntervalMs } = l.params;
  const h = l.history;
  return [
    `${int(clips)} clips in one workflow, concurrency ${concurrency}, L = ${latencyMs} ms, poll every ${pollIntervalMs} ms, worker in this process. Limits are the Temporal server's defaults.`,
    '',
    row('', 'measured', 'limit'),
    row('---', '---', '---'),
    row('clips made', `${int(l.successfulClips)} of ${int(clips)}`, ''),
    row('makespan', `${s(l.makespanMs, 1)} (ideal ${s(l.idealMs, 1)}, ${ratio(l.makespanMs / l.idealMs)})`, ''),
    row('clips in flight, mean / max', `${l.profile.meanInFlight.toFixed(1)} / ${l.profile.maxInFlight}`, `${concurrency}`),
    row(
      'history events',
      `${int(h.events)} (${h.eventsPerClip.toFixed(2)} per clip)`,
      `${int(LIMITS.eventsError)}: ${pct(h.events / LIMITS.eventsError)} (warning at ${int(LIMITS.eventsWarn)})`,
    ),
    row('history size', `${(h.bytes / 2 ** 20).toFixed(2)} MiB`, `50 MiB: ${pct(h.bytes / LIMITS.bytesError)}`),
    row(
      'largest payload',
      `${(h.largestPayload.bytes / 1024).toFixed(0)} KiB (${h.largestPayload.where})`,
      `2 MiB: ${pct(h.largestPayload.bytes / LIMITS.blobError)}`,
    ),
  ];
}

const mib = (x: number) => `${x.toFixed(0)} MiB`;

function startupCells(m: StartupMemory): string[] {
  const children = m.children.map((c) => `${c.command} ${mib(c.peakRssMiB)}`).join(', ');
  return [mib(m.worker.peakRssMiB), children || 'none', mib(m.totalPeakRssMiB), mib(m.worker.rssMiB), s(m.readyMs, 1)];
}

function memory(m: MemoryResult): string[] {
  const { inFlight, clipsPerJob, latencyMs, pollIntervalMs, holdMs } = m.params;
  const f = m.inFlight;
  return [
    `One worker in a child process with the embedded cost tracker (PGlite, no DATABASE_URL). Start-up: the worker is started on an empty data dir, stopped, and started again on the same one; peaks are VmHWM, 3 s after the worker polls. The processes it started are measured beside it.`,
    '',
    row('data dir', 'worker peak RSS', 'its processes, peak RSS', 'together (peaks added)', 'worker RSS when idle', 'ready after'),
    row('---', '---', '---', '---', '---', '---'),
    row('fresh', ...startupCells(m.startup.fresh)),
    row('reopened', ...startupCells(m.startup.reopened)),
    '',
    `In flight: ${int(inFlight)} clips at once on the same kind of worker (WORKER_MAX_CONCURRENT_ACTIVITIES ${int(inFlight)}), as ${Math.ceil(inFlight / clipsPerJob)} jobs × ${clipsPerJob} clips at concurrency ${clipsPerJob}, L = ${s(latencyMs, 0)} (no prediction ends while measured), poll every ${pollIntervalMs} ms; RSS sampled every 0.5 s for ${s(holdMs, 0)} once every prediction was created.`,
    '',
    row('', 'measured'),
    row('---', '---'),
    row('worker RSS, idle before the jobs', mib(f.idleRssMiB)),
    row(`all ${int(inFlight)} clips in flight after`, s(f.rampMs, 1)),
    row('predictions created by the end (more than the clips when activities were retried)', int(f.reached)),
    row('worker RSS in flight, median / max', `${mib(f.rssMiB.median)} / ${mib(f.rssMiB.max)}`),
    row('worker peak RSS', mib(f.peakRssMiB)),
    row('RSS per in-flight clip (median in flight − idle) / clips', `${f.rssPerClipKiB.toFixed(1)} KiB`),
  ];
}

function scale(r: ScaleResult): string[] {
  const { concurrency, latencyMs, pollIntervalMs } = r.params;
  return [
    `One job at a time, concurrency ${concurrency}, L = ${latencyMs} ms, poll every ${pollIntervalMs} ms; each job has a fresh worker in a child process (local store, embedded PGlite tracker). A job past one batch runs as child workflows; every workflow of the job is read. Limits: ${int(LIMITS.eventsWarn)} events and 256 KiB per payload (Temporal's warnings).`,
    '',
    row(
      'clips',
      'made',
      'makespan',
      'per clip',
      'per clip vs first',
      'workflows',
      'most events in one workflow',
      'largest payload',
      'start input',
      'worker peak RSS',
      'server peak RSS',
      'load at start / end',
    ),
    row(...Array(12).fill('---')),
    ...r.jobs.map((j) =>
      row(
        int(j.clips),
        int(j.successfulClips),
        s(j.makespanMs, 1),
        ms(j.makespanPerClipMs),
        ratio(j.perClipVsFirst),
        `${j.workflows} (${j.batches} batches)`,
        `${int(j.mostEvents.events)} (${pct(j.mostEvents.events / LIMITS.eventsWarn)} of ${int(LIMITS.eventsWarn)})`,
        `${(j.largestPayload.bytes / 1024).toFixed(1)} KiB (${j.largestPayload.where})`,
        `${(j.startInputBytes / 1024).toFixed(1)} KiB`,
        mib(j.workerPeakRssMiB),
        mib(j.serverPeakRssMiB),
        `${load(j.load.start)} / ${load(j.load.end)}`,
      ),
    ),
  ];
}

export function renderResults(r: BenchResults): string {
  const m = r.machine;
  const { pollIntervalMs, replicateDefaultPollIntervalMs } = r.settings;
  const v = r.sample;
  const lines = [
    '# clipflow benchmarks',
    '',
    `_Written by \`npm run bench\` from \`bench/results.json\`: the latest run began ${r.ranAt} (${r.durationS} s in all); a scenario it did not run is kept from an earlier run, and every table says when it ran and under what load. \`npm run bench -- --report\` rewrites this file from the same results._`,
    '',
    `Machine: ${m.nproc} CPUs (${m.cpuModel}), ${m.memoryGiB} GiB, Node ${m.node}, ${m.platform}; Temporal dev server ${m.temporalCli.replace(/\n/g, ' ')}, TypeScript SDK ${m.temporalSdk}. ` +
      "The load averages under each table count the bench's own processes and whatever else ran on the machine.",
    '',
    `The real dev server, worker, workflow, activities, ffprobe validation and PGlite cost tracker; only the provider is replaced (\`bench/fixed-latency-provider.ts\`): each prediction succeeds L ms after it is created, and its output is a copy of one ${v.width}×${v.height}, ${v.durationS} s ${v.codec} MP4 of ${int(v.sizeBytes)} B. ` +
      `Like a real provider it is polled: every clip activity asks every ${pollIntervalMs} ms in the latest run (\`--poll-interval-ms\`; the memory scenario sets its own; a Replicate worker asks every ${replicateDefaultPollIntervalMs} ms unless REPLICATE_POLL_INTERVAL_MS says otherwise).`,
    '',
    ...section('Overhead: Temporal against a promise pool', r.scenarios.overhead, OVERHEAD_DEFAULTS, overhead),
    ...section('Crash: a worker SIGKILLed half-way', r.scenarios.crash, CRASH_DEFAULTS, crash),
    ...section('Throughput: one worker, many jobs', r.scenarios.throughput, THROUGHPUT_DEFAULTS, throughput),
    ...section('A large job against the history limits', r.scenarios.large, LARGE_DEFAULTS, large),
    ...section('Memory: the embedded tracker, and clips in flight', r.scenarios.memory, MEMORY_DEFAULTS, memory),
    ...section('Scale: jobs of 1,000 to 20,000 clips', r.scenarios.scale, SCALE_DEFAULTS, scale),
  ];
  return `${lines.join('\n').trimEnd()}\n`;
}
