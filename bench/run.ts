/**
 * clipflow benchmarks on the real Temporal dev server, with a provider of exact latency L:
 *   overhead    6 clips, concurrency 3, L = 2 s: makespan against ceil(N/C)·L and a promise pool
 *   throughput  100 jobs × 10 clips, L = 0, one worker: clips/s, job latency, peak RSS
 *   crash       SIGKILL at 50% of a 12-clip job: extra wall time, duplicate creates; the pool starts over
 *   large       800 clips in one workflow, concurrency 50, L = 100 ms: history against Temporal's limits
 *   memory      worker peak RSS on a fresh and a reopened PGlite dir; RSS with 2000 clips in flight
 *   scale       jobs of 1,000, 5,000 and 20,000 clips (child workflows past one batch): events and payloads per workflow, RSS
 *
 *   npm run bench                                   all five
 *   npm run bench -- --only crash,overhead          some
 *   npm run bench -- --poll-interval-ms 100         how often clip activities poll the provider (default 50)
 *   npm run bench -- --report                       rewrite docs/benchmarks.md from bench/results.json
 *
 * bench/results.json keeps the scenarios this run did not run from the previous file (each with its
 * own date and load), so `--only` replaces just its own; docs/benchmarks.md is written from it.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { loadConfig } from '../src/config/index.js';
import { loadAverage, REPO, startBench } from './harness.js';
import { describeMachine } from './machine.js';
import { renderResults } from './results-table.js';
import { SCENARIOS, type BenchResults, type ScenarioName, type ScenarioRecord } from './results.js';
import { CRASH_DEFAULTS, runCrash } from './scenarios/crash.js';
import { LARGE_DEFAULTS, runLarge } from './scenarios/large.js';
import { MEMORY_DEFAULTS, runMemory } from './scenarios/memory.js';
import { OVERHEAD_DEFAULTS, runOverhead } from './scenarios/overhead.js';
import { runThroughput, THROUGHPUT_DEFAULTS } from './scenarios/throughput.js';
import { runScale, SCALE_DEFAULTS } from './scenarios/scale.js';

const RESULTS_FILE = path.join(REPO, 'bench', 'results.json');
const REPORT_FILE = path.join(REPO, 'docs', 'benchmarks.md');
const DEFAULT_POLL_INTERVAL_MS = 50;
const USAGE = `usage: bench/run.ts [--only ${SCENARIOS.join('|')}[,...]] [--poll-interval-ms N] [--scale-sizes N,N,...] [--report]`;

interface Args {
  selected: ScenarioName[];
  pollIntervalMs: number;
  reportOnly: boolean;
  /** The scale scenario's job sizes, when not its defaults. */
  scaleSizes?: number[];
}

