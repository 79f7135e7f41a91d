/** The machine and software the figures were measured on. */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { promisify } from 'node:util';
import { devServerExecutable } from '../src/dev-server/temporal-cli.js';
import { REPO } from './harness.js';

export interface Machine {
  date: string;
  nproc: number;
  memoryGiB: number;
  cpuModel: string;
  node: string;
  platform: string;
  temporalCli: string;
  temporalSdk: string;
}

export async function describeMachine(): Promise<Machine> {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const cpuModel = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
  let temporalCli = 'unknown';
  try {
    const exe = await devServerExecutable();
    if (exe.type === 'existing-path') {
      const { stdout } = await promisify(execFile)(exe.path, ['--version']);
      temporalCli = stdout.trim();
    } else {
      temporalCli = 'downloaded by the Temporal SDK';
    }
  } catch {
    /* unknown */
  }
  const sdk = JSON.parse(readFileSync(`${REPO}/node_modules/@temporalio/worker/package.json`, 'utf8')) as { version: string };
  return {
    date: new Date().toISOString(),
    nproc: os.availableParallelism(),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    cpuModel,
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    temporalCli,
    temporalSdk: sdk.version,
  };
}
