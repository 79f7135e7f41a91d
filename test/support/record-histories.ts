/**
 * Records the workflow histories the replay tests replay: `npm run record-histories`.
 * Run it again only when the workflow changes on purpose (and say so in the commit).
 */
import { writeFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { provisionTemporalCli } from '../../src/dev-server/temporal-cli.js';
import { clipPrompts, startTestServer, uniqueName } from './env.js';
import { harness } from './job-runner.js';

const jobs = {
  'happy-path': { env: {}, clips: clipPrompts(6, 1.5) },
  'partial-path': { env: { LOCAL_PROVIDER_FAULTS: '1:permanent,4:auth', RETRY_INITIAL_INTERVAL_S: '0.1' }, clips: clipPrompts(6, 1.5) },
};

const cli = await provisionTemporalCli();
const server = await startTestServer();
try {
  for (const [name, { env, clips }] of Object.entries(jobs)) {
    const h = await harness(server, env);
    const workflowId = await h.worker.runUntil(async () => {
      const job = await h.clipflow.start({ jobId: uniqueName(name), clipPrompts: clips, options: { concurrency: 3 } });
      await job.result();
      return job.workflowId;
    });
    // The CLI writes the canonical JSON form that historyFromJSON reads back.
    const { stdout } = await promisify(execFile)(
      cli,
      ['workflow', 'show', '--address', server.address, '--workflow-id', workflowId, '--output', 'json'],
      { maxBuffer: 64 << 20 },
    );
    const file = new URL(`../fixtures/${name}.history.json`, import.meta.url);
    await writeFile(file, stdout);
    console.log(`recorded ${(JSON.parse(stdout) as { events: unknown[] }).events.length} events to ${file.pathname}`);
  }
} finally {
  await server.stop();
}
