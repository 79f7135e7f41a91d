import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clientConnectionOptions,
  ConfigError,
  connectionSecrets,
  describeConnection,
  loadConfig,
  nativeConnectionOptions,
} from '../src/config/index.js';
import type { DevServer } from '../src/dev-server/start-dev-server.js';
import { startTestServer } from './support/env.js';

const API_KEY = 'tcld_test_key_0123456789abcdef';

let dir: string;
let certFile: string;
let keyFile: string;
let caFile: string;
let keyPem: string;

/** An environment with only what the test gives (no HOME: no user config file is read). */
function config(env: Record<string, string>) {
  return loadConfig({ OUTPUT_DIR: path.join(dir, 'out'), CLIPFLOW_DATA_DIR: path.join(dir, 'data'), ...env });
}

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'clipflow-connection-'));
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  // The options only carry the bytes; the server is what would check the certificate itself.
  const certPem = `-----BEGIN CERTIFICATE-----\nMIIBfakeclientcertificate\n-----END CERTIFICATE-----\n`;
  const caPem = `-----BEGIN CERTIFICATE-----\nMIIBfakeservercacertificate\n-----END CERTIFICATE-----\n`;
  certFile = path.join(dir, 'client.pem');
  keyFile = path.join(dir, 'client.key');
  caFile = path.join(dir, 'ca.pem');
  await writeFile(certFile, certPem);
  await writeFile(keyFile, keyPem);
  await writeFile(caFile, caPem);
});

