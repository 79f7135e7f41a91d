import { appendFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { CostEntry, CostTracker } from './tracker.js';

/**
 * A cost tracker in one append-only JSON-lines file: enough for a single machine. Appends are
 * serialised within the process; the file is re-read on every call so other processes' entries
 * count too.
 */
export function createFileCostTracker(file: string): CostTracker {
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = queue.then(fn, fn);
    queue = next.catch(() => undefined);
    return next;
  };

  async function readAll(): Promise<CostEntry[]> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    return text
      .split('\n')
      .filter((line) => line.trim())
      .map((line) => JSON.parse(line) as CostEntry);
  }

  const identity = (e: CostEntry) => JSON.stringify([e.jobId, e.stage, e.clipIndex, e.key]);

  return {
    async getTotalCost(jobId) {
      const entries = await readAll();
      return entries.filter((e) => e.jobId === jobId).reduce((sum, e) => sum + e.amountMicroUsd, 0);
    },
    record(entry) {
      return serial(async () => {
        const existing = await readAll();
        if (existing.some((e) => identity(e) === identity(entry))) return false;
        await mkdir(path.dirname(file), { recursive: true });
        await appendFile(file, `${JSON.stringify(entry)}\n`);
        return true;
      });
    },
    async entries(jobId) {
      return (await readAll()).filter((e) => e.jobId === jobId);
    },
    async close() {
      await queue;
    },
  };
}
