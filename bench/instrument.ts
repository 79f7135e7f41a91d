/** Builds activity dependencies the way the worker does, with the fixed-latency provider and timers around probe and cost tracker. */
import type { ActivityDeps } from '../src/activities/index.js';
import type { Config } from '../src/config/index.js';
import { createActivityDeps } from '../src/worker.js';
import { createFixedLatencyProvider, type FixedLatencyOptions, type FixedLatencyProvider } from './fixed-latency-provider.js';

export interface StepTimings {
  probeMs: number[];
  recordCostMs: number[];
}

export interface BenchDeps {
  deps: ActivityDeps & { close(): Promise<void> };
  provider: FixedLatencyProvider;
  steps: StepTimings;
  /** Provider and step timings so far, for the profile. */
  timings(): { pollLagMs: number[]; saveMs: number[]; probeMs: number[]; recordCostMs: number[] };
  resetTimings(): void;
}

/** `pollIntervalMs`: how often the activity asks the provider about a running prediction. */
export async function benchDeps(config: Config, provider: FixedLatencyOptions, pollIntervalMs: number): Promise<BenchDeps> {
  const base = await createActivityDeps(config);
  const fixed = createFixedLatencyProvider(provider);
  const steps: StepTimings = { probeMs: [], recordCostMs: [] };
  const deps: ActivityDeps & { close(): Promise<void> } = {
    ...base,
    provider: fixed,
    pollIntervalMs,
    // The real ffprobe and the real cost tracker, timed.
    probe: async (file) => {
      const began = performance.now();
      try {
        return await base.probe(file);
      } finally {
        steps.probeMs.push(performance.now() - began);
      }
    },
    costTracker: {
      ...base.costTracker,
      getTotalCost: (jobId) => base.costTracker.getTotalCost(jobId),
      entries: (jobId) => base.costTracker.entries(jobId),
      close: () => base.costTracker.close(),
      record: async (entry) => {
        const began = performance.now();
        try {
          return await base.costTracker.record(entry);
        } finally {
          steps.recordCostMs.push(performance.now() - began);
        }
      },
    },
  };
  return {
    deps,
    provider: fixed,
    steps,
    timings: () => ({ ...fixed.timings, ...steps }),
    resetTimings() {
      fixed.resetTimings();
      steps.probeMs.length = 0;
      steps.recordCostMs.length = 0;
    },
  };
}