describe('connection options from the environment', () => {
  it('reaches a dev server in plaintext by default', () => {
    const c = config({});
    expect(c.temporal.namespace).toBe('default');
    const native = nativeConnectionOptions(c);
    expect(native).toEqual({ address: 'localhost:7233' });
    expect(clientConnectionOptions(c)).toEqual({ address: 'localhost:7233' });

    const named = config({ TEMPORAL_ADDRESS: 'temporal.internal:7233', TEMPORAL_NAMESPACE: 'video' });
    expect(nativeConnectionOptions(named)).toEqual({ address: 'temporal.internal:7233' });
    expect(named.temporal.namespace).toBe('video');
    expect(describeConnection(named)).toEqual({
      address: 'temporal.internal:7233',
      namespace: 'video',
      tls: false,
      mtls: false,
      apiKey: false,
    });
  });

  it('turns TLS on with an API key and sends the key, which stays out of logs and JSON', () => {
    const c = config({
      TEMPORAL_ADDRESS: 'us-east-1.aws.api.temporal.io:7233',
      TEMPORAL_NAMESPACE: 'clipflow.a1b2c',
      TEMPORAL_API_KEY: API_KEY,
      TEMPORAL_GRPC_META_X_CLIPFLOW_TEAM: 'video',
    });
    for (const options of [nativeConnectionOptions(c), clientConnectionOptions(c)]) {
      expect(options.address).toBe('us-east-1.aws.api.temporal.io:7233');
      expect(options.apiKey).toBe(API_KEY);
      // envconfig's "TLS with the defaults" (the SDK reads true as {}).
      expect(options.tls).toBe(true);
      expect(options.metadata).toEqual({ 'x-clipflow-team': 'video' });
    }
    expect(c.temporal.namespace).toBe('clipflow.a1b2c');
    expect(describeConnection(c)).toMatchObject({ tls: true, apiKey: true, mtls: false });
    expect(JSON.stringify(c)).not.toContain(API_KEY);
    expect(inspect(c, { depth: 10 })).not.toContain(API_KEY);
    expect(JSON.stringify(describeConnection(c))).not.toContain(API_KEY);
  });

  it('an explicit TEMPORAL_TLS=false keeps a plaintext connection even with an API key (a local proxy)', () => {
    const c = config({ TEMPORAL_API_KEY: API_KEY, TEMPORAL_TLS: 'false' });
    const options = nativeConnectionOptions(c);
    // false, not absent: the SDK turns TLS on for an API key when tls is left out.
    expect(options.tls).toBe(false);
    expect(options.apiKey).toBe(API_KEY);
    expect(describeConnection(c)).toMatchObject({ tls: false, apiKey: true });
  });

  it('names TEMPORAL_TLS when it is not a boolean (envconfig would read it as "off")', () => {
    const err = configError(() => config({ TEMPORAL_API_KEY: API_KEY, TEMPORAL_TLS: 'ture' }));
    expect(err.message).toContain('TEMPORAL_TLS');
  });

  it('reads the mTLS client certificate and key, the server CA and the server name from files', () => {
    const c = config({
      TEMPORAL_ADDRESS: 'temporal.example.com:7233',
      TEMPORAL_TLS_CLIENT_CERT_PATH: certFile,
      TEMPORAL_TLS_CLIENT_KEY_PATH: keyFile,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: caFile,
      TEMPORAL_TLS_SERVER_NAME: 'temporal.example.com',
    });
    const native = nativeConnectionOptions(c);
    expect(native.apiKey).toBeUndefined();
    const tls = native.tls as {
      serverNameOverride?: string;
      serverRootCACertificate?: Uint8Array;
      clientCertPair?: { crt: Uint8Array; key: Uint8Array };
    };
    expect(tls.serverNameOverride).toBe('temporal.example.com');
    expect(Buffer.from(tls.clientCertPair!.crt).toString()).toContain('fakeclientcertificate');
    expect(Buffer.from(tls.clientCertPair!.key).toString()).toBe(keyPem);
    expect(Buffer.from(tls.serverRootCACertificate!).toString()).toContain('fakeservercacertificate');
    expect(clientConnectionOptions(c).tls).toEqual(native.tls);
    expect(describeConnection(c)).toMatchObject({ tls: true, mtls: true, apiKey: false });
    // The key is read with the configuration, so it stays inside a Secret, and the logger redacts it.
    expect(JSON.stringify(c)).not.toMatch(/clientCertPair|PRIVATE KEY/);
    expect(inspect(c, { depth: 10 })).not.toMatch(/clientCertPair|PRIVATE KEY/);
    expect(connectionSecrets(c)).toEqual([keyPem]);
  });

  it('names both variables when a PEM is given as a path and as data', () => {
    const err = configError(() =>
      config({ TEMPORAL_TLS_CLIENT_CERT_PATH: certFile, TEMPORAL_TLS_CLIENT_CERT_DATA: 'x', TEMPORAL_TLS_CLIENT_KEY_PATH: keyFile }),
    );
    expect(err.message).toContain('TEMPORAL_TLS_CLIENT_CERT_PATH/_DATA');
  });

  it('names the variable when a certificate file cannot be read', () => {
    const missing = path.join(dir, 'nope', 'client.pem');
    const noCert = configError(() =>
      nativeConnectionOptions(config({ TEMPORAL_TLS_CLIENT_CERT_PATH: missing, TEMPORAL_TLS_CLIENT_KEY_PATH: keyFile })),
    );
    expect(noCert.message).toContain('TEMPORAL_TLS_CLIENT_CERT_PATH');
    expect(noCert.message).toContain(missing);
    expect(noCert.message).toContain('no such file');

    const noKey = configError(() =>
      clientConnectionOptions(
        config({ TEMPORAL_TLS_CLIENT_CERT_PATH: certFile, TEMPORAL_TLS_CLIENT_KEY_PATH: path.join(dir, 'missing.key') }),
      ),
    );
    expect(noKey.message).toContain('TEMPORAL_TLS_CLIENT_KEY_PATH');

    const noCa = configError(() => nativeConnectionOptions(config({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: dir })));
    expect(noCa.message).toContain('TEMPORAL_TLS_SERVER_CA_CERT_PATH');
    expect(noCa.message).toContain('EISDIR');
  });

  it('refuses a certificate without its key, naming both variables', () => {
    const err = configError(() => config({ TEMPORAL_TLS_CLIENT_CERT_PATH: certFile }));
    expect(err.message).toContain('TEMPORAL_TLS_CLIENT_CERT_PATH');
    expect(err.message).toContain('TEMPORAL_TLS_CLIENT_KEY_PATH');
  });

  it('rejects a file that is not PEM, naming the variable', async () => {
    const text = path.join(dir, 'not-a-cert.txt');
    await writeFile(text, 'hello');
    const err = configError(() => nativeConnectionOptions(config({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: text })));
    expect(err.message).toContain('TEMPORAL_TLS_SERVER_CA_CERT_PATH');
    expect(err.message).toContain('not PEM');
  });

  it('takes a TOML profile (TEMPORAL_CONFIG_FILE, TEMPORAL_PROFILE), the variables overriding it', async () => {
    const file = path.join(dir, 'temporal.toml');
    await writeFile(
      file,
      [
        '[profile.default]',
        'address = "localhost:7233"',
        '',
        '[profile.cloud]',
        'address = "clipflow.a1b2c.tmprl.cloud:7233"',
        'namespace = "clipflow.a1b2c"',
        `api_key = "${API_KEY}"`,
        '',
        '[profile.mtls]',
        'address = "temporal.example.com:7233"',
        '[profile.mtls.tls]',
        `client_cert_path = "${certFile}"`,
        `client_key_path = "${path.join(dir, 'missing.key')}"`,
      ].join('\n'),
    );
    const cloud = config({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'cloud' });
    expect(cloud.temporal.namespace).toBe('clipflow.a1b2c');
    expect(cloud.temporal.profile).toBe('cloud');
    expect(nativeConnectionOptions(cloud)).toMatchObject({ address: 'clipflow.a1b2c.tmprl.cloud:7233', apiKey: API_KEY, tls: true });

    const overridden = config({
      TEMPORAL_CONFIG_FILE: file,
      TEMPORAL_PROFILE: 'cloud',
      TEMPORAL_ADDRESS: 'proxy:7233',
      TEMPORAL_NAMESPACE: 'other',
    });
    expect(overridden.temporal.address).toBe('proxy:7233');
    expect(overridden.temporal.namespace).toBe('other');

    expect(nativeConnectionOptions(config({ TEMPORAL_CONFIG_FILE: file }))).toEqual({ address: 'localhost:7233' });

    const badKey = configError(() => nativeConnectionOptions(config({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'mtls' })));
    expect(badKey.message).toContain('tls.client_key_path of profile "mtls"');

    const noProfile = configError(() => config({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'staging' }));
    expect(noProfile.message).toContain('TEMPORAL_PROFILE');
    expect(noProfile.message).toContain('staging');

    const noFile = configError(() => config({ TEMPORAL_CONFIG_FILE: path.join(dir, 'absent.toml') }));
    expect(noFile.message).toContain('TEMPORAL_CONFIG_FILE');

    const broken = path.join(dir, 'broken.toml');
    await writeFile(broken, '[profile.default\naddress = ');
    expect(configError(() => config({ TEMPORAL_CONFIG_FILE: broken })).message).toContain('TEMPORAL_CONFIG_FILE');
  });
});

