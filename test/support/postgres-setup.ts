/**
 * vitest globalSetup: a real PostgreSQL for the suites that run on it as well as on PGlite (cost
 * tracker, budget), unless DATABASE_URL names one already. It is `npm run postgres` with a
 * throwaway cluster on a free port, in a process of its own; the test processes, started after
 * this, get its URL as DATABASE_URL. It stops when the run ends (its stdin closes), however it ends.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/dev-server/postgres-main.ts', import.meta.url));

export default async function setup(): Promise<(() => Promise<void>) | void> {
  if (process.env.DATABASE_URL) return;
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, '--throwaway', '--port', '0', '--stop-with-stdin'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  process.env.DATABASE_URL = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const url = /^DATABASE_URL=(\S+)$/m.exec(out)?.[1];
      if (url) resolve(url);
    });
    void exited.then((code) => reject(new Error(`npm run postgres exited (code ${code}) before PostgreSQL was up`)));
  });
  return async () => {
    child.stdin.end();
    await exited;
  };
}
