/**
 * The shape of bench/results.json: the scenarios of the latest `npm run bench`, and those it did not
 * run kept from earlier runs (each record carries its own start time and load).
 */
import type { VideoFacts } from '../src/media/probe.js';
import type { Machine } from './machine.js';
import type { CrashResult } from './scenarios/crash.js';
import type { LargeResult } from './scenarios/large.js';
import type { MemoryResult } from './scenarios/memory.js';
import type { OverheadResult } from './scenarios/overhead.js';
import type { ScaleResult } from './scenarios/scale.js';
import type { ThroughputResult } from './scenarios/throughput.js';

export const SCENARIOS = ['overhead', 'throughput', 'crash', 'large', 'memory', 'scale'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

/** os.loadavg(): the 1, 5 and 15 minute load averages. */
export type LoadAverage = [number, number, number];

export interface ScenarioRecord<R> {
  startedAt: string;
  durationS: number;
  /** The load average as the scenario started and as it ended. */
  load: { start: LoadAverage; end: LoadAverage };
  result?: R;
  /** Set instead of `result` when the scenario failed. */
  error?: string;
}

export interface BenchResults {
  /** When the latest run began; a scenario kept from an earlier run says when it ran. */
  ranAt: string;
  durationS: number;
  machine: Machine;
  settings: {
    /** How often every clip activity in the bench polls the provider. */
    pollIntervalMs: number;
    /** What a worker on Replicate polls at when REPLICATE_POLL_INTERVAL_MS is unset. */
    replicateDefaultPollIntervalMs: number;
  };
  /** The clip every prediction hands out, as ffprobe read it. */
  sample: VideoFacts;
  scenarios: {
    overhead?: ScenarioRecord<OverheadResult>;
    throughput?: ScenarioRecord<ThroughputResult>;
    crash?: ScenarioRecord<CrashResult>;
    large?: ScenarioRecord<LargeResult>;
    memory?: ScenarioRecord<MemoryResult>;
    scale?: ScenarioRecord<ScaleResult>;
  };
}
