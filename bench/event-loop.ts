/** How long the main thread was blocked: the event-loop delay. */
import { monitorEventLoopDelay } from 'node:perf_hooks';

export interface LoopDelay {
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export function startLoopMonitor(): { stop(): LoopDelay; histogram: ReturnType<typeof monitorEventLoopDelay> } {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  return {
    histogram,
    stop() {
      histogram.disable();
      const ms = (ns: number) => ns / 1e6;
      return {
        meanMs: ms(histogram.mean),
        p50Ms: ms(histogram.percentile(50)),
        p99Ms: ms(histogram.percentile(99)),
        maxMs: ms(histogram.max),
      };
    },
  };
}
