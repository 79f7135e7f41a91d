/** `npm run server`: the Temporal dev server with its Web UI and a persisted database, until Ctrl-C. */
import path from 'node:path';
import { loadConfig } from '../config/index.js';
import { startDevServer } from './start-dev-server.js';

const config = loadConfig();
const server = await startDevServer({
  ...(config.temporal.cliPath ? { cliPath: config.temporal.cliPath } : {}),
  port: 7233,
  uiPort: config.temporal.uiPort,
  dbFilename: path.join(config.dataDir, 'temporal.db'),
  namespace: config.temporal.namespace,
});
console.log(`Temporal dev server on ${server.address}; Web UI ${server.uiUrl}. Ctrl-C stops it.`);
const stop = () => {
  void server.stop().then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
