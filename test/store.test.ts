/**
 * The artifact store's two implementations behind one interface: the local directory and
 * S3-compatible storage, the latter against a real server (versitygw), not a mock of the SDK.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/index.js';
import type { ArtifactStore } from '../src/store/artifact-store.js';
import { createStore } from '../src/store/create-store.js';
import { clipKey, reportKey } from '../src/store/keys.js';
import { startS3Server, type S3Server } from './support/s3-server.js';

let s3: S3Server;
let scratch: string;
beforeAll(async () => {
  [s3, scratch] = await Promise.all([startS3Server(), mkdtemp(path.join(os.tmpdir(), 'clipflow-store-test-'))]);
  await s3.createBucket('clips');
});
afterAll(async () => {
  await s3?.stop();
});

const stores: Record<string, () => ArtifactStore> = {
  local: () => createStore(loadConfig({ OUTPUT_DIR: path.join(scratch, 'outputs') }).store),
  s3: () => createStore(loadConfig({ OUTPUT_DIR: scratch, ...s3.env('clips', 'team/a') }).store),
};

describe.each(Object.keys(stores))('the %s store', (kind) => {
  it('stores files and text under job keys and gives them back by URI', async () => {
    const store = stores[kind]!();
    try {
      // 12 MB: over S3's 5 MB part size, so the S3 store uploads it in parts.
      const clip = randomBytes(12 * 1024 * 1024);
      const source = path.join(scratch, `${kind}-clip.mp4`);
      await writeFile(source, clip);

      const clipUri = await store.putFile(clipKey('job-1', 3), source, 'video/mp4');
      const reportUri = await store.putText(reportKey('job-1'), '{"ok":true}\n', 'application/json');

      expect(clipUri).toBe(store.uriOf('job-1/clip_003.mp4'));
      expect(reportUri).toBe(store.uriOf('job-1/production_report.json'));
      expect(await store.getText(reportUri)).toBe('{"ok":true}\n');
      const copy = path.join(scratch, `${kind}-copy.mp4`);
      await store.download(clipUri, copy);
      expect((await readFile(copy)).equals(clip)).toBe(true);

      if (kind === 'local') {
        expect(clipUri.startsWith('file:///')).toBe(true);
        expect(store.pathOf(clipUri)).toBe(path.join(scratch, 'outputs', 'job-1', 'clip_003.mp4'));
      } else {
        expect(clipUri).toBe('s3://clips/team/a/job-1/clip_003.mp4');
        expect(store.pathOf(clipUri)).toBeUndefined();
        expect(await s3.keys('clips')).toEqual(
          expect.arrayContaining(['team/a/job-1/clip_003.mp4', 'team/a/job-1/production_report.json']),
        );
      }
    } finally {
      await store.close();
    }
  });

  it('refuses a URI outside the store, and a key that would leave it', async () => {
    const store = stores[kind]!();
    try {
      await expect(store.getText('s3://elsewhere/x.json')).rejects.toThrow(/not in/);
      await expect(store.getText('file:///etc/passwd')).rejects.toThrow(/not in/);
      if (kind === 'local') expect(() => store.uriOf('../escape.txt')).toThrow(/leaves/);
      await expect(store.getText(store.uriOf('job-1/missing.json'))).rejects.toThrow();
    } finally {
      await store.close();
    }
  });
});

describe('CLIPFLOW_STORE', () => {
  it('names a bad store setting in one line', () => {
    expect(() => loadConfig({ CLIPFLOW_STORE: 'gs://bucket' })).toThrow(
      /CLIPFLOW_STORE: "gs:\/\/bucket" is neither a directory nor s3:\/\/bucket\/prefix/,
    );
  });

  it('is the output directory by default, path-style addressing with a custom endpoint', () => {
    expect(loadConfig({ OUTPUT_DIR: '/data/out' }).store).toEqual({ kind: 'local', directory: '/data/out' });
    expect(loadConfig({ CLIPFLOW_STORE: 's3://bkt/p/q', CLIPFLOW_S3_ENDPOINT: 'http://127.0.0.1:9000' }).store).toEqual({
      kind: 's3',
      bucket: 'bkt',
      prefix: 'p/q',
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:9000',
      forcePathStyle: true,
    });
    expect(loadConfig({ CLIPFLOW_STORE: 's3://bkt', AWS_REGION: 'eu-west-1' }).store).toMatchObject({
      prefix: '',
      region: 'eu-west-1',
      forcePathStyle: false,
    });
  });
});
