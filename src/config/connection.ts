import { existsSync } from 'node:fs';
import { loadClientConfigProfile, loadClientConnectConfig } from '@temporalio/envconfig';
import type { TLSConfig } from '@temporalio/worker';
import { z } from 'zod';
import { explainProfileError, explainReadError, pemSources, requireCertWithKey, requirePem } from './connection-checks.js';
import { invalid, text, type Env } from './env.js';
import { Secret } from './secret.js';

/**
 * The connection to Temporal, read the way every Temporal tool reads it (@temporalio/envconfig): a
 * profile of a TOML file (TEMPORAL_CONFIG_FILE, else the user's temporalio/temporal.toml;
 * TEMPORAL_PROFILE, else "default") with the TEMPORAL_* variables on top. The same settings reach a
 * dev server (plaintext), a self-hosted cluster (TLS, maybe mTLS) or Temporal Cloud (API key or mTLS).
 */

export interface TemporalConnection {
  /** The cluster's gRPC endpoint; without one the worker and CLI use localhost:7233 and `npm start` starts a dev server. */
  address?: string;
  namespace: string;
  /** Temporal Cloud API key; implies TLS unless TLS is switched off. */
  apiKey?: Secret;
  /** TLS as envconfig built it, certificates and client key already read; absent means plaintext. */
  tls?: Secret<TLSConfig | boolean>;
  /** Extra gRPC headers (TEMPORAL_GRPC_META_* or the profile's grpc_meta). */
  grpcMeta?: Record<string, string>;
  /** The envconfig profile the connection settings came from, if TEMPORAL_PROFILE named one. */
  profile?: string;
}

/** envconfig takes these as they come; checked here so a bad one is named (TEMPORAL_TLS=ture would mean "off"). */
export const connectionEnv = z.object({
  TEMPORAL_ADDRESS: text.optional(),
  TEMPORAL_NAMESPACE: text.optional(),
  TEMPORAL_API_KEY: text.optional(),
  TEMPORAL_TLS: z.enum(['1', '0', 'true', 'false']).optional(),
  TEMPORAL_TLS_CLIENT_CERT_PATH: text.optional(),
  TEMPORAL_TLS_CLIENT_CERT_DATA: text.optional(),
  TEMPORAL_TLS_CLIENT_KEY_PATH: text.optional(),
  TEMPORAL_TLS_CLIENT_KEY_DATA: text.optional(),
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: text.optional(),
  TEMPORAL_TLS_SERVER_CA_CERT_DATA: text.optional(),
  TEMPORAL_TLS_SERVER_NAME: text.optional(),
  TEMPORAL_CONFIG_FILE: text.optional(),
  TEMPORAL_PROFILE: text.optional(),
});

export function loadTemporalConnection(env: Env): TemporalConnection {
  const vars: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) if (value !== undefined) vars[name] = value;
  const file = vars.TEMPORAL_CONFIG_FILE;
  // envconfig skips a config file that does not exist; one named on purpose must.
  if (file !== undefined && !existsSync(file)) throw invalid('TEMPORAL_CONFIG_FILE', `no such file ${file}`);

  // The profile first, so that a bad setting is named: the file behind a TLS setting, half a client
  // certificate pair (envconfig would drop it, and mTLS with it). Then the connection, as every
  // Temporal tool builds it.
  const profile = explainProfileError(file, () => loadClientConfigProfile({ overrideEnvVars: vars }));
  const pems = pemSources(profile, vars);
  requireCertWithKey(pems);
  const { namespace, connectionOptions } = explainReadError(pems, () => loadClientConnectConfig({ overrideEnvVars: vars }));
  const { address, apiKey, tls } = connectionOptions;
  if (tls && typeof tls === 'object') requirePem(tls, pems);

  const grpcMeta = profile.grpcMeta;
  return {
    namespace: namespace ?? 'default',
    ...(address ? { address } : {}),
    ...(vars.TEMPORAL_PROFILE ? { profile: vars.TEMPORAL_PROFILE } : {}),
    ...(apiKey ? { apiKey: new Secret(apiKey) } : {}),
    ...(tls !== undefined && tls !== null ? { tls: new Secret(tls) } : {}),
    ...(grpcMeta && Object.keys(grpcMeta).length > 0 ? { grpcMeta } : {}),
  };
}