describe('connecting with the options', () => {
  let server: DevServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('the worker connection and the client reach the dev server the environment names', async () => {
    const c = config({ TEMPORAL_ADDRESS: server.address });
    const native = await NativeConnection.connect(nativeConnectionOptions(c));
    const connection = await Connection.connect(clientConnectionOptions(c));
    try {
      const client = new Client({ connection, namespace: c.temporal.namespace });
      const described = await client.workflowService.describeNamespace({ namespace: c.temporal.namespace });
      expect(described.namespaceInfo?.name).toBe('default');
      const health = await native.workflowService.getSystemInfo({});
      expect(health.serverVersion).toBeTruthy();
    } finally {
      await connection.close();
      await native.close();
    }
  });

  it('TEMPORAL_TLS=false with an API key really talks plaintext to a server without TLS', async () => {
    const c = config({ TEMPORAL_ADDRESS: server.address, TEMPORAL_API_KEY: API_KEY, TEMPORAL_TLS: 'false' });
    const native = await NativeConnection.connect(nativeConnectionOptions(c));
    const connection = await Connection.connect(clientConnectionOptions(c));
    try {
      expect((await native.workflowService.getSystemInfo({})).serverVersion).toBeTruthy();
      expect((await connection.workflowService.getSystemInfo({})).serverVersion).toBeTruthy();
    } finally {
      await connection.close();
      await native.close();
    }
  });
});
