/**
 * `npm run temporal -- <arguments>`: the Temporal CLI that clipflow provisioned (found, else
 * downloaded or built once; see temporal-cli.ts), with no `temporal` on PATH needed:
 *
 *   npm run temporal -- workflow list --query "ClipflowClipsFailed > 0"
 *
 * It talks to localhost:7233 (`npm run server`) unless TEMPORAL_ADDRESS or --address says otherwise.
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import { provisionTemporalCli } from './temporal-cli.js';

const cli = await provisionTemporalCli();
const child = spawn(cli, process.argv.slice(2), { stdio: 'inherit' });
// Ctrl-C in a terminal reaches the CLI directly; a signal sent to this process alone is passed on.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
child.once('error', (err) => {
  console.error(`clipflow: could not run ${cli}: ${err.message}`);
  process.exit(1);
});
child.once('exit', (code, signal) => process.exit(code ?? 128 + (signal ? os.constants.signals[signal] : 0)));
