import { spawn, type ChildProcess } from 'node:child_process';

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Date.now() when it exited. */
  at: number;
}

export interface TsxProcess {
  child: ChildProcess;
  pid: number;
  exited: Promise<ChildExit>;
  /** What it printed so far (empty unless captured). */
  stdout(): string;
  stderr(): string;
  /** stdout and stderr as they came, interleaved. */
  output(): string;
  /** SIGKILL (to its whole process group with `ownGroup`), unless it has exited already; resolves once it has. */
  kill(): Promise<ChildExit>;
}

/**
 * A TypeScript file of this repository run by node with tsx, in its own process. With
 * `captureOutput` its stdout and stderr are kept for the test; otherwise they go to the test's own.
 * With `ownGroup` it leads a process group of its own, so that kill() also ends the processes it
 * started (a dev server, ffmpeg).
 */
export function spawnTsx(
  script: string,
  env: NodeJS.ProcessEnv,
  { captureOutput = false, ownGroup = false, args = [] as string[] } = {},
): TsxProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    env,
    stdio: ['ignore', captureOutput ? 'pipe' : 'inherit', captureOutput ? 'pipe' : 'inherit'],
    detached: ownGroup,
  });
  let stdout = '';
  let stderr = '';
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
    output += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
    output += chunk.toString('utf8');
  });
  const exited = new Promise<ChildExit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })));
  return {
    child,
    pid: child.pid!,
    exited,
    stdout: () => stdout,
    stderr: () => stderr,
    output: () => output,
    kill: () => {
      if (ownGroup) {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // the group is gone already
        }
      } else if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      return exited;
    },
  };
}
