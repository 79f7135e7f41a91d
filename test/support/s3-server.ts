/**
 * A real S3-compatible server for the tests: versitygw serving a scratch directory (built once by
 * scripts/provision-versitygw.sh into a cache outside the checkout, or VERSITYGW_PATH).
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { freePort } from '../../src/dev-server/ports.js';
import { until } from './wait.js';

export interface S3Server {
  endpoint: string;
  /** The environment a clipflow process needs to use `bucket` on this server as its store. */
  env(bucket: string, prefix?: string): Record<string, string>;
  createBucket(bucket: string): Promise<void>;
  /** Every key in the bucket. */
  keys(bucket: string): Promise<string[]>;
  client: S3Client;
  stop(): Promise<void>;
}

const ACCESS_KEY = 'clipflowtest';
const SECRET_KEY = 'clipflowtestsecret';

export async function versitygwPath(): Promise<string> {
  const { stdout } = await promisify(execFile)('bash', ['scripts/provision-versitygw.sh'], { maxBuffer: 1 << 20 });
  return stdout.trim();
}

export async function startS3Server(): Promise<S3Server> {
  const binary = await versitygwPath();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'clipflow-s3-'));
  const port = await freePort();
  const child = spawn(binary, ['--port', `127.0.0.1:${port}`, 'posix', dir], {
    env: { ...process.env, ROOT_ACCESS_KEY: ACCESS_KEY, ROOT_SECRET_KEY: SECRET_KEY },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await until(
    'versitygw to answer',
    async () => {
      if (child.exitCode !== null) throw new Error(`versitygw exited: ${stderr}`);
      return client
        .send(new ListObjectsV2Command({ Bucket: 'probe' }))
        .then(() => true)
        .catch((err: { name?: string }) => err.name !== undefined && err.name !== 'TimeoutError' && !/ECONNREFUSED/.test(String(err)));
    },
    30_000,
    100,
  );
  return {
    endpoint,
    client,
    env: (bucket, prefix = '') => ({
      CLIPFLOW_STORE: `s3://${bucket}${prefix ? `/${prefix}` : ''}`,
      CLIPFLOW_S3_ENDPOINT: endpoint,
      AWS_ACCESS_KEY_ID: ACCESS_KEY,
      AWS_SECRET_ACCESS_KEY: SECRET_KEY,
      AWS_REGION: 'us-east-1',
    }),
    createBucket: async (bucket) => {
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
    },
    keys: async (bucket) => {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
        keys.push(...(page.Contents ?? []).map((o) => o.Key!));
        token = page.NextContinuationToken;
      } while (token);
      return keys.sort();
    },
    stop: async () => {
      client.destroy();
      child.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
