/** The benchmark's shared setup: a real dev server, the workflow bundle, the sample clip, workers in and out of process. */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, DefaultLogger, type Worker } from '@temporalio/worker';
import { createClipflowClient, type ClipflowClient } from '../src/client.js';
import { loadConfig, type Config } from '../src/config/index.js';
import { startDevServer, type DevServer } from '../src/dev-server/start-dev-server.js';
import type { VideoFacts } from '../src/media/probe.js';
import { createClipflowWorker, WORKFLOWS_PATH } from '../src/worker.js';
import type { WorkerSpec } from './child-spec.js';
import { benchDeps, type BenchDeps } from './instrument.js';
import { renderSampleClip } from './sample-clip.js';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface Bench {
  root: string;
  server: DevServer;
  bundleCode: string;
  bundlePath: string;
  sample: string;
  sampleFacts: VideoFacts;
  startup: { serverMs: number; bundleMs: number; sampleMs: number };
  close(): Promise<void>;
}

export async function startBench(log: (line: string) => void): Promise<Bench> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'clipflow-bench-'));
  let t = performance.now();
  const server = await startDevServer();
  const serverMs = performance.now() - t;
  log(`dev server at ${server.address} (${(serverMs / 1000).toFixed(1)} s)`);
  t = performance.now();
  const bundle = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') });
  const bundlePath = path.join(root, 'workflow-bundle.js');
  await writeFile(bundlePath, bundle.code);
  const bundleMs = performance.now() - t;
  log(`workflow bundle ${(bundle.code.length / 1024).toFixed(0)} KiB (${(bundleMs / 1000).toFixed(1)} s)`);
  t = performance.now();
  const sample = await renderSampleClip(path.join(root, 'sample'), loadConfig({}).generation);
  const sampleMs = performance.now() - t;
  log(
    `sample clip ${sample.facts.width}x${sample.facts.height}, ${sample.facts.durationS} s, ${sample.facts.sizeBytes} B (${(sampleMs / 1000).toFixed(1)} s)`,
  );
  return {
    root,
    server,
    bundleCode: bundle.code,
    bundlePath,
    sample: sample.file,
    sampleFacts: sample.facts,
    startup: { serverMs, bundleMs, sampleMs },
    async close() {
      await server.stop();
      await rm(root, { recursive: true, force: true });
    },
  };
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/**
 * The environment a worker's loadConfig() reads: the development defaults (local model, priced at
 * zero; the default retry policy and heartbeat timeout) in a scratch directory, plus `extra`.
 */
export async function configEnv(bench: Bench, name: string, extra: Record<string, string> = {}): Promise<Record<string, string>> {
  const dir = path.join(bench.root, name);
  await mkdir(dir, { recursive: true });
  return { OUTPUT_DIR: path.join(dir, 'outputs'), CLIPFLOW_DATA_DIR: path.join(dir, 'data'), LOG_LEVEL: 'WARN', ...extra };
}

export { clipPrompts } from './prompts.js';

export interface InProcessWorker {
  config: Config;
  taskQueue: string;
  bd: BenchDeps;
  worker: Worker;
  clipflow: ClipflowClient;
  stop(): Promise<void>;
}

/** A worker in this process on its own task queue, running until stop(). */
export async function inProcessWorker(
  bench: Bench,
  name: string,
  options: { latencyMs: number; pollIntervalMs: number; env?: Record<string, string> },
): Promise<InProcessWorker> {
  const config = loadConfig(await configEnv(bench, name, options.env));
  const taskQueue = uniqueName(`bench-${name}`);
  const bd = await benchDeps(config, { latencyMs: options.latencyMs, sampleFile: bench.sample }, options.pollIntervalMs);
  const worker = await createClipflowWorker({
    config,
    connection: bench.server.env.nativeConnection,
    deps: bd.deps,
    workflowBundle: { code: bench.bundleCode },
    taskQueue,
  });
  const running = worker.run();
  return {
    config,
    taskQueue,
    bd,
    worker,
    clipflow: createClipflowClient(bench.server.env.client, { taskQueue }),
    async stop() {
      worker.shutdown();
      await running;
      await bd.deps.close();
      await rm(config.outputDir, { recursive: true, force: true });
    },
  };
}

export interface ChildLine {
  event: string;
  at: number;
  [key: string]: unknown;
}

export interface Child {
  process: ChildProcess;
  pid: number;
  lines: ChildLine[];
  exited: Promise<number | null>;
  waitFor(what: string, check: (lines: ChildLine[]) => boolean, timeoutMs?: number): Promise<void>;
}

