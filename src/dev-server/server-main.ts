/**
 * `npm run server [-- --port N]`: the Temporal dev server (gRPC on 7233 unless --port says
 * otherwise) with its Web UI and a persisted database, until Ctrl-C or SIGTERM.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/index.js';
import { startDevServer } from './start-dev-server.js';

const { values } = parseArgs({ options: { port: { type: 'string', default: '7233' } } });
const port = Number(values.port);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error(`clipflow: --port ${values.port}: not a port number`);
  process.exit(2);
}

const config = loadConfig();
const server = await startDevServer({
  ...(config.temporal.cliPath ? { cliPath: config.temporal.cliPath } : {}),
  port,
  uiPort: config.temporal.uiPort,
  dbFilename: path.join(config.dataDir, 'temporal.db'),
  namespace: config.temporal.namespace,
});
console.log(`Temporal dev server on ${server.address}; Web UI ${server.uiUrl}. Ctrl-C stops it.`);

// The server is a child process of the native runtime, which holds no handle on the event loop:
// without this timer node would find nothing left to do and exit.
const keepAlive = setInterval(() => {}, 1 << 30);
const signal = await new Promise<NodeJS.Signals>((resolve) => {
  process.once('SIGINT', resolve);
  process.once('SIGTERM', resolve);
});
console.log(`${signal}: stopping the dev server`);
await server.stop();
clearInterval(keepAlive);
console.log('stopped');
