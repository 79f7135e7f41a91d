import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from '@temporalio/client';
import type { NativeConnectionOptions, TLSConfig } from '@temporalio/worker';
import type { PemSource, TemporalConnection } from './connection.js';
import { ConfigError } from './env.js';

/**
 * Turns the configuration's Temporal settings into connection options: NativeConnection for the
 * worker, Connection for the client. The same settings reach a dev server (plaintext), a
 * self-hosted cluster (TLS, maybe mTLS) or Temporal Cloud (API key or mTLS).
 */

interface Configured {
  temporal: TemporalConnection;
}

export const DEFAULT_ADDRESS = 'localhost:7233';

interface CommonConnectionOptions {
  address: string;
  tls?: TLSConfig | boolean;
  apiKey?: string;
  metadata?: Record<string, string>;
}

function commonOptions(config: Configured): CommonConnectionOptions {
  const { temporal } = config;
  return {
    address: temporal.address ?? DEFAULT_ADDRESS,
    ...(temporal.tls ? { tls: tlsConfig(temporal.tls) } : {}),
    ...(temporal.apiKey ? { apiKey: temporal.apiKey.reveal() } : {}),
    ...(temporal.grpcMeta ? { metadata: { ...temporal.grpcMeta } } : {}),
  };
}

/** Options for the worker's NativeConnection.connect(). */
export function nativeConnectionOptions(config: Configured): NativeConnectionOptions {
  return commonOptions(config);
}

/** Options for the client's Connection.connect(). */
export function clientConnectionOptions(config: Configured): ConnectionOptions {
  return commonOptions(config);
}

/** What may be logged about the connection: where to, and how it authenticates — never the credentials. */
export function describeConnection(config: Configured): {
  address: string;
  namespace: string;
  tls: boolean;
  mtls: boolean;
  apiKey: boolean;
  profile?: string;
} {
  const { temporal } = config;
  return {
    address: temporal.address ?? DEFAULT_ADDRESS,
    namespace: temporal.namespace,
    tls: temporal.tls !== undefined,
    mtls: temporal.tls?.clientCert !== undefined,
    apiKey: temporal.apiKey !== undefined,
    ...(temporal.profile ? { profile: temporal.profile } : {}),
  };
}

function tlsConfig(tls: NonNullable<TemporalConnection['tls']>): TLSConfig {
  const crt = tls.clientCert && readPem(tls.clientCert, 'client certificate');
  const key = tls.clientKey && readPem(tls.clientKey, 'client key');
  const ca = tls.serverCaCert && readPem(tls.serverCaCert, 'server CA certificate');
  return {
    ...(tls.serverName ? { serverNameOverride: tls.serverName } : {}),
    ...(ca ? { serverRootCACertificate: ca } : {}),
    ...(crt && key ? { clientCertPair: { crt, key } } : {}),
  };
}

/** Reads PEM text, failing with the setting's name rather than a bare ENOENT. */
function readPem(source: PemSource, what: string): Buffer {
  let bytes: Buffer;
  if ('path' in source) {
    try {
      bytes = readFileSync(source.path);
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : ((err as NodeJS.ErrnoException).code ?? (err as Error).message);
      throw new ConfigError(`invalid configuration: ${source.setting}: cannot read the ${what} ${source.path} (${reason})`);
    }
  } else {
    bytes = Buffer.from(source.data.reveal(), 'utf8');
  }
  if (!bytes.toString('utf8').includes('-----BEGIN ')) {
    const where = 'path' in source ? ` ${source.path}` : '';
    throw new ConfigError(`invalid configuration: ${source.setting}: the ${what}${where} is not PEM (no "-----BEGIN" line)`);
  }
  return bytes;
}