const live = new Set<ChildProcess>();
// A benchmark that fails part-way leaves no worker behind.
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Runs a bench script in a child process; it reports by JSON lines on stdout. */
export function spawnScript(script: string, spec: unknown): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO, 'bench', script)], {
    cwd: REPO,
    env: { ...process.env, BENCH_SPEC: JSON.stringify(spec) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  const lines: ChildLine[] = [];
  const waiters = new Set<() => void>();
  let buffer = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    buffer += chunk;
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      const text = buffer.slice(0, nl).trim();
      buffer = buffer.slice(nl + 1);
      if (!text.startsWith('{')) continue;
      try {
        lines.push(JSON.parse(text) as ChildLine);
      } catch {
        continue;
      }
      for (const wake of waiters) wake();
    }
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      for (const wake of waiters) wake();
      resolve(code);
    }),
  );
  let done = false;
  void exited.then(() => (done = true));
  return {
    process: child,
    pid: child.pid!,
    lines,
    exited,
    waitFor(what, check, timeoutMs = 120_000) {
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => finish(new Error(`timed out waiting for ${what}`)), timeoutMs);
        const finish = (err?: Error) => {
          clearTimeout(timer);
          waiters.delete(test);
          if (err) reject(err);
          else resolve();
        };
        const test = () => {
          if (check(lines)) finish();
          else if (done || child.exitCode !== null) finish(new Error(`child exited while waiting for ${what}`));
        };
        waiters.add(test);
        test();
      });
    },
  };
}

/** A value from /proc/<pid>/status, in KiB (VmHWM is the peak resident set size). */
export function procStatusKb(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
  return match ? Number(match[1]) : Number.NaN;
}

/**
 * CPU time (user + system) a process has used so far, in ms; with `children`, also that of its
 * exited children (ffprobe runs).
 */
export function cpuMs(pid: number, children = false): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields after the command: state is [0], utime [11], stime [12], cutime [13], cstime [14], in clock ticks (100 Hz).
    const own = Number(fields[11]) + Number(fields[12]);
    return (children ? own + Number(fields[13]) + Number(fields[14]) : own) * 10;
  } catch {
    return Number.NaN;
  }
}

/** User and system CPU time of a process so far, in ms (system time includes the kernel's work for fork()). */
export function cpuSplitMs(pid: number): { userMs: number; systemMs: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { userMs: Number(fields[11]) * 10, systemMs: Number(fields[12]) * 10 };
  } catch {
    return { userMs: Number.NaN, systemMs: Number.NaN };
  }
}

/** The pids whose parent is `pid` (to find the dev server this process started). */
export function childPids(pid: number): { pid: number; command: string }[] {
  const out: { pid: number; command: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push({ pid: Number(entry), command: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) });
    } catch {}
  }
  return out;
}

/** The dev server process (the Temporal CLI this process started). */
export function devServerPid(): number | undefined {
  return childPids(process.pid).find((c) => c.command.startsWith('temporal'))?.pid;
}

export interface ChildWorkerOptions {
  taskQueue: string;
  latencyMs: number;
  pollIntervalMs: number;
  configEnv: Record<string, string>;
  stateFile?: string;
  createsLog?: string;
}

/** A clipflow worker in a child process (bench/worker-process.ts); resolves once it polls. */
export async function spawnWorker(bench: Bench, options: ChildWorkerOptions): Promise<Child & { spawnedAt: number; readyAt: number }> {
  const spec: WorkerSpec = {
    configEnv: options.configEnv,
    address: bench.server.address,
    taskQueue: options.taskQueue,
    bundlePath: bench.bundlePath,
    latencyMs: options.latencyMs,
    pollIntervalMs: options.pollIntervalMs,
    sampleFile: bench.sample,
    ...(options.stateFile ? { stateFile: options.stateFile } : {}),
    ...(options.createsLog ? { createsLog: options.createsLog } : {}),
  };
  const spawnedAt = Date.now();
  const child = spawnScript('worker-process.ts', spec);
  await child.waitFor('the worker to be ready', (lines) => lines.some((l) => l.event === 'ready'));
  return Object.assign(child, { spawnedAt, readyAt: child.lines.find((l) => l.event === 'ready')!.at });
}

/** Asks a child to stop (SIGTERM) and waits for it to exit. */
export async function stopChild(child: Child): Promise<void> {
  if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGTERM');
  await child.exited;
}

/** The 1, 5 and 15 minute load averages, rounded to two decimals. */
export function loadAverage(): [number, number, number] {
  const [one = Number.NaN, five = Number.NaN, fifteen = Number.NaN] = os.loadavg().map((x) => Math.round(x * 100) / 100);
  return [one, five, fifteen];
}
