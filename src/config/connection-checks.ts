import { readFileSync } from 'node:fs';
import type { ClientConfigProfile, ConfigDataSource } from '@temporalio/envconfig';
import type { TLSConfig } from '@temporalio/worker';
import { invalid } from './env.js';

/**
 * What envconfig leaves unsaid: its messages name TOML keys or bare paths, not the setting to fix,
 * and it accepts half a client certificate pair or a file that is not PEM. Each check here fails
 * with one line naming the variable, or the key of the profile, at fault.
 */

const PEMS = [
  { field: 'clientCert', variable: 'TEMPORAL_TLS_CLIENT_CERT', key: 'client_cert', what: 'client certificate' },
  { field: 'clientKey', variable: 'TEMPORAL_TLS_CLIENT_KEY', key: 'client_key', what: 'client key' },
  { field: 'serverCACert', variable: 'TEMPORAL_TLS_SERVER_CA_CERT', key: 'server_ca_cert', what: 'server CA certificate' },
] as const;

/** A configured PEM source and the setting that configured it. */
export interface Pem {
  field: (typeof PEMS)[number]['field'];
  what: string;
  setting: string;
  source: ConfigDataSource;
}

export function explainProfileError(file: string | undefined, load: () => ClientConfigProfile): ClientConfigProfile {
  try {
    return load();
  } catch (err) {
    const message = (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
    const both = PEMS.find((p) => message.includes(`both ${p.key}_path`));
    const setting = /profile '.*' not found/i.test(message)
      ? 'TEMPORAL_PROFILE'
      : both
        ? `${both.variable}_PATH/_DATA`
        : file
          ? 'TEMPORAL_CONFIG_FILE'
          : 'the Temporal config file';
    throw invalid(setting, message);
  }
}

/** The PEM sources TLS will read (none when TLS is off), each with the setting behind it. */
export function pemSources(profile: ClientConfigProfile, vars: Record<string, string>): Pem[] {
  if (profile.tls?.disabled) return [];
  const where = `profile "${vars.TEMPORAL_PROFILE ?? 'default'}" in ${vars.TEMPORAL_CONFIG_FILE ?? 'the Temporal config file'}`;
  return PEMS.flatMap(({ field, variable, key, what }) => {
    const source = profile.tls?.[field];
    if (!source) return [];
    const suffix = 'path' in source ? 'PATH' : 'DATA';
    const setting =
      vars[`${variable}_${suffix}`] !== undefined ? `${variable}_${suffix}` : `tls.${key}_${suffix.toLowerCase()} of ${where}`;
    return [{ field, what, setting, source }];
  });
}

export function requireCertWithKey(pems: Pem[]): void {
  const cert = pems.find((p) => p.field === 'clientCert');
  const key = pems.find((p) => p.field === 'clientKey');
  if (cert && !key) throw invalid(cert.setting, 'is set but no client key is (TEMPORAL_TLS_CLIENT_KEY_PATH)');
  if (key && !cert) throw invalid(key.setting, 'is set but no client certificate is (TEMPORAL_TLS_CLIENT_CERT_PATH)');
}

/** Runs envconfig's file reading; its fs error names neither the setting nor, for a directory, the file. */
export function explainReadError<T>(pems: Pem[], read: () => T): T {
  try {
    return read();
  } catch (err) {
    for (const { source, setting, what } of pems) {
      const code = 'path' in source && readError(source.path);
      if (code) throw invalid(setting, `cannot read the ${what} ${source.path} (${code === 'ENOENT' ? 'no such file' : code})`);
    }
    throw err;
  }
}

function readError(file: string): string | undefined {
  try {
    readFileSync(file);
    return undefined;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? 'unreadable';
  }
}

/** envconfig passes any bytes on; what is not PEM would only fail later, in the TLS handshake. */
export function requirePem(tls: TLSConfig, pems: Pem[]): void {
  const bytes = { clientCert: tls.clientCertPair?.crt, clientKey: tls.clientCertPair?.key, serverCACert: tls.serverRootCACertificate };
  for (const pem of pems) {
    const data = bytes[pem.field];
    if (data && !Buffer.from(data).includes('-----BEGIN ')) {
      const file = 'path' in pem.source ? ` ${pem.source.path}` : '';
      throw invalid(pem.setting, `the ${pem.what}${file} is not PEM (no "-----BEGIN" line)`);
    }
  }
}
