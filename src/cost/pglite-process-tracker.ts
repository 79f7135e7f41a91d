import { type ChildProcess, fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { MicroUsd } from '../shared/money.js';
import type { TrackerReply, TrackerRequest } from './pglite-process-protocol.js';
import type { CostEntry, CostTracker } from './tracker.js';

const MAIN = fileURLToPath(new URL('./pglite-process-main.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/**
 * V8 compiles PGlite's WebAssembly a second time with its optimising tier, and that code is most of
 * what PGlite costs in memory (measured: a reopened database peaks about 4 times higher without
 * this flag). The ledger's small queries do not need it. The flag is process-wide and must be
 * given at start, hence the process of its own.
 */
const EXEC_ARGV = ['--liftoff-only', '--import', TSX];

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
}

/**
 * The embedded cost tracker (PGlite in `${dataDir}/costs-pglite`) run in a child process of this
 * one, so the worker does not carry PGlite's memory. Every write is PGlite's, on disk before the
 * reply (durability as in process). The child ends with this process; if it dies on its own, the
 * calls in flight fail (the activity retries) and the next call starts a new one.
 */
export async function createPgliteProcessCostTracker(dataDir: string): Promise<CostTracker> {
  let child: Promise<ChildProcess> | undefined;
  let closed = false;
  let nextId = 0;
  const pending = new Map<number, Pending>();

  const live = (): Promise<ChildProcess> => {
    child ??= start(dataDir).then(
      (proc) => {
        listen(proc);
        return proc;
      },
      (err: unknown) => {
        child = undefined;
        throw err;
      },
    );
    return child;
  };

  function listen(proc: ChildProcess): void {
    proc.on('message', (reply: TrackerReply) => {
      if (!('id' in reply)) return;
      const waiter = pending.get(reply.id);
      if (!waiter) return;
      pending.delete(reply.id);
      if (reply.ok) waiter.resolve(reply.value);
      else waiter.reject(reply.error);
    });
    proc.once('exit', (code, signal) => {
      child = undefined;
      const err = new Error(`the cost tracker process ${proc.pid} exited (${signal ?? `code ${code}`}) before answering`);
      for (const waiter of pending.values()) waiter.reject(err);
      pending.clear();
    });
  }

  async function call<M extends TrackerRequest['method']>(
    method: M,
    args: Extract<TrackerRequest, { method: M }>['args'],
  ): Promise<unknown> {
    if (closed) throw new Error('cost tracker is closed');
    const proc = await live();
    return new Promise((resolve, reject) => {
      const id = ++nextId;
      pending.set(id, { resolve, reject });
      proc.send({ id, method, args } as TrackerRequest, (err) => {
        if (err && pending.delete(id)) reject(err);
      });
    });
  }

  await live();
  return {
    record: async (entry: CostEntry) => (await call('record', [entry])) as boolean,
    getTotalCost: async (jobId: string) => (await call('getTotalCost', [jobId])) as MicroUsd,
    entries: async (jobId: string) => (await call('entries', [jobId])) as CostEntry[],
    async close() {
      if (closed) return;
      closed = true;
      const proc = await child?.catch(() => undefined);
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      // Disconnecting tells the child to close the database and exit.
      proc.disconnect();
      await exited;
    },
  };
}

/** Forks the tracker process and waits until its database is open (or it says why not). */
function start(dataDir: string): Promise<ChildProcess> {
  const proc = fork(MAIN, [dataDir], { execArgv: EXEC_ARGV, serialization: 'advanced' });
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
      reject(new Error(`the cost tracker process exited (${signal ?? `code ${code}`}) while opening ${dataDir}`));
    proc.once('exit', onExit);
    proc.once('error', reject);
    proc.once('message', (reply: TrackerReply) => {
      proc.off('exit', onExit);
      if ('ready' in reply) resolve(proc);
      else if ('failed' in reply) {
        proc.once('exit', () => reject(new Error(reply.failed)));
      } else reject(new Error('the cost tracker process answered before it was ready'));
    });
  });
}
