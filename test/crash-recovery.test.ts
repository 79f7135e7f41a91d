import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevServer } from '../src/dev-server/start-dev-server.js';
import { createProbe } from '../src/media/probe.js';
import { mediaBinaries } from '../src/media/binaries.js';
import { startCrashWorker } from './support/crash-worker-process.js';
import { clipPrompts, startTestServer, uniqueName } from './support/env.js';
import { activityRuns } from './support/history.js';
import { harness, recordClipStarts } from './support/job-runner.js';
import { until } from './support/wait.js';

let server: DevServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

const TIMEOUT_MS = 90_000;

describe('a worker killed mid-job', () => {
  it('is replaced by a new worker that finishes the job without making finished clips again', async () => {
    // The in-process worker is the replacement; the first worker runs in a child process we can SIGKILL.
    const env = { LOCAL_PROVIDER_DELAY_MS: '1500', CLIP_HEARTBEAT_TIMEOUT_S: '3' };
    const replacement = await harness(server, env);
    const { config, taskQueue } = replacement;
    const startsByReplacement = recordClipStarts(replacement);
    const firstWorker = startCrashWorker({ serverAddress: server.address, taskQueue, config, env });
    await firstWorker.ready(TIMEOUT_MS);

    const jobId = uniqueName('crash');
    const job = await replacement.clipflow.start({ jobId, clipPrompts: clipPrompts(6, 2), options: { concurrency: 3 } });
    // Kill it once some clips are finished (their activities completed at the server: saving the
    // output is followed by validation, posters and the store) and others are being generated.
    await until(
      'two clips completed and more in flight',
      async () => {
        const started = firstWorker.readLog().filter((l) => l.event === 'start').length;
        const completed = activityRuns(await job.raw.fetchHistory(), 'generateClip').filter((r) => r.outcome === 'completed').length;
        return completed >= 2 && started > completed;
      },
      TIMEOUT_MS,
      200,
    );
    await firstWorker.kill();
    const firstPid = firstWorker.pid;

    const { result, history } = await replacement.worker.runUntil(async () => ({
      result: await job.result(),
      history: await job.raw.fetchHistory(),
    }));

    expect(result.successfulClips).toBe(6);
    const probe = createProbe(mediaBinaries().ffprobe);
    for (const clip of result.clips) expect((await probe(clip.path!)).durationS).toBeGreaterThanOrEqual(1);

    const runs = activityRuns(history, 'generateClip');
    const clipOf = (input: unknown) => (input as { clip: { clipIndex: number } }).clip.clipIndex;
    const finishedByFirst = runs.filter((r) => r.identity.startsWith(`${firstPid}@`)).map((r) => clipOf(r.input));
    const finishedBySecond = runs.filter((r) => !r.identity.startsWith(`${firstPid}@`)).map((r) => clipOf(r.input));
    expect(finishedByFirst.length).toBeGreaterThanOrEqual(2);
    expect(finishedBySecond.length).toBeGreaterThanOrEqual(1);
    expect(finishedByFirst.length + finishedBySecond.length).toBe(6);

    // The replacement never generated a clip the first worker had finished; it took up the rest.
    for (const clipIndex of finishedByFirst) expect(startsByReplacement).not.toContain(clipIndex);
    for (const clipIndex of finishedBySecond) expect(startsByReplacement).toContain(clipIndex);
    // And the first worker's finished clips were generated exactly once.
    const firstStarts = firstWorker.readLog().filter((l) => l.event === 'start');
    for (const clipIndex of finishedByFirst) expect(firstStarts.filter((l) => l.clipIndex === clipIndex)).toHaveLength(1);
  });
});
