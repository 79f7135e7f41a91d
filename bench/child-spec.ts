/** What the parent tells a child-process worker or pool (as JSON in BENCH_SPEC). */

export interface ProviderSpec {
  latencyMs: number;
  pollIntervalMs: number;
  sampleFile: string;
  stateFile?: string;
  createsLog?: string;
}

export interface WorkerSpec extends ProviderSpec {
  /** What the worker's loadConfig() reads. */
  configEnv: Record<string, string>;
  address: string;
  taskQueue: string;
  bundlePath: string;
}

export interface PoolSpec extends ProviderSpec {
  configEnv: Record<string, string>;
  jobId: string;
  clips: number;
  concurrency: number;
}

export function readSpec<T>(): T {
  const text = process.env.BENCH_SPEC;
  if (!text) throw new Error('BENCH_SPEC is required');
  return JSON.parse(text) as T;
}

/** One JSON line on stdout for the parent. */
export function emit(event: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ event, at: Date.now(), pid: process.pid, ...fields })}\n`);
}
