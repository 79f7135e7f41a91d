/**
 * A newcomer's first run: no Temporal CLI on the machine. Provisioning says what it does and how
 * long that takes before each slow step, tries the Temporal SDK's download first, then builds with
 * Go. The download is made to fail at once through a proxy that refuses connections (reqwest in the
 * SDK honours HTTPS_PROXY), so the build path runs on any machine; a stand-in `go` on PATH "builds"
 * by linking the real CLI after a pause, so no test waits four minutes for a real build.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, realpath, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../src/dev-server/ports.js';
import { provisionTemporalCli } from '../src/dev-server/temporal-cli.js';
import { spawnTsx } from './support/tsx-process.js';
import { until } from './support/wait.js';

const run = promisify(execFile);

/** Stands in for `go install github.com/temporalio/cli/cmd/temporal@v1.5.1`. */
function fakeGo(realCli: string, seconds: number): string {
  return `#!/bin/sh
echo "$*" >> "$(dirname "$0")/go.calls"
echo "go: downloading github.com/temporalio/cli v1.5.1" >&2
sleep ${seconds}
mkdir -p "$GOBIN" && ln -s '${realCli}' "$GOBIN/temporal"
`;
}

let realCli = '';
/** PATH without any `temporal` or `go`, so only what a test puts first is found. */
let barePath = '';

beforeAll(async () => {
  realCli = await realpath(await provisionTemporalCli());
  barePath = (process.env.PATH ?? '')
    .split(':')
    .filter((dir) => dir && !existsSync(path.join(dir, 'temporal')) && !existsSync(path.join(dir, 'go')))
    .join(':');
});

// The dev server and the example's image server are on this machine, never behind the proxy.
const LOCAL = '127.0.0.1,localhost';

/** An environment with no Temporal CLI anywhere, an empty cache, no internet for the download, and `go` from `bin`. */
async function firstRunEnv(bin: string | undefined): Promise<{ env: NodeJS.ProcessEnv; cacheDir: string }> {
  const cacheDir = await mkdtemp(path.join(os.tmpdir(), 'clipflow-cache-'));
  const refused = `http://127.0.0.1:${await freePort()}`;
  const { TEMPORAL_CLI_PATH: _cli, TEMPORAL_ADDRESS: _address, NO_PROXY: _np, no_proxy: _np2, ...rest } = process.env;
  return {
    cacheDir,
    env: {
      ...rest,
      PATH: bin ? `${bin}:${barePath}` : barePath,
      CLIPFLOW_CACHE_DIR: cacheDir,
      HTTPS_PROXY: refused,
      https_proxy: refused,
      NO_PROXY: LOCAL,
      no_proxy: LOCAL,
    },
  };
}

async function fakeGoBin(seconds: number): Promise<string> {
  const bin = await mkdtemp(path.join(os.tmpdir(), 'clipflow-fake-go-'));
  await writeFile(path.join(bin, 'go'), fakeGo(realCli, seconds), { mode: 0o755 });
  return bin;
}

/** Index of the first line matching `pattern`, failing with the whole output when none does. */
function lineIndex(lines: string[], pattern: RegExp): number {
  const i = lines.findIndex((l) => pattern.test(l));
  if (i < 0) throw new Error(`no line matches ${pattern} in:\n${lines.join('\n')}`);
  return i;
}

