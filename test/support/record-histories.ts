/**
 * Records the workflow histories the replay tests replay: `npm run record-histories`, or only
 * some of them: `npm run record-histories -- batched-path`.
 * Run it again only when the workflow changes on purpose (and say so in the commit).
 */
import { writeFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { provisionTemporalCli } from '../../src/dev-server/temporal-cli.js';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { runChaos } from './chaos.js';
import { accountSlotsWorkflowId } from '../../src/shared/account-slots.js';
import { batchWorkflowId } from '../../src/shared/names.js';
import { providerAccount } from '../../src/telemetry/activity-telemetry.js';
import { clipPrompts, startTestServer, uniqueName } from './env.js';
import { startFakeRunway } from './fake-runway.js';
import { harness } from './job-runner.js';

interface Recorded {
  env: Record<string, string>;
  clips: ReturnType<typeof clipPrompts>;
  /** Files to write besides `<name>.history.json` (the parent's): a child workflow's, by its id. */
  children?: Record<string, (parentId: string) => string>;
  /** A fake provider the job runs against, and the settings that point the worker at it. */
  provider?: () => Promise<{ env: Record<string, string>; close(): Promise<void> }>;
}

const RECORDING_SECRET = 'key_recording_account';

const jobs: Record<string, Recorded> = {
  'happy-path': { env: {}, clips: clipPrompts(6, 1.5) },
  'partial-path': { env: { LOCAL_PROVIDER_FAULTS: '1:permanent,4:auth', RETRY_INITIAL_INTERVAL_S: '0.1' }, clips: clipPrompts(6, 1.5) },
  // A job of 3 batches of 3 (the last of 1), 2 at a time: the parent and its first batch.
  'batched-path': {
    env: { CLIPFLOW_BATCH_SIZE: '3', CLIPFLOW_BATCH_WINDOW: '2' },
    clips: clipPrompts(7, 1.5),
    children: { 'batched-path-batch': (parentId) => batchWorkflowId(parentId, 0) },
  },
  // On Runway (fake) with an account limit of 2 under a job concurrency of 3: clips wait for slots.
  // The slots workflow is recorded too, still running (it waits for more clips until idle).
  'account-slots-path': {
    env: {},
    clips: clipPrompts(5, 2),
    children: { 'account-slots-path-slots': () => accountSlotsWorkflowId(providerAccount('runway', RECORDING_SECRET)) },
    provider: async () => {
      const fake = await startFakeRunway({ token: RECORDING_SECRET, latencyMs: 1_000 });
      return {
        env: {
          VIDEO_PROVIDER: 'runway',
          VIDEO_FALLBACK_MODEL: '',
          RUNWAYML_API_SECRET: RECORDING_SECRET,
          RUNWAYML_BASE_URL: fake.url,
          RUNWAY_POLL_INTERVAL_MS: '200',
          RUNWAY_ACCOUNT_LIMIT: '2',
          VIDEO_GENERATOR_BUDGET_USD: '100',
        },
        close: () => fake.close(),
      };
    },
  },
};
const only = process.argv.slice(2);
const crash = only.length === 0 || only.includes('crash-path');

const cli = await provisionTemporalCli();
const server = await startTestServer();
try {
  for (const [name, { env, clips, children = {}, provider }] of Object.entries(jobs)) {
    if (only.length > 0 && !only.includes(name)) continue;
    const fake = await provider?.();
    const h = await harness(server, { ...env, ...fake?.env });
    const workflowId = await h.worker.runUntil(async () => {
      const job = await h.clipflow.start({ jobId: uniqueName(name), clipPrompts: clips, options: { concurrency: 3 } });
      await job.result();
      return job.workflowId;
    });
    const files = { [name]: workflowId, ...Object.fromEntries(Object.entries(children).map(([file, id]) => [file, id(workflowId)])) };
    for (const [file, id] of Object.entries(files)) {
      // The CLI writes the canonical JSON form that historyFromJSON reads back.
      const { stdout } = await promisify(execFile)(
        cli,
        ['workflow', 'show', '--address', server.address, '--workflow-id', id, '--output', 'json'],
        { maxBuffer: 64 << 20 },
      );
      const url = new URL(`../fixtures/${file}.history.json`, import.meta.url);
      await writeFile(url, stdout);
      console.log(`recorded ${(JSON.parse(stdout) as { events: unknown[] }).events.length} events to ${url.pathname}`);
    }
    await h.deps.close();
    await fake?.close();
  }
} finally {
  await server.stop();
}

// A job whose worker was SIGKILLed again and again (seeded, so the same schedule each time):
// workflow tasks that timed out on dead workers' sticky queues, activities retried after crashes.
if (!crash) process.exit(0);
const chaos = await runChaos({ seed: 7, clips: 12, kills: 10, restartServer: true });
if (chaos.replayError) throw new Error(`the crash history does not replay: ${String(chaos.replayError)}`);
const crashFile = new URL('../fixtures/crash-path.history.json', import.meta.url);
await writeFile(crashFile, historyToJSON(chaos.history));
console.log(`recorded ${chaos.history.events?.length ?? 0} events (${chaos.kills.length} kills) to ${crashFile.pathname}`);
