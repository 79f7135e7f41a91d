import { existsSync } from 'node:fs';
import { loadClientConfigProfile, type ClientConfigProfile, type ConfigDataSource } from '@temporalio/envconfig';
import { z } from 'zod';
import { bool, ConfigError, text, type Env } from './env.js';
import { Secret } from './secret.js';

/** PEM text for TLS, from a file or inline; `setting` names where it was configured, for error messages. */
export type PemSource = { setting: string } & ({ path: string } | { data: Secret });

export interface TemporalTls {
  /** Overrides the server name (SNI) checked against the server's certificate. */
  serverName?: string;
  /** Client certificate and key for mTLS: both or neither. */
  clientCert?: PemSource;
  clientKey?: PemSource;
  /** CA that signed the server's certificate, when the system's roots do not cover it. */
  serverCaCert?: PemSource;
}

export interface TemporalConnection {
  /** The cluster's gRPC endpoint; without one the worker and CLI use localhost:7233 and `npm start` starts a dev server. */
  address?: string;
  namespace: string;
  /** Temporal Cloud API key; implies TLS. */
  apiKey?: Secret;
  /** TLS on when present (also when only an API key is given); plaintext otherwise. */
  tls?: TemporalTls;
  /** Extra gRPC headers (TEMPORAL_GRPC_META_* or the profile's grpc_meta). */
  grpcMeta?: Record<string, string>;
  /** The envconfig profile the connection settings came from, if a config file had it. */
  profile?: string;
}

export const connectionEnv = z.object({
  TEMPORAL_ADDRESS: text.optional(),
  TEMPORAL_NAMESPACE: text.optional(),
  TEMPORAL_API_KEY: text.optional(),
  TEMPORAL_TLS: bool.optional(),
  TEMPORAL_TLS_CLIENT_CERT_PATH: text.optional(),
  TEMPORAL_TLS_CLIENT_KEY_PATH: text.optional(),
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: text.optional(),
  TEMPORAL_TLS_SERVER_NAME: text.optional(),
  TEMPORAL_CONFIG_FILE: text.optional(),
  TEMPORAL_PROFILE: text.optional(),
});

/**
 * The connection to Temporal, the way every Temporal tool reads it (@temporalio/envconfig): a profile
 * of a TOML config file (TEMPORAL_CONFIG_FILE, else the user's temporalio/temporal.toml; TEMPORAL_PROFILE,
 * else "default") with the TEMPORAL_* variables on top. Files named here are read when connecting.
 */
export function loadTemporalConnection(env: Env): TemporalConnection {
  const vars: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined) vars[key] = value;
  const configFile = vars.TEMPORAL_CONFIG_FILE;
  if (configFile !== undefined && !existsSync(configFile)) {
    throw new ConfigError(`invalid configuration: TEMPORAL_CONFIG_FILE: no such file ${configFile}`);
  }
  let profile: ClientConfigProfile;
  try {
    profile = loadClientConfigProfile({ overrideEnvVars: vars });
  } catch (err) {
    const message = ((err as Error).message ?? String(err)).split('\n')[0] ?? '';
    const setting = /profile '.*' not found/i.test(message)
      ? 'TEMPORAL_PROFILE'
      : /cannot specify both/i.test(message)
        ? 'Temporal connection settings'
        : (configFile ? 'TEMPORAL_CONFIG_FILE' : 'the Temporal config file');
    throw new ConfigError(`invalid configuration: ${setting}: ${message}`);
  }
  const profileName = vars.TEMPORAL_PROFILE ?? 'default';
  const inProfile = (key: string) =>
    `${key} of profile "${profileName}" in ${configFile ?? 'the Temporal config file'}`;
  const source = (
    from: ConfigDataSource | undefined,
    pathVar: string,
    dataVar: string,
    tomlKey: string,
  ): PemSource | undefined => {
    if (!from) return undefined;
    if ('path' in from) return { setting: vars[pathVar] !== undefined ? pathVar : inProfile(`tls.${tomlKey}_path`), path: from.path };
    const text = typeof from.data === 'string' ? from.data : new TextDecoder().decode(from.data);
    return { setting: vars[dataVar] !== undefined ? dataVar : inProfile(`tls.${tomlKey}_data`), data: new Secret(text) };
  };

  const settings: TemporalConnection = { namespace: profile.namespace ?? 'default' };
  if (profile.address) settings.address = profile.address;
  if (profile.apiKey) settings.apiKey = new Secret(profile.apiKey);
  if (profile.grpcMeta && Object.keys(profile.grpcMeta).length > 0) settings.grpcMeta = profile.grpcMeta;
  if (vars.TEMPORAL_PROFILE) settings.profile = vars.TEMPORAL_PROFILE;

  // TLS when the profile or the TEMPORAL_TLS* variables ask for it, or when there is an API key,
  // unless it is switched off explicitly (TEMPORAL_TLS=false, tls.disabled = true).
  const tls = profile.tls;
  if (tls?.disabled) return settings;
  if (!tls && !settings.apiKey) return settings;
  const clientCert = source(tls?.clientCert, 'TEMPORAL_TLS_CLIENT_CERT_PATH', 'TEMPORAL_TLS_CLIENT_CERT_DATA', 'client_cert');
  const clientKey = source(tls?.clientKey, 'TEMPORAL_TLS_CLIENT_KEY_PATH', 'TEMPORAL_TLS_CLIENT_KEY_DATA', 'client_key');
  const serverCaCert = source(tls?.serverCACert, 'TEMPORAL_TLS_SERVER_CA_CERT_PATH', 'TEMPORAL_TLS_SERVER_CA_CERT_DATA', 'server_ca_cert');
  if (clientCert && !clientKey) {
    throw new ConfigError(`invalid configuration: ${clientCert.setting} is set but no client key is (TEMPORAL_TLS_CLIENT_KEY_PATH)`);
  }
  if (clientKey && !clientCert) {
    throw new ConfigError(`invalid configuration: ${clientKey.setting} is set but no client certificate is (TEMPORAL_TLS_CLIENT_CERT_PATH)`);
  }
  settings.tls = {
    ...(tls?.serverName ? { serverName: tls.serverName } : {}),
    ...(clientCert ? { clientCert } : {}),
    ...(clientKey ? { clientKey } : {}),
    ...(serverCaCert ? { serverCaCert } : {}),
  };
  return settings;
}
