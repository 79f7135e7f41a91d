import path from 'node:path';
import { z } from 'zod';
import { parseS3Uri, type S3StoreOptions } from '../store/s3-store.js';
import { bool, invalid, text } from './env.js';
import { Secret } from './secret.js';

/** Where artifacts go: a local directory (the default, OUTPUT_DIR) or an S3-compatible bucket. */
export type StoreSettings = { kind: 'local'; directory: string } | ({ kind: 's3' } & S3StoreOptions);

export const storeEnv = z.object({
  /** `s3://bucket/prefix` for object storage; unset (or a directory) for the local store. */
  CLIPFLOW_STORE: text.optional(),
  CLIPFLOW_S3_ENDPOINT: z.url().optional(),
  CLIPFLOW_S3_REGION: text.optional(),
  CLIPFLOW_S3_FORCE_PATH_STYLE: bool.optional(),
  AWS_REGION: text.optional(),
  AWS_ACCESS_KEY_ID: text.optional(),
  AWS_SECRET_ACCESS_KEY: text.optional(),
  AWS_SESSION_TOKEN: text.optional(),
});

export function storeSettings(e: z.infer<typeof storeEnv>, outputDir: string): StoreSettings {
  const store = e.CLIPFLOW_STORE;
  if (!store?.includes('://')) return { kind: 'local', directory: store ? path.resolve(store) : outputDir };
  if (store.startsWith('file://')) return { kind: 'local', directory: path.resolve(new URL(store).pathname) };
  const s3 = parseS3Uri(store);
  if (!s3) throw invalid('CLIPFLOW_STORE', `${JSON.stringify(store)} is neither a directory nor s3://bucket/prefix`);
  return {
    kind: 's3',
    ...s3,
    region: e.CLIPFLOW_S3_REGION ?? e.AWS_REGION ?? 'us-east-1',
    ...(e.CLIPFLOW_S3_ENDPOINT ? { endpoint: e.CLIPFLOW_S3_ENDPOINT } : {}),
    // Self-hosted S3 servers (MinIO, versitygw, SeaweedFS) want path-style addressing.
    forcePathStyle: e.CLIPFLOW_S3_FORCE_PATH_STYLE ?? e.CLIPFLOW_S3_ENDPOINT !== undefined,
    ...(e.AWS_ACCESS_KEY_ID && e.AWS_SECRET_ACCESS_KEY
      ? {
          credentials: {
            accessKeyId: e.AWS_ACCESS_KEY_ID,
            secretAccessKey: new Secret(e.AWS_SECRET_ACCESS_KEY),
            ...(e.AWS_SESSION_TOKEN ? { sessionToken: new Secret(e.AWS_SESSION_TOKEN) } : {}),
          },
        }
      : {}),
  };
}
