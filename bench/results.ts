/** The shape of bench/results.json: one `npm run bench`, every scenario it ran, nothing merged from earlier runs. */
import type { VideoFacts } from '../src/media/probe.js';
import type { Machine } from './machine.js';
import type { CrashResult } from './scenarios/crash.js';
import type { LargeResult } from './scenarios/large.js';
import type { OverheadResult } from './scenarios/overhead.js';
import type { ScaleResult } from './scenarios/scale.js';
import type { ThroughputResult } from './scenarios/throughput.js';

export const SCENARIOS = ['overhead', 'throughput', 'crash', 'large', 'scale'] as const;
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
    scale?: ScenarioRecord<ScaleResult>;
  };
}
