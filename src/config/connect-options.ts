import type { ConnectionOptions } from '@temporalio/client';
import type { NativeConnectionOptions, TLSConfig } from '@temporalio/worker';
import type { TemporalConnection } from './connection.js';

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

function commonOptions({ temporal }: Configured): CommonConnectionOptions {
  return {
    address: temporal.address ?? DEFAULT_ADDRESS,
    ...(temporal.tls ? { tls: temporal.tls.reveal() } : {}),
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
export function describeConnection({ temporal }: Configured): {
  address: string;
  namespace: string;
  tls: boolean;
  mtls: boolean;
  apiKey: boolean;
  profile?: string;
} {
  const tls = temporal.tls?.reveal();
  return {
    address: temporal.address ?? DEFAULT_ADDRESS,
    namespace: temporal.namespace,
    // As the SDK decides: an API key without a TLS setting means TLS.
    tls: tls === undefined ? temporal.apiKey !== undefined : tls !== false,
    mtls: typeof tls === 'object' && tls.clientCertPair !== undefined,
    apiKey: temporal.apiKey !== undefined,
    ...(temporal.profile ? { profile: temporal.profile } : {}),
  };
}

/** The connection's credentials as text, for the logger to redact: the API key and the client key. */
export function connectionSecrets({ temporal }: Configured): string[] {
  const tls = temporal.tls?.reveal();
  const key = typeof tls === 'object' ? tls.clientCertPair?.key : undefined;
  return [temporal.apiKey?.reveal(), key && new TextDecoder().decode(key)].filter((s): s is string => !!s);
}
