/**
 * Workers that share nothing but the Temporal server, the S3-compatible store and PostgreSQL:
 * three worker processes, each with its own output and data directories (as on three machines),
 * a 30-clip job with reference images, one worker SIGKILLed mid-way. Every clip and the report
 * end up in the bucket, each clip was created once at the provider, and no payload in the history
 * holds a path on a worker's disk.
 */
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdtemp, readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClipflowClient } from '../src/client.js';
import type { DevServer } from '../src/dev-server/start-dev-server.js';
import { mediaBinaries } from '../src/media/binaries.js';
import { clipPrompts, startTestServer, uniqueName } from './support/env.js';
import { fakeReplicateEnv, startFakeReplicate, type FakeReplicate } from './support/fake-replicate.js';
import { activityRuns } from './support/history.js';
import { startS3Server, type S3Server } from './support/s3-server.js';
import { spawnTsx, type TsxProcess } from './support/tsx-process.js';
import { until } from './support/wait.js';

const TOKEN = 'r8_shared_nothing_token';
const MODEL = 'acme/shared';
const BUCKET = 'clipflow-shared';
const CLIPS = 30;

let server: DevServer;
let s3: S3Server;
let fake: FakeReplicate;
let images: Server;
let imageUrl: string;
beforeAll(async () => {
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'clipflow-shared-image-'));
  const png = path.join(scratch, 'scene.png');
  await promisify(execFile)(mediaBinaries().ffmpeg, ['-v', 'error', '-f', 'lavfi', '-i', 'color=c=teal:s=320x180', '-frames:v', '1', png]);
  const bytes = await readFile(png);
  images = createServer((_req, res) => res.writeHead(200, { 'content-type': 'image/png' }).end(bytes));
  await new Promise<void>((resolve) => images.listen(0, '127.0.0.1', resolve));
  imageUrl = `http://127.0.0.1:${(images.address() as AddressInfo).port}/scene.png`;
  [server, s3, fake] = await Promise.all([startTestServer(), startS3Server(), startFakeReplicate({ token: TOKEN, latencyMs: 1_500 })]);
  await s3.createBucket(BUCKET);
});
afterAll(async () => {
  await fake?.close();
  await s3?.stop();
  await server?.stop();
  images?.close();
});

interface LogLine {
  message: string;
  store?: string;
  costTracker?: string;
}

/** Every text in a value, payload bytes decoded. */
function texts(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (value instanceof Uint8Array) out.push(Buffer.from(value).toString('utf8'));
  else if (value && typeof value === 'object') for (const item of Object.values(value)) texts(item, out);
  return out;
}

describe('three workers that share nothing but Temporal, the store and PostgreSQL', () => {
  it('make a 30-clip job with reference images into the bucket across a SIGKILL, each clip created once', {
    timeout: 400_000,
  }, async () => {
    const databaseUrl = process.env.DATABASE_URL;
    expect(databaseUrl, 'the test run provides PostgreSQL (vitest globalSetup)').toBeTruthy();
    const taskQueue = uniqueName('shared');
    const homes = await Promise.all([0, 1, 2].map((i) => mkdtemp(path.join(os.tmpdir(), `clipflow-machine-${i}-`))));
    const workers: TsxProcess[] = homes.map((home) =>
      spawnTsx(
        'src/worker.ts',
        {
          ...process.env,
          ...s3.env(BUCKET, 'jobs'),
          TEMPORAL_ADDRESS: server.address,
          TEMPORAL_TASK_QUEUE: taskQueue,
          DATABASE_URL: databaseUrl,
          OUTPUT_DIR: path.join(home, 'outputs'),
          CLIPFLOW_DATA_DIR: path.join(home, 'data'),
          ...fakeReplicateEnv(fake, TOKEN, MODEL, 3),
          IMAGE_ALLOW_PRIVATE_HOSTS: 'true',
          LOG_LEVEL: 'INFO',
        },
        { captureOutput: true },
      ),
    );
    const logOf = (w: TsxProcess): LogLine[] =>
      w
        .stderr()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as LogLine);
    try {
      // Each says at start what it shares with the others.
      const starts = await Promise.all(
        workers.map((w) => until('a worker to start', () => logOf(w).find((l) => l.message === 'clipflow worker started'), 120_000)),
      );
      for (const start of starts) {
        expect(start.store).toBe(`s3://${BUCKET}/jobs`);
        expect(start.costTracker).toBe('PostgreSQL (DATABASE_URL)');
      }

      const clipflow = createClipflowClient(server.env.client, { taskQueue });
      const jobId = uniqueName('shared');
      const job = await clipflow.start({
        jobId,
        clipPrompts: clipPrompts(CLIPS, 2, () => ({ sceneReferenceUrl: imageUrl })),
        options: { concurrency: 9, minClips: CLIPS },
      });
      await until('8 clips made', () => [...fake.predictions.values()].filter((p) => p.status === 'succeeded').length >= 8, 200_000);
      const killed = workers[0]!;
      await killed.kill();

      const result = await job.result();
      const history = await job.raw.fetchHistory();

      expect(result.successfulClips).toBe(CLIPS);
      for (const clip of result.clips) {
        expect(clip.uri).toBe(`s3://${BUCKET}/jobs/${jobId}/clip_${String(clip.clipIndex).padStart(3, '0')}.mp4`);
        expect(clip.path).toBeUndefined();
        expect(clip.imageNote).toBeUndefined(); // every clip used its reference image
      }
      expect(result.reportUri).toBe(`s3://${BUCKET}/jobs/${jobId}/production_report.json`);
      const keys = await s3.keys(BUCKET);
      expect(keys.filter((k) => k.startsWith(`jobs/${jobId}/clip_`))).toHaveLength(CLIPS);
      expect(keys.filter((k) => k.startsWith(`jobs/${jobId}/refs/`))).toHaveLength(CLIPS);
      expect(keys).toContain(`jobs/${jobId}/production_report.json`);

      // One prediction per clip, across the kill; each asked with the uploaded reference image.
      for (let i = 0; i < CLIPS; i++) expect(fake.createsForPrompt(`clip ${i}:`), `clip ${i}`).toHaveLength(1);
      expect(fake.uploads.size).toBeGreaterThanOrEqual(CLIPS);

      // Clips were made on more than one machine, the killed one included.
      const identities = new Set(activityRuns(history, 'generateClip').map((r) => r.identity));
      expect(identities.size).toBeGreaterThanOrEqual(2);

      // No payload anywhere in the history names a place on a worker's disk.
      const everything = texts(history).join('\n');
      for (const home of homes) expect(everything).not.toContain(home);
      expect(everything).not.toContain('file://');
      expect(everything).not.toContain(os.tmpdir());
    } finally {
      await Promise.all(workers.map((w) => w.kill()));
    }
  });
});
