import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const SCRIPT = path.resolve(here, '../../scripts/provision-temporal.sh');
const DOWNLOAD = path.resolve(here, '../../scripts/download-temporal-cli.mjs');

/** The Temporal CLI release clipflow runs, downloaded or built (scripts/provision-temporal.sh pins the same). */
export const TEMPORAL_CLI_VERSION = 'v1.5.1';

export interface ProvisionOptions {
  /** A binary to use as it is (TEMPORAL_CLI_PATH). */
  cliPath?: string;
  /** The environment the provisioning runs in: PATH, CLIPFLOW_CACHE_DIR, proxies. */
  env?: NodeJS.ProcessEnv;
  /** Where progress lines go; stderr when omitted. */
  log?: (line: string) => void;
  /** How often a slow step says it is still going. */
  progressEveryMs?: number;
}

/**
 * The path of the Temporal CLI: one already on this machine (TEMPORAL_CLI_PATH, PATH, the cache),
 * else the official release downloaded by the Temporal SDK (seconds, needs internet), else a Go
 * build into the cache (minutes). Each slow step says first what it does and how long it takes,
 * then how long it has been going.
 */
export async function provisionTemporalCli(options: ProvisionOptions = {}): Promise<string> {
  const env = { ...(options.env ?? process.env), ...(options.cliPath ? { TEMPORAL_CLI_PATH: options.cliPath } : {}) };
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const every = options.progressEveryMs ?? 15_000;

  const found = await script('find', env);
  if (found) return found;

  const cacheDir = (await script('dir', env))!;
  log(
    `no Temporal CLI on this machine yet: downloading the official ${TEMPORAL_CLI_VERSION} through the Temporal SDK into ${cacheDir} (seconds; needs internet)`,
  );
  const download = await runWithProgress(process.execPath, [DOWNLOAD, cacheDir, TEMPORAL_CLI_VERSION], {
    env,
    log,
    every,
    doing: 'downloading the Temporal CLI',
    timeoutMs: 5 * 60_000,
  });
  if (download.code === 0 && download.stdout) {
    log(`downloaded the Temporal CLI to ${download.stdout}`);
    return download.stdout;
  }
  log(`the download failed (${download.lastLine || `exit code ${download.code}`}), so the Go build follows`);

  const build = await runWithProgress('bash', [SCRIPT, 'build'], {
    env,
    log,
    every,
    doing: 'building the Temporal CLI (about 4 minutes in all)',
    timeoutMs: 30 * 60_000,
    // The script says what it builds and how long that takes; go's own lines follow as they come.
    echo: true,
  });
  if (build.code === 0 && build.stdout) return build.stdout;
  throw new Error(
    build.code === 3
      ? `no Temporal CLI: the download failed and ${build.lastLine}. Install Go, or set TEMPORAL_CLI_PATH to a temporal binary`
      : `could not build the Temporal CLI (exit code ${build.code}): ${build.lastLine}`,
  );
}

/** The dev server executable in the shape TestWorkflowEnvironment.createLocal takes. */
export type DevServerExecutable = { type: 'existing-path'; path: string };

/** provisionTemporalCli's path, as createLocal's `executable` (for callers that pass it on as it is). */
export async function devServerExecutable(cliPath?: string): Promise<DevServerExecutable> {
  return { type: 'existing-path', path: await provisionTemporalCli(cliPath ? { cliPath } : {}) };
}

/** One subcommand of scripts/provision-temporal.sh: its path on stdout, or undefined on exit 3. */
async function script(command: 'find' | 'dir', env: NodeJS.ProcessEnv): Promise<string | undefined> {
  try {
    const { stdout } = await run('bash', [SCRIPT, command], { env });
    return stdout.trim().split('\n').pop() || undefined;
  } catch (err) {
    if ((err as { code?: number }).code === 3) return undefined;
    throw new Error(`could not look for the Temporal CLI: ${((err as { stderr?: string }).stderr ?? '').trim() || (err as Error).message}`);
  }
}

interface Finished {
  code: number | null;
  /** The last line of stdout (a path). */
  stdout: string;
  /** The last line of stderr, to say why it failed. */
  lastLine: string;
}

/**
 * Runs a slow child: its stderr lines are shown as they come (with `echo`), and every `every` ms
 * without an end a line says how long it has been `doing` it.
 */
function runWithProgress(
  command: string,
  args: string[],
  opts: { env: NodeJS.ProcessEnv; log: (line: string) => void; every: number; doing: string; timeoutMs: number; echo?: boolean },
): Promise<Finished> {
  const started = Date.now();
  const child = spawn(command, args, { env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let partial = '';
  let lastLine = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString('utf8')).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines.filter((l) => l.trim())) {
      lastLine = line.trim();
      if (opts.echo) opts.log(`  ${line}`);
    }
  });
  const ticker = setInterval(() => opts.log(`  … still ${opts.doing}: ${elapsed(Date.now() - started)} so far`), opts.every);
  const timeout = setTimeout(() => child.kill('SIGTERM'), opts.timeoutMs);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearInterval(ticker);
      clearTimeout(timeout);
      if (partial.trim()) lastLine = partial.trim();
      if (signal) lastLine = `stopped by ${signal} after ${elapsed(Date.now() - started)}`;
      resolve({ code, stdout: stdout.trim().split('\n').pop() ?? '', lastLine });
    });
  });
}

function elapsed(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}
