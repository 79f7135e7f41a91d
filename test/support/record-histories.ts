/**
 * Records the workflow histories the replay tests replay: `npm run record-histories`.
 * Run it again only when the workflow changes on purpose (and say so in the commit).
 */
import { writeFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { provisionTemporalCli } from '../../src/dev-server/temporal-cli.js';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { runChaos } from './chaos.js';
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

// A job whose worker was SIGKILLed again and again (seeded, so the same schedule each time):
// workflow tasks that timed out on dead workers' sticky queues, activities retried after crashes.
const chaos = await runChaos({ seed: 7, clips: 12, kills: 10, restartServer: true });
if (chaos.replayError) throw new Error(`the crash history does not replay: ${String(chaos.replayError)}`);
const crashFile = new URL('../fixtures/crash-path.history.json', import.meta.url);
await writeFile(crashFile, historyToJSON(chaos.history));
console.log(`recorded ${chaos.history.events?.length ?? 0} events (${chaos.kills.length} kills) to ${crashFile.pathname}`);
