import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * What one ffmpeg or ffprobe run may take. A malformed input can make either spin at full CPU and
 * grow without end (a corrupt PNG looped into a filter graph takes 1.5 GB in 20 s); these stop it.
 */
export interface MediaLimits {
  /** Killed after this long. */
  timeoutMs: number;
  /**
   * Killed once its resident memory passes this. Read from /proc/<pid>/status every
   * MEMORY_POLL_MS, so Linux only (where workers run); elsewhere maxAllocBytes still holds.
   */
  maxRssBytes: number;
  /** ffmpeg's own -max_alloc: no single buffer larger, so a decompression bomb's frame fails to allocate. */
  maxAllocBytes: number;
}

export const DEFAULT_MEDIA_LIMITS: MediaLimits = {
  timeoutMs: 300_000,
  maxRssBytes: 2 * 1024 ** 3,
  maxAllocBytes: 256 * 1024 ** 2,
};

const MEMORY_POLL_MS = 200;
/** What is kept of stderr for messages: the end, where ffmpeg says what went wrong. */
const STDERR_TAIL = 2000;

/** The run was killed at one of its limits. */
export class MediaLimitError extends Error {
  override readonly name = 'MediaLimitError';
  constructor(
    readonly tool: string,
    readonly limit: 'time' | 'memory',
    message: string,
  ) {
    super(message);
  }
}

export interface MediaRunOptions {
  /** Kills the run (SIGKILL); the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Runs ffmpeg or ffprobe with its arguments (never through a shell) under `limits`, resolving with
 * its stdout once it exits 0. Kills are SIGKILL: ffmpeg stuck in a decode loop ignores SIGTERM.
 */
export function runMedia(
  binary: string,
  args: readonly string[],
  limits: MediaLimits,
  options: MediaRunOptions = {},
): Promise<{ stdout: string; stderr: string }> {
  const tool = path.basename(binary);
  return new Promise((resolve, reject) => {
    const { signal } = options;
    if (signal?.aborted) return reject(signal.reason);
    const child = spawn(binary, ['-max_alloc', String(limits.maxAllocBytes), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let failure: Error | undefined;
    const kill = (reason: Error) => {
      failure ??= reason;
      child.kill('SIGKILL');
    };
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-STDERR_TAIL)));

    const timer = setTimeout(
      () => kill(new MediaLimitError(tool, 'time', `${tool} was killed after running for ${limits.timeoutMs} ms (its time limit)`)),
      limits.timeoutMs,
    );
    const memory = process.platform === 'linux' ? watchMemory(child.pid, limits.maxRssBytes, tool, kill) : undefined;
    const onAbort = () => kill(signal?.reason instanceof Error ? signal.reason : new Error(`${tool} was cancelled`));
    signal?.addEventListener('abort', onAbort, { once: true });

    const settle = () => {
      clearTimeout(timer);
      if (memory) clearInterval(memory);
      signal?.removeEventListener('abort', onAbort);
    };
    child.once('error', (err) => {
      failure ??= err;
    });
    child.once('exit', () => {
      if (!failure) return; // an ordinary exit: 'close' follows once its output is read
      // Killed: done now, even if a process it started still holds its stdout open.
      settle();
      child.stdout.destroy();
      child.stderr.destroy();
      reject(failure);
    });
    child.once('close', (code, killedBy) => {
      settle();
      if (failure) return reject(failure);
      if (code === 0) return resolve({ stdout, stderr });
      reject(new Error(`${tool} exited with ${code ?? killedBy}: ${stderr.trim()}`));
    });
  });
}

function watchMemory(
  pid: number | undefined,
  maxRssBytes: number,
  tool: string,
  kill: (reason: Error) => void,
): NodeJS.Timeout | undefined {
  if (pid === undefined) return undefined;
  let reading = false;
  const timer = setInterval(() => {
    if (reading) return;
    reading = true;
    void residentBytes(pid)
      .then((rss) => {
        if (rss !== undefined && rss > maxRssBytes) {
          kill(
            new MediaLimitError(tool, 'memory', `${tool} was killed using ${mib(rss)} of memory, over its limit of ${mib(maxRssBytes)}`),
          );
        }
      })
      .finally(() => {
        reading = false;
      });
  }, MEMORY_POLL_MS);
  timer.unref();
  return timer;
}

/** VmRSS from /proc/<pid>/status, or undefined once the process is gone. */
async function residentBytes(pid: number): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kib = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
    return kib === undefined ? undefined : Number(kib) * 1024;
  } catch {
    return undefined;
  }
}

function mib(bytes: number): string {
  return `${Math.round(bytes / 1024 ** 2)} MiB`;
}
