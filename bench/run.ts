/**
 * clipflow benchmarks on the real Temporal dev server, with a provider of exact latency:
 *   overhead    6 clips, concurrency 3, L = 2 s: makespan vs ceil(N/C)·L and vs a promise pool
 *   throughput  100 jobs × 10 clips, L = 0, one worker: clips/s, job latency, peak RSS, events per clip
 *   crash       SIGKILL at 50% of a 12-clip job: extra wall time, duplicate creates; pool restarted from scratch
 *   large       1000 clips in one job, concurrency 50, L = 100 ms: history vs Temporal's limits, makespan vs ideal
 *
 *   npm run bench                      (all; node --import tsx bench/run.ts)
 *   npm run bench -- --only crash      (one or more, comma separated or repeated)
 *
 * Results are merged into bench/results.json and docs/benchmarks.md is rewritten from it.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { REPO, startBench } from './harness.js';
import { describeMachine, type Machine } from './machine.js';
import { renderReport, summaryLines } from './report.js';
import { runCrash } from './scenarios/crash.js';
import { runLarge } from './scenarios/large.js';
import { runOverhead } from './scenarios/overhead.js';
import { runThroughput } from './scenarios/throughput.js';

export const SCENARIOS = ['overhead', 'throughput', 'crash', 'large'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface ScenarioRecord {
  ranAt: string;
  durationS: number;
  machine: Machine;
  result?: unknown;
  error?: string;
  /** Headline figures of earlier runs of the same scenario, newest first (for run-to-run variation). */
  earlier?: { ranAt: string; summary: string[] }[];
}

export type Results = Partial<Record<ScenarioName, ScenarioRecord>>;

const RESULTS_FILE = path.join(REPO, 'bench', 'results.json');
const REPORT_FILE = path.join(REPO, 'docs', 'benchmarks.md');

function parseArgs(argv: string[]): { selected: ScenarioName[]; reportOnly: boolean } {
  const only: string[] = [];
  let reportOnly = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--only') only.push(...(argv[++i] ?? '').split(','));
    else if (arg.startsWith('--only=')) only.push(...arg.slice('--only='.length).split(','));
    else if (arg === '--report') reportOnly = true;
    else if (arg === '--help' || arg === '-h') {
      console.log(`usage: bench/run.ts [--only ${SCENARIOS.join('|')}[,...]] [--report (only rewrite docs/benchmarks.md from bench/results.json)]`);
      process.exit(0);
    } else throw new Error(`unknown argument ${arg} (expected --only ${SCENARIOS.join('|')})`);
  }
  const names = only.map((n) => n.trim()).filter(Boolean);
  for (const n of names) if (!SCENARIOS.includes(n as ScenarioName)) throw new Error(`unknown scenario "${n}" (one of ${SCENARIOS.join(', ')})`);
  return { selected: names.length ? SCENARIOS.filter((s) => names.includes(s)) : [...SCENARIOS], reportOnly };
}

function readResults(): Results {
  return existsSync(RESULTS_FILE) ? (JSON.parse(readFileSync(RESULTS_FILE, 'utf8')) as Results) : {};
}

async function main(): Promise<number> {
  const { selected, reportOnly } = parseArgs(process.argv.slice(2));
  if (reportOnly) {
    writeFileSync(REPORT_FILE, renderReport(readResults()));
    console.log(`wrote ${path.relative(process.cwd(), REPORT_FILE)} from ${path.relative(process.cwd(), RESULTS_FILE)}`);
    return 0;
  }
  // The SDK's and Core's own logs: warnings and errors only.
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const log = (line: string) => console.log(line);
  const began = performance.now();
  const machine = await describeMachine();
  log(`clipflow bench: ${selected.join(', ')} — ${machine.nproc} CPUs (${machine.cpuModel}), ${machine.memoryGiB} GiB, node ${machine.node}, load ${machine.loadAverageAtStart}`);
  const bench = await startBench(log);
  const results = readResults();
  const run: Record<ScenarioName, () => Promise<unknown>> = {
    overhead: () => runOverhead(bench, log),
    throughput: () => runThroughput(bench, log),
    crash: () => runCrash(bench, log),
    large: () => runLarge(bench, log),
  };
  let failed = false;
  try {
    for (const name of selected) {
      log(`\n== ${name}`);
      const t = performance.now();
      const record: ScenarioRecord = { ranAt: new Date().toISOString(), durationS: 0, machine };
      try {
        record.result = await run[name]();
      } catch (err) {
        failed = true;
        record.error = err instanceof Error ? (err.stack ?? err.message) : String(err);
        log(`  FAILED: ${record.error}`);
      }
      record.durationS = Math.round((performance.now() - t) / 100) / 10;
      log(`  (${record.durationS} s)`);
      const previous = results[name];
      if (record.result !== undefined || !previous) {
        if (previous?.result !== undefined) {
          record.earlier = [{ ranAt: previous.ranAt, summary: summaryLines({ [name]: previous }, [name]).slice(1) }, ...(previous.earlier ?? [])].slice(0, 5);
        }
        results[name] = record;
      }
    }
  } finally {
    await bench.close();
  }
  writeFileSync(RESULTS_FILE, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(REPORT_FILE, renderReport(results));
  log(`\n${summaryLines(results, selected).join('\n')}`);
  log(`\nwrote ${path.relative(process.cwd(), REPORT_FILE)} and ${path.relative(process.cwd(), RESULTS_FILE)} (${((performance.now() - began) / 1000).toFixed(0)} s in all)`);
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(2);
  },
);
