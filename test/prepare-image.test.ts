import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../src/activities/index.js';
import { createPrepareImage } from '../src/activities/prepare-image.js';
import { createClipflowClient } from '../src/client.js';
import type { Config } from '../src/config/index.js';
import type { DevServer } from '../src/dev-server/start-dev-server.js';
import { mediaBinaries } from '../src/media/binaries.js';
import type { downloadImage } from '../src/media/image-download.js';
import { createProbe } from '../src/media/probe.js';
import type { PrepareImageInput } from '../src/shared/activity-io.js';
import { createLocalStore } from '../src/store/local-store.js';
import { createActivityDeps } from '../src/worker.js';
import { clipPrompts, startTestServer, testConfig, uniqueName, workflowBundle } from './support/env.js';
import { activityEnv } from './support/fakes.js';
import { corruptPng, makeImage } from './support/images.js';
import { harness } from './support/job-runner.js';

const media = mediaBinaries();
let validPng: Buffer;
let base = '';
let server: DevServer;

const images = http.createServer((req, res) => {
  switch (req.url) {
    case '/corrupt.png':
      res.writeHead(200, { 'content-type': 'image/png' }).end(corruptPng());
      return;
    case '/scene.png':
      res.writeHead(200, { 'content-type': 'image/png' }).end(validPng);
      return;
    default:
      res.writeHead(404).end();
  }
});

beforeAll(async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'clipflow-prepare-image-'));
  await makeImage(media.ffmpeg, path.join(dir, 'scene.png'), '320x180');
  validPng = await readFile(path.join(dir, 'scene.png'));
  await rm(dir, { recursive: true, force: true });
  await new Promise<void>((resolve) => images.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(images.address() as AddressInfo).port}`;
  server = await startTestServer();
});

afterAll(async () => {
  images.closeAllConnections();
  await new Promise<void>((resolve) => images.close(() => resolve()));
  await server?.stop();
});

/** The test's image server is on loopback. */
const LOOPBACK_IMAGES = { IMAGE_ALLOW_PRIVATE_HOSTS: 'true' };

async function refsOf(config: Config, jobId: string): Promise<string[]> {
  const dir = path.join(config.outputDir, jobId, 'refs');
  return existsSync(dir) ? readdir(dir) : [];
}

describe('prepareImage', () => {
  it('returns ok:false within seconds for a 100-byte body with a PNG signature, keeping no file', async () => {
    const config = await testConfig(LOOPBACK_IMAGES);
    const prepareImage = createPrepareImage({ config, store: createLocalStore(config.outputDir) });
    const jobId = uniqueName('corrupt');
    const began = Date.now();

    const result = await activityEnv().run(prepareImage, { jobId, clipIndex: 0, url: `${base}/corrupt.png` });

    expect(result).toEqual({ ok: false, reason: `image ${base}/corrupt.png: png data could not be decoded: inflate returned error -3` });
    expect(Date.now() - began).toBeLessThan(5_000);
    expect(await refsOf(config, jobId)).toEqual([]);
  });

  it('returns ok:true with the store URI of an image that decodes', async () => {
    const config = await testConfig(LOOPBACK_IMAGES);
    const prepareImage = createPrepareImage({ config, store: createLocalStore(config.outputDir) });
    const jobId = uniqueName('valid');

    const result = await activityEnv().run(prepareImage, { jobId, clipIndex: 3, url: `${base}/scene.png` });

    const file = path.join(config.outputDir, jobId, 'refs', 'clip_003.png');
    expect(result).toEqual({ ok: true, uri: pathToFileURL(file).href });
    expect(await readFile(file)).toEqual(validPng);
  });

  it('heartbeats while a slow download runs, so the heartbeat timeout does not fail the clip', async () => {
    const config = await testConfig();
    const slow: typeof downloadImage = async (_url, destination) => {
      await sleep(2_500);
      await writeFile(`${destination}.png`, validPng);
      return { path: `${destination}.png`, sizeBytes: validPng.length, format: 'png' };
    };
    const prepareImage = createPrepareImage({ config, store: createLocalStore(config.outputDir), downloadImage: slow });
    const env = activityEnv();

    await env.run(prepareImage, { jobId: uniqueName('slow'), clipIndex: 0, url: 'https://images.example.com/a.png' });

    expect(env.heartbeats.length).toBeGreaterThanOrEqual(2);
  });
});

describe('a job with a corrupt reference image', () => {
  it('renders that clip text-only, saying why, in seconds; a clip with a valid image uses it', async () => {
    const h = await harness(server, LOOPBACK_IMAGES);
    const jobId = uniqueName('corrupt-image');
    const [first, second] = clipPrompts(2);
    const began = Date.now();

    const result = await h.worker.runUntil(
      h.clipflow
        .start({
          jobId,
          clipPrompts: [
            { ...first!, sceneReferenceUrl: `${base}/corrupt.png` },
            { ...second!, sceneReferenceUrl: `${base}/scene.png` },
          ],
        })
        .then((job) => job.result()),
    );

    expect(Date.now() - began).toBeLessThan(60_000);
    expect(result.failures).toEqual([]);
    const [textOnly, withImage] = [0, 1].map((i) => result.clips.find((c) => c.clipIndex === i));
    expect(textOnly?.imageNote).toBe(
      `reference image not used: image ${base}/corrupt.png: png data could not be decoded: inflate returned error -3`,
    );
    expect(withImage?.imageNote).toBeUndefined();
    expect(await refsOf(h.config, jobId)).toEqual(['clip_001.png']);
    const probe = createProbe(media.ffprobe);
    for (const clip of [textOnly, withImage]) {
      expect((await probe(clip!.path!)).codec).toBe('h264');
    }
  });
});

describe('a reference image whose worker stalls', () => {
  it('is fetched again by another attempt, and the clip keeps its image', async () => {
    const config = await testConfig(LOOPBACK_IMAGES);
    const deps = await createActivityDeps(config);
    const activities = createActivities(deps);
    const taskQueue = uniqueName('tq');
    let attempts = 0;
    const worker = await Worker.create({
      connection: server.env.nativeConnection,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities: {
        ...activities,
        // The first attempt stands for a worker that died or froze: no result, no heartbeat.
        prepareImage: async (input: PrepareImageInput) => {
          attempts += 1;
          if (attempts === 1) {
            await sleep((config.job.heartbeatTimeoutS + 2) * 1000);
            return { ok: false, reason: 'a stalled attempt' };
          }
          return activities.prepareImage(input);
        },
      },
    });
    const clipflow = createClipflowClient(server.env.client, { taskQueue });
    const jobId = uniqueName('stalled-image');
    const [clip] = clipPrompts(1);

    const result = await worker.runUntil(
      clipflow.start({ jobId, clipPrompts: [{ ...clip!, sceneReferenceUrl: `${base}/scene.png` }] }).then((job) => job.result()),
    );
    await deps.close();

    expect(attempts).toBe(2);
    expect(result.failures).toEqual([]);
    expect(result.clips[0]?.imageNote).toBeUndefined();
    expect(await refsOf(config, jobId)).toEqual(['clip_000.png']);
  });
});
