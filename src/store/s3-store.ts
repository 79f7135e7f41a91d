import { createReadStream, createWriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { ArtifactStore } from './artifact-store.js';

export interface S3StoreOptions {
  bucket: string;
  /** Key prefix inside the bucket, without leading or trailing slash; may be empty. */
  prefix: string;
  region: string;
  /** For MinIO, R2, SeaweedFS, versitygw: their URL; path-style addressing with it by default. */
  endpoint?: string;
  forcePathStyle: boolean;
  /** Keys given in the configuration; otherwise the SDK's standard chain (profile, instance role, …). */
  credentials?: { accessKeyId: string; secretAccessKey: Secret; sessionToken?: Secret };
}

/** A value that must not reach logs; only `reveal()` gives it. */
interface Secret {
  reveal(): string;
}

/**
 * S3-compatible object storage as the artifact store, so workers on several machines share
 * artifacts. Credentials come from the AWS SDK's standard chain (environment, profile, instance
 * role). Clips go up in parts (lib-storage), so a large clip is never held in memory whole.
 */
export function createS3Store(options: S3StoreOptions): ArtifactStore {
  const client = new S3Client({
    region: options.region,
    forcePathStyle: options.forcePathStyle,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials
      ? {
          credentials: {
            accessKeyId: options.credentials.accessKeyId,
            secretAccessKey: options.credentials.secretAccessKey.reveal(),
            ...(options.credentials.sessionToken ? { sessionToken: options.credentials.sessionToken.reveal() } : {}),
          },
        }
      : {}),
  });
  const { bucket } = options;
  const prefix = options.prefix ? `${options.prefix}/` : '';
  const root = `s3://${bucket}/${options.prefix}`;

  const keyOf = (uri: string) => {
    const start = `s3://${bucket}/${prefix}`;
    if (!uri.startsWith(start)) throw new Error(`${uri} is not in the store ${root}`);
    return uri.slice(`s3://${bucket}/`.length);
  };
  const uriOf = (key: string) => `s3://${bucket}/${prefix}${key}`;
  const body = async (uri: string) => {
    const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: keyOf(uri) }));
    if (!object.Body) throw new Error(`${uri} has no body`);
    return object.Body;
  };

  return {
    root,
    async putFile(key, file, contentType) {
      const upload = new Upload({
        client,
        params: { Bucket: bucket, Key: `${prefix}${key}`, Body: createReadStream(file), ContentType: contentType },
      });
      await upload.done();
      return uriOf(key);
    },
    async putText(key, text, contentType) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}${key}`, Body: text, ContentType: contentType }));
      return uriOf(key);
    },
    getText: async (uri) => (await body(uri)).transformToString('utf8'),
    async download(uri, file) {
      await pipeline((await body(uri)) as Readable, createWriteStream(file));
    },
    uriOf,
    pathOf: () => undefined,
    close: async () => client.destroy(),
  };
}

/** `s3://bucket/some/prefix` → bucket and prefix. */
export function parseS3Uri(uri: string): { bucket: string; prefix: string } | undefined {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(uri);
  if (!match) return undefined;
  return { bucket: match[1]!, prefix: (match[2] ?? '').replace(/^\/+|\/+$/g, '') };
}
