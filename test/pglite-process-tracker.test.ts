/**
 * The embedded tracker runs in a process of its own: what it records survives that process being
 * SIGKILLed (the next call starts a new one) and the worker being SIGKILLed (its tracker process
 * ends with it, and the next worker opens the same ledger).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createCostTracker } from '../src/cost/create-tracker.js';
import type { MicroUsd } from '../src/shared/money.js';
import { spawnTsx } from './support/tsx-process.js';
import { until } from './support/wait.js';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function dataDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'clipflow-pglite-process-'));
  dirs.push(dir);
  return dir;
}

/** Living processes whose parent is `pid`, with their command lines. */
function childrenOf(pid: number): { pid: number; cmdline: string }[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .flatMap((e) => {
      try {
        const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
        if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) !== pid) return [];
        return [{ pid: Number(e), cmdline: readFileSync(`/proc/${e}/cmdline`, 'utf8').replaceAll('\0', ' ') }];
      } catch {
        return [];
      }
    });
}

const trackerProcesses = (parent: number) => childrenOf(parent).filter((c) => c.cmdline.includes('pglite-process-main'));
/** Running, not a zombie waiting to be reaped. */
const isAlive = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
};
const entry = (clipIndex: number, key: string) => ({ jobId: 'job', stage: 'video', clipIndex, key, amountMicroUsd: 5 as MicroUsd });

describe('the embedded cost tracker in its own process', () => {
  it('runs PGlite with --liftoff-only outside this process, outlives SIGINT, and keeps what it recorded when SIGKILLed', async () => {
    const dir = await dataDir();
    const tracker = await createCostTracker({ dataDir: dir });
    try {
      expect(await tracker.record(entry(0, 'a'))).toBe(true);
      const [child] = trackerProcesses(process.pid);
      expect(child?.cmdline).toContain('--liftoff-only');
      // Ctrl-C reaches the whole process group; the tracker stays for the worker's last records.
      process.kill(child!.pid, 'SIGINT');
      expect(await tracker.record(entry(2, 'c'))).toBe(true);
      process.kill(child!.pid, 'SIGKILL');
      await until('the tracker process to die', () => !isAlive(child!.pid));
      // A call sent as the process dies fails (an activity would retry it); then a new tracker
      // process opens the same ledger.
      const retried = () => tracker.record(entry(0, 'a')).catch(() => tracker.record(entry(0, 'a')));
      expect(await retried()).toBe(false);
      expect(await tracker.record(entry(1, 'b'))).toBe(true);
      expect(await tracker.getTotalCost('job')).toBe(15);
      expect(trackerProcesses(process.pid).map((c) => c.pid)).not.toContain(child!.pid);
    } finally {
      await tracker.close();
    }
    expect(trackerProcesses(process.pid)).toEqual([]);
  });

  it('ends with a SIGKILLed worker, and the next worker, started at once, reads the same ledger', async () => {
    const dir = await dataDir();
    const holder = spawnTsx(path.join(import.meta.dirname, 'support', 'pglite-tracker-holder.ts'), process.env, {
      captureOutput: true,
      args: [dir],
    });
    await until('the holder to record', () => holder.stdout().includes('recorded'), 60_000);
    const [child] = trackerProcesses(holder.pid);
    expect(child).toBeDefined();
    await holder.kill();
    // Started at once, as a restarted worker would be: it waits for the orphaned tracker process to let go.
    const tracker = await createCostTracker({ dataDir: dir });
    expect(isAlive(child!.pid)).toBe(false);
    try {
      expect(await tracker.entries('holder')).toEqual([expect.objectContaining({ key: 'a', amountMicroUsd: 7 })]);
    } finally {
      await tracker.close();
    }
  });
});