function parseArgs(argv: string[]): Args {
  const only: string[] = [];
  let pollIntervalMs = DEFAULT_POLL_INTERVAL_MS;
  let reportOnly = false;
  let scaleSizes: number[] | undefined;
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split('=', 2) as [string, string | undefined];
    const value = () => inline ?? argv[++i] ?? '';
    if (flag === '--only') only.push(...value().split(','));
    else if (flag === '--poll-interval-ms') pollIntervalMs = Number(value());
    else if (flag === '--report') reportOnly = true;
    else if (flag === '--scale-sizes') scaleSizes = value().split(',').map(Number);
    else if (flag === '--help' || flag === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown argument ${argv[i]}\n${USAGE}`);
  }
  if (!Number.isInteger(pollIntervalMs) || pollIntervalMs < 1)
    throw new Error(`--poll-interval-ms must be a positive integer, not ${pollIntervalMs}`);
  const names = only.map((n) => n.trim()).filter(Boolean);
  for (const n of names)
    if (!SCENARIOS.includes(n as ScenarioName)) throw new Error(`unknown scenario "${n}" (one of ${SCENARIOS.join(', ')})`);
  if (scaleSizes?.some((n) => !Number.isInteger(n) || n < 1))
    throw new Error(`--scale-sizes must be positive integers, not ${scaleSizes.join(',')}`);
  return {
    selected: names.length ? SCENARIOS.filter((s) => names.includes(s)) : [...SCENARIOS],
    pollIntervalMs,
    reportOnly,
    ...(scaleSizes ? { scaleSizes } : {}),
  };
}

/** Runs one scenario, with the load average at its start and end; a failure is recorded, not thrown. */
async function measure<R>(log: (line: string) => void, fn: () => Promise<R>): Promise<ScenarioRecord<R>> {
  const startedAt = new Date().toISOString();
  const start = loadAverage();
  const began = performance.now();
  const done = (outcome: { result: R } | { error: string }): ScenarioRecord<R> => {
    const durationS = Math.round((performance.now() - began) / 100) / 10;
    log(`  (${durationS} s)`);
    return { startedAt, durationS, load: { start, end: loadAverage() }, ...outcome };
  };
  try {
    return done({ result: await fn() });
  } catch (err) {
    const error = err instanceof Error ? (err.stack ?? err.message) : String(err);
    log(`  FAILED: ${error}`);
    return done({ error });
  }
}

/** The scenarios of the last results file, to keep those this run does not replace. */
function previousScenarios(): BenchResults['scenarios'] {
  if (!existsSync(RESULTS_FILE)) return {};
  return (JSON.parse(readFileSync(RESULTS_FILE, 'utf8')) as BenchResults).scenarios ?? {};
}

async function main(): Promise<number> {
  const { selected, pollIntervalMs, reportOnly, scaleSizes } = parseArgs(process.argv.slice(2));
  if (reportOnly) {
    if (!existsSync(RESULTS_FILE)) throw new Error(`${RESULTS_FILE} does not exist: run the bench first`);
    writeFileSync(REPORT_FILE, renderResults(JSON.parse(readFileSync(RESULTS_FILE, 'utf8')) as BenchResults));
    console.log(`wrote ${path.relative(process.cwd(), REPORT_FILE)} from ${path.relative(process.cwd(), RESULTS_FILE)}`);
    return 0;
  }
  // The SDK's and Core's own logs: warnings and errors only.
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const log = (line: string) => console.log(line);
  const ranAt = new Date().toISOString();
  const began = performance.now();
  const machine = await describeMachine();
  log(
    `clipflow bench: ${selected.join(', ')}; poll every ${pollIntervalMs} ms; ${machine.nproc} CPUs (${machine.cpuModel}), node ${machine.node}, load ${loadAverage().join(' ')}`,
  );
  const bench = await startBench(log);
  const scenarios: BenchResults['scenarios'] = {};
  const run: Record<ScenarioName, () => Promise<ScenarioRecord<unknown>>> = {
    overhead: async () =>
      (scenarios.overhead = await measure(log, () => runOverhead(bench, log, { ...OVERHEAD_DEFAULTS, pollIntervalMs }))),
    throughput: async () =>
      (scenarios.throughput = await measure(log, () => runThroughput(bench, log, { ...THROUGHPUT_DEFAULTS, pollIntervalMs }))),
    crash: async () => (scenarios.crash = await measure(log, () => runCrash(bench, log, { ...CRASH_DEFAULTS, pollIntervalMs }))),
    large: async () => (scenarios.large = await measure(log, () => runLarge(bench, log, { ...LARGE_DEFAULTS, pollIntervalMs }))),
    // Its own poll interval: 2000 activities polling every 50 ms would measure the polling instead.
    memory: async () => (scenarios.memory = await measure(log, () => runMemory(bench, log, MEMORY_DEFAULTS))),
    scale: async () =>
      (scenarios.scale = await measure(log, () =>
        runScale(bench, log, { ...SCALE_DEFAULTS, ...(scaleSizes ? { sizes: scaleSizes } : {}), pollIntervalMs }),
      )),
  };
  let failed = false;
  try {
    for (const name of selected) {
      log(`\n== ${name}`);
      if ((await run[name]()).error) failed = true;
    }
  } finally {
    await bench.close();
  }
  const results: BenchResults = {
    ranAt,
    durationS: Math.round((performance.now() - began) / 1000),
    machine,
    settings: { pollIntervalMs, replicateDefaultPollIntervalMs: loadConfig({}).replicate.pollIntervalMs },
    sample: bench.sampleFacts,
    scenarios: { ...previousScenarios(), ...scenarios },
  };
  writeFileSync(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);
  const report = renderResults(results);
  writeFileSync(REPORT_FILE, report);
  log(`\n${report}`);
  log(
    `wrote ${path.relative(process.cwd(), REPORT_FILE)} and ${path.relative(process.cwd(), RESULTS_FILE)} (${results.durationS} s in all)`,
  );
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(2);
  },
);
