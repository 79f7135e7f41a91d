/**
 * The embedded cost tracker's own process (started by pglite-process-tracker.ts with node's
 * --liftoff-only): it opens the PGlite data dir named by argv[2] and answers the worker's
 * requests over the IPC channel. It ends when the worker disconnects or dies.
 */
import { createPgliteCostTracker } from './pglite-tracker.js';
import type { TrackerReply, TrackerRequest } from './pglite-process-protocol.js';

const send = (message: TrackerReply) => process.send?.(message);

const dataDir = process.argv[2];
if (!dataDir || !process.send) {
  console.error('pglite-process-main: run by the worker (fork), with the data dir as its argument');
  process.exit(2);
}

try {
  const tracker = await createPgliteCostTracker(dataDir);
  // The worker closed the channel, or died: release the database and its directory, then go.
  process.once('disconnect', () => {
    void tracker.close().finally(() => process.exit(0));
  });
  // Ctrl-C reaches the whole process group: the worker then finishes its running clips, and
  // records their costs here, before it lets go of this process.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => undefined);
  process.on('message', (request: TrackerRequest) => {
    const run = () => {
      switch (request.method) {
        case 'record':
          return tracker.record(...request.args);
        case 'getTotalCost':
          return tracker.getTotalCost(...request.args);
        case 'entries':
          return tracker.entries(...request.args);
      }
    };
    run().then(
      (value) => send({ id: request.id, ok: true, value }),
      (err: unknown) => send({ id: request.id, ok: false, error: err instanceof Error ? err : new Error(String(err)) }),
    );
  });
  send({ ready: true });
} catch (err) {
  send({ failed: err instanceof Error ? err.message : String(err) });
  process.exit(1);
}