describe('provisioning the Temporal CLI on a first run', () => {
  it('says what it does and how long it takes, tries the download first, then builds with Go, showing progress', async () => {
    const bin = await fakeGoBin(2);
    const { env, cacheDir } = await firstRunEnv(bin);
    const lines: { at: number; line: string }[] = [];
    const started = Date.now();
    const cli = await provisionTemporalCli({ env, log: (line) => lines.push({ at: Date.now(), line }), progressEveryMs: 500 });
    const returned = Date.now();
    const text = lines.map((l) => l.line);

    expect(cli).toBe(path.join(cacheDir, 'temporal-cli-v1.5.1', 'temporal'));
    expect(await realpath(cli)).toBe(realCli);
    expect((await run(cli, ['--version'])).stdout).toMatch(/^temporal version .*\(Server 1\.\d+/);
    expect(await readFile(path.join(bin, 'go.calls'), 'utf8')).toBe('install github.com/temporalio/cli/cmd/temporal@v1.5.1\n');

    const download = lineIndex(
      text,
      /^no Temporal CLI on this machine yet: downloading the official v1\.5\.1 through the Temporal SDK into .*\(seconds; needs internet\)$/,
    );
    const failed = lineIndex(text, /^the download failed \(.*Connection refused.*\), so the Go build follows$/);
    const building = lineIndex(
      text,
      /^ {2}building the Temporal CLI v1\.5\.1 from source with Go into .*\(once; about 4 minutes on 2 cores\)$/,
    );
    const goLine = lineIndex(text, /^ {2}go: downloading github\.com\/temporalio\/cli v1\.5\.1$/);
    const progress = lineIndex(text, /^ {2}… still building the Temporal CLI \(about 4 minutes in all\): \d+ s so far$/);
    expect(download).toBe(0);
    expect([download, failed, building, goLine, progress]).toEqual(
      [...[download, failed, building, goLine, progress]].sort((a, b) => a - b),
    );
    // Without internet the download gives up at once instead of hanging.
    expect(lines[failed]!.at - started).toBeLessThan(10_000);
    // The build's duration is announced before the (2 s) build, not after it.
    expect(returned - lines[building]!.at).toBeGreaterThanOrEqual(1_500);

    // The next run finds the cached build: nothing downloaded, nothing built, nothing said.
    const again: string[] = [];
    expect(await provisionTemporalCli({ env, log: (line) => again.push(line) })).toBe(cli);
    expect(again).toEqual([]);
    expect((await readFile(path.join(bin, 'go.calls'), 'utf8')).split('\n').filter(Boolean)).toHaveLength(1);
  });

  it('names both ways out when the download fails and there is no Go', async () => {
    const { env } = await firstRunEnv(undefined);
    await expect(provisionTemporalCli({ env, log: () => {} })).rejects.toThrow(
      /^no Temporal CLI: the download failed and no Go toolchain to build the Temporal CLI v1\.5\.1 with\. Install Go, or set TEMPORAL_CLI_PATH/,
    );
  });

  it('npm start on a first run prints what it is doing and how long it takes before the build, then runs the job on the CLI it built', async () => {
    const bin = await fakeGoBin(3);
    const { env, cacheDir } = await firstRunEnv(bin);
    const work = await mkdtemp(path.join(os.tmpdir(), 'clipflow-first-run-'));
    const start = spawnTsx(
      'src/start.ts',
      {
        ...env,
        OUTPUT_DIR: path.join(work, 'outputs'),
        CLIPFLOW_DATA_DIR: path.join(work, 'data'),
        TEMPORAL_UI_PORT: String(await freePort()),
      },
      { captureOutput: true, ownGroup: true },
    );
    try {
      // The job was submitted to a dev server running the CLI that was just built.
      await until('the job on the dev server', () => start.stderr().includes('Web UI: ') || start.child.exitCode !== null, 120_000, 200);
      const lines = start.stderr().split('\n');
      const order = [
        lineIndex(lines, /^starting the Temporal dev server/),
        lineIndex(lines, /^no Temporal CLI on this machine yet: downloading the official v1\.5\.1 .*\(seconds; needs internet\)$/),
        lineIndex(lines, /^the download failed \(/),
        lineIndex(lines, /^ {2}building the Temporal CLI v1\.5\.1 from source with Go .*\(once; about 4 minutes on 2 cores\)$/),
        lineIndex(lines, /^ {2}go: downloading github\.com\/temporalio\/cli v1\.5\.1$/),
        lineIndex(lines, /^job music-video-\S+: 6 clips, provider local$/),
      ];
      expect(order).toEqual([...order].sort((a, b) => a - b));
      expect(await realpath(path.join(cacheDir, 'temporal-cli-v1.5.1', 'temporal'))).toBe(realCli);
    } finally {
      await start.kill();
    }
  });
});
