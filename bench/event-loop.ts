/** How long the main thread was blocked: the event-loop delay, and what one child-process spawn costs it. */
import { spawn } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { mediaBinaries } from '../src/media/binaries.js';

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
      return { meanMs: ms(histogram.mean), p50Ms: ms(histogram.percentile(50)), p99Ms: ms(histogram.percentile(99)), maxMs: ms(histogram.max) };
    },
  };
}

/** The time spawn() itself takes (synchronous fork/exec in the main thread) for ffprobe, median of `n`. */
export async function spawnBlockMs(n = 10): Promise<{ medianMs: number; rssMiB: number }> {
  const { ffprobe } = mediaBinaries();
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const began = performance.now();
    const child = spawn(ffprobe, ['-version'], { stdio: 'ignore' });
    times.push(performance.now() - began);
    await new Promise((resolve) => child.once('exit', resolve));
  }
  times.sort((a, b) => a - b);
  return { medianMs: times[Math.floor(n / 2)]!, rssMiB: process.memoryUsage().rss / 2 ** 20 };
}
