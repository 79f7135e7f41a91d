import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SCRIPT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../scripts/provision-temporal.sh');

/** Where the dev server comes from, in the shape TestWorkflowEnvironment.createLocal takes. */
export type DevServerExecutable = { type: 'existing-path'; path: string } | { type: 'cached-download' };

/**
 * Finds (or builds once, into a cache outside the checkout) the Temporal CLI. Without one and
 * without Go, the SDK's own download is the fallback.
 */
export async function devServerExecutable(cliPath?: string): Promise<DevServerExecutable> {
  try {
    const { stdout } = await run('bash', [SCRIPT], {
      env: { ...process.env, ...(cliPath ? { TEMPORAL_CLI_PATH: cliPath } : {}) },
      maxBuffer: 1 << 20,
      timeout: 30 * 60_000,
    });
    const found = stdout.trim().split('\n').pop();
    if (found) return { type: 'existing-path', path: found };
  } catch (err) {
    const code = (err as { code?: number }).code;
    if (code !== 3) throw new Error(`could not provision the Temporal CLI: ${(err as Error).message}`);
  }
  return { type: 'cached-download' };
}
