import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { CONFIG_VARIABLES, loadConfig } from '../src/config/index.js';
import { createClipMetrics } from '../src/telemetry/clip-metrics.js';
import { TASK_QUEUE } from '../src/shared/names.js';

/**
 * No Docker engine runs these files here, so this test reads them as data and checks that the
 * pieces agree with each other and with what the worker's configuration accepts.
 */

const root = (p: string): string => fileURLToPath(new URL(`../${p}`, import.meta.url));
const read = (p: string): string => readFileSync(root(p), 'utf8');

type Env = Record<string, string | undefined>;
interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: (string | number | { target: number; published?: string | number })[];
  healthcheck?: { test: string | string[]; interval?: string };
  depends_on?: string[] | Record<string, { condition?: string }>;
  volumes?: (string | { type?: string; source?: string; target: string })[];
  entrypoint?: string | string[];
  command?: string | string[];
  stop_grace_period?: string;
  restart?: string;
}
interface ComposeFile {
  version?: unknown;
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const composeText = read('docker-compose.yml');
const compose = parse(composeText) as ComposeFile;
const services = compose.services;

function service(name: string): Service {
  const s = services[name];
  if (!s) throw new Error(`docker-compose.yml has no service "${name}"`);
  return s;
}

/** Compose variable interpolation (the subset the file may use), against `host` as the shell. */
function interpolate(value: string, host: Env): string {
  return value.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (whole, braced: string | undefined, op: string | undefined, arg: string | undefined, bare: string | undefined) => {
      if (whole === '$$') return '$';
      const name = (braced ?? bare)!;
      const v = host[name];
      const missing = op?.startsWith(':') ? v === undefined || v === '' : v === undefined;
      if (!op) return v ?? '';
      if (op.endsWith('-')) return missing ? (arg ?? '') : v!;
      if (missing) throw new Error(`required variable ${name}: ${arg}`);
      return v!;
    },
  );
}

/**
 * A service's container environment as compose would set it: list or map syntax, values
 * interpolated, and bare names (`- NAME` / `NAME:`) passed through from the shell only when set.
 */
function envOf(name: string, host: Env = {}): Record<string, string> {
  const raw = service(name).environment ?? {};
  const entries: [string, string | null][] = Array.isArray(raw)
    ? raw.map((e) => {
        const i = e.indexOf('=');
        return i < 0 ? [e, null] : [e.slice(0, i), e.slice(i + 1)];
      })
    : Object.entries(raw).map(([k, v]) => [k, v === null ? null : String(v)]);
  const env: Record<string, string> = {};
  for (const [k, v] of entries) {
    if (v === null) {
      if (host[k] !== undefined) env[k] = host[k]!;
    } else {
      env[k] = interpolate(v, host);
    }
  }
  return env;
}

/** Names of the variables the worker's only environment reader declares. */
function declaredConfigVariables(): Set<string> {
  return new Set(CONFIG_VARIABLES);
}

function dependsOn(name: string): Record<string, string | undefined> {
  const d = service(name).depends_on ?? {};
  return Array.isArray(d)
    ? Object.fromEntries(d.map((n) => [n, 'service_started']))
    : Object.fromEntries(Object.entries(d).map(([k, v]) => [k, v?.condition ?? 'service_started']));
}

/** Port mappings as [published host port | undefined, container port]. */
function portsOf(name: string): [number | undefined, number][] {
  return (service(name).ports ?? []).map((p) => {
    if (typeof p === 'object') return [p.published === undefined ? undefined : Number(p.published), p.target];
    const parts = String(p)
      .replace(/\/(tcp|udp)$/, '')
      .split(':');
    const container = Number(parts.at(-1));
    return [parts.length > 1 ? Number(parts.at(-2)) : undefined, container];
  });
}

function hostPort(address: string): { host: string; port: number } {
  const m = /^([^:]+):(\d+)$/.exec(address);
  if (!m) throw new Error(`not a host:port address: ${address}`);
  return { host: m[1]!, port: Number(m[2]) };
}

function healthTest(name: string): string {
  const t = service(name).healthcheck?.test;
  if (!t) throw new Error(`service "${name}" has no healthcheck`);
  return Array.isArray(t) ? t.join(' ') : t;
}

function seconds(duration: string): number {
  let total = 0;
  for (const m of duration.matchAll(/(\d+(?:\.\d+)?)(h|m|s|ms)/g)) {
    total += Number(m[1]) * { h: 3600, m: 60, s: 1, ms: 0.001 }[m[2] as 'h' | 'm' | 's' | 'ms'];
  }
  return total;
}

const SEARCH_ATTRIBUTES = {
  ClipflowJobId: 'Keyword',
  ClipflowClipsSucceeded: 'Int',
  ClipflowClipsFailed: 'Int',
  ClipflowSpendUsd: 'Double',
};

describe('docker-compose.yml', () => {
  it('is a compose-spec file with the ten services', () => {
    expect(compose.version).toBeUndefined();
    expect(Object.keys(services).sort()).toEqual([
      'grafana',
      'minio',
      'minio-setup',
      'postgres',
      'prometheus',
      'temporal',
      'temporal-schema',
      'temporal-setup',
      'temporal-ui',
      'worker',
    ]);
    expect(service('prometheus').image).toMatch(/^prom\/prometheus:v\d+\.\d+\.\d+$/);
    expect(service('grafana').image).toMatch(/^grafana\/grafana:\d+\.\d+\.\d+$/);
    expect(service('minio').image).toMatch(/^minio\/minio:RELEASE\./);
    expect(service('minio-setup').image).toMatch(/^minio\/mc:RELEASE\./);
    expect(service('postgres').image).toBe('postgres:16');
    // Temporal's maintained server image (auto-setup is no longer built), and admin-tools of the same version.
    expect(service('temporal').image).toMatch(/^temporalio\/server:1\.\d+\.\d+$/);
    const version = service('temporal').image!.split(':')[1]!;
    for (const name of ['temporal-schema', 'temporal-setup'])
      expect(service(name).image).toMatch(new RegExp(`^temporalio/admin-tools:${version}(-|$)`));
    expect(service('temporal-ui').image).toMatch(/^temporalio\/ui:2\.\d+\.\d+$/);
    expect(service('temporal-setup').image).toMatch(/^temporalio\/admin-tools:1\.\d+\.\d+/);
    const build = service('worker').build;
    expect(typeof build === 'string' ? build : build?.context).toBe('.');
    expect(service('worker').image).toBeUndefined();
  });

  it('publishes the Temporal frontend on 7233 and the UI container port 8080', () => {
    expect(portsOf('temporal')).toContainEqual([7233, 7233]);
    const ui = portsOf('temporal-ui').filter(([, container]) => container === 8080);
    expect(ui).toHaveLength(1);
    expect([8080, 8233]).toContain(ui[0]![0]);
  });

  it('gives postgres and temporal real healthchecks', () => {
    expect(healthTest('postgres')).toMatch(/\bpg_isready\b/);
    const env = envOf('postgres');
    // The check names the same user and database the image creates.
    expect(healthTest('postgres')).toContain(`-U ${env.POSTGRES_USER}`);
    expect(healthTest('postgres')).toContain(`-d ${env.POSTGRES_DB}`);
    // The server image has no Temporal CLI: the check is that the frontend's port is open, on
    // loopback, which the server listens on only when bound to every address.
    expect(healthTest('temporal')).toMatch(/\bnc -z localhost 7233\b/);
    expect(envOf('temporal').BIND_ON_IP).toBe('0.0.0.0');
  });

  it('starts services only after what they need is healthy or done', () => {
    expect(dependsOn('temporal-schema')).toEqual({ postgres: 'service_healthy' });
    expect(dependsOn('temporal')).toEqual({ postgres: 'service_healthy', 'temporal-schema': 'service_completed_successfully' });
    expect(dependsOn('temporal-setup')).toEqual({ temporal: 'service_healthy' });
    expect(Object.keys(dependsOn('temporal-ui'))).toEqual(['temporal']);
    expect(dependsOn('worker')).toEqual({
      temporal: 'service_healthy',
      postgres: 'service_healthy',
      'temporal-setup': 'service_completed_successfully',
      'minio-setup': 'service_completed_successfully',
    });
    expect(dependsOn('minio-setup')).toEqual({ minio: 'service_healthy' });
    // Every dependency names a service of this file.
    for (const name of Object.keys(services)) {
      for (const dep of Object.keys(dependsOn(name))) expect(services, `${name} -> ${dep}`).toHaveProperty([dep]);
    }
  });

  it('stores the worker’s artifacts in the bucket the setup job creates, with the object store’s own credentials', () => {
    const worker = envOf('worker');
    const minio = envOf('minio');
    const setup = (service('minio-setup').command as string[]).join('\n');
    const bucket = /^s3:\/\/([^/]+)\//.exec(worker.CLIPFLOW_STORE ?? '')?.[1];
    expect(bucket).toBe('clipflow');
    expect(setup).toContain(`mc mb --ignore-existing store/${bucket}`);
    expect(worker.CLIPFLOW_S3_ENDPOINT).toBe('http://minio:9000');
    expect(worker.AWS_ACCESS_KEY_ID).toBe(minio.MINIO_ROOT_USER);
    expect(worker.AWS_SECRET_ACCESS_KEY).toBe(minio.MINIO_ROOT_PASSWORD);
    expect(loadConfig(worker).store).toMatchObject({ kind: 's3', bucket: 'clipflow', prefix: 'jobs', forcePathStyle: true });
  });

  it("points the worker, the UI and the setup job at the temporal service's port", () => {
    const temporalContainerPorts = portsOf('temporal').map(([, c]) => c);
    for (const name of ['worker', 'temporal-ui', 'temporal-setup']) {
      const { host, port } = hostPort(envOf(name).TEMPORAL_ADDRESS!);
      expect(host, name).toBe('temporal');
      expect(temporalContainerPorts, name).toContain(port);
    }
  });

  it("connects Temporal to the postgres service with postgres's own credentials", () => {
    for (const host of [{}, { POSTGRES_PASSWORD: 'another-password' }] as Env[]) {
      const pg = envOf('postgres', host);
      const t = envOf('temporal', host);
      expect(t.DB).toBe('postgres12');
      expect(t.POSTGRES_SEEDS).toBe('postgres');
      expect(services).toHaveProperty([t.POSTGRES_SEEDS!]);
      expect(t.DB_PORT).toBe('5432');
      expect(t.POSTGRES_USER).toBe(pg.POSTGRES_USER);
      expect(t.POSTGRES_PWD).toBe(pg.POSTGRES_PASSWORD);
    }
  });

  it("gives the worker a DATABASE_URL that matches the postgres service, in a database of clipflow's own", () => {
    for (const host of [{}, { POSTGRES_PASSWORD: 'another-password' }] as Env[]) {
      const pg = envOf('postgres', host);
      const url = new URL(envOf('worker', host).DATABASE_URL!);
      expect(url.protocol).toMatch(/^postgres(ql)?:$/);
      expect(decodeURIComponent(url.username)).toBe(pg.POSTGRES_USER);
      expect(decodeURIComponent(url.password)).toBe(pg.POSTGRES_PASSWORD);
      expect(url.hostname).toBe('postgres');
      expect(url.port).toBe('5432');
      const db = url.pathname.slice(1);
      expect(db).toBe(pg.POSTGRES_DB);
      // Temporal's databases (the server's defaults when unset) are separate from the cost ledger.
      const t = envOf('temporal', host);
      expect([t.DBNAME ?? 'temporal', t.VISIBILITY_DBNAME ?? 'temporal_visibility']).not.toContain(db);
    }
  });

  it('sets only worker variables that src/config reads', () => {
    const known = declaredConfigVariables();
    expect(known.size).toBeGreaterThan(20);
    const raw = service('worker').environment;
    const names = Array.isArray(raw) ? raw.map((e) => e.split('=')[0]!) : Object.keys(raw ?? {});
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) expect(known.has(name), `${name} is not read by src/config`).toBe(true);
  });

  it("yields a worker environment that the worker's configuration accepts", () => {
    // An empty shell: every default applies and pass-through variables stay unset.
    const devEnv = envOf('worker');
    for (const [k, v] of Object.entries(devEnv)) expect(v, `${k} is set but empty`).not.toBe('');
    const dev = loadConfig(devEnv);
    expect(dev.environment).toBe('development');
    expect(dev.temporal.address).toBe('temporal:7233');
    expect(dev.temporal.namespace).toBe('default');
    expect(dev.temporal.taskQueue).toBe(TASK_QUEUE);
    expect(dev.databaseUrl).toBe(devEnv.DATABASE_URL);
    expect(dev.outputDir).toBe('/data/outputs');
    expect(dev.dataDir).toBe('/data/state');
    expect(dev.generation.provider).toBe('local');
    expect(dev.replicate.apiToken).toBeUndefined();

    const prodEnv = envOf('worker', { CLIPFLOW_ENV: 'production', REPLICATE_API_TOKEN: 'r8_test' });
    const prod = loadConfig(prodEnv);
    expect(prod.environment).toBe('production');
    expect(prod.generation.provider).toBe('replicate');
    expect(prod.replicate.apiToken).toBe('r8_test');
  });

  it("keeps the worker's outputs and state on a named volume at /data", () => {
    const worker = service('worker');
    const mounts = (worker.volumes ?? []).map((v) => (typeof v === 'string' ? v.split(':') : [v.source, v.target]));
    const data = mounts.find(([, target]) => target === '/data');
    expect(data, 'a volume on /data').toBeDefined();
    expect(compose.volumes ?? {}).toHaveProperty([data![0]!]);
    const env = envOf('worker');
    expect(env.OUTPUT_DIR!.startsWith('/data/')).toBe(true);
    expect(env.CLIPFLOW_DATA_DIR!.startsWith('/data/')).toBe(true);
    expect(env.OUTPUT_DIR).not.toBe(env.CLIPFLOW_DATA_DIR);
    // postgres keeps its data on a named volume too.
    const pgMount = (service('postgres').volumes ?? []).map((v) => (typeof v === 'string' ? v.split(':') : [v.source, v.target]));
    expect(pgMount.find(([, t]) => t === '/var/lib/postgresql/data')?.[0]).toSatisfy(
      (s: unknown) => typeof s === 'string' && Object.hasOwn(compose.volumes ?? {}, s),
    );
  });

  it('stops the worker gently and restarts it on failure', () => {
    const worker = service('worker');
    expect(worker.restart).toBe('unless-stopped');
    expect(seconds(worker.stop_grace_period ?? '10s')).toBeGreaterThanOrEqual(30);
  });

  it("creates and migrates the server's two databases before it starts, as postgres's user", () => {
    for (const host of [{}, { POSTGRES_PASSWORD: 'another-password' }] as Env[]) {
      const job = service('temporal-schema');
      const script = (job.command as string[]).map((c) => interpolate(c, host)).join('\n');
      const t = envOf('temporal', host);
      const pg = envOf('postgres', host);
      // Every temporal-sql-tool run goes through one function with the server's connection.
      const tool = /sql\(\) \{ temporal-sql-tool (.*) "\$@"; \}/.exec(script)?.[1] ?? '';
      expect(tool).toContain(`--plugin ${t.DB}`);
      expect(tool).toContain(`--ep ${t.POSTGRES_SEEDS}`);
      expect(tool).toContain(`-p ${t.DB_PORT}`);
      expect(tool).toContain(`-u ${t.POSTGRES_USER}`);
      // temporal-sql-tool reads the password from SQL_PASSWORD.
      expect(envOf('temporal-schema', host).SQL_PASSWORD).toBe(pg.POSTGRES_PASSWORD);
      const steps = script.split('\n').filter((l) => l.trim().startsWith('sql --db'));
      const schemaDir = /schema=(\S+)/.exec(script)?.[1];
      expect(schemaDir).toBe('/etc/temporal/schema/postgresql/v12');
      for (const [db, kind] of [
        [t.DBNAME, 'temporal'],
        [t.VISIBILITY_DBNAME, 'visibility'],
      ] as const) {
        expect(steps.map((l) => l.trim()).filter((l) => l.startsWith(`sql --db ${db} `))).toEqual([
          `sql --db ${db} create`,
          `sql --db ${db} setup-schema -v 0.0`,
          `sql --db ${db} update-schema -d "$schema/${kind}/versioned"`,
        ]);
      }
      expect(script).toMatch(/^set -eu$/m);
    }
  });

  it("registers exactly clipflow's search attributes in the worker's namespace", () => {
    const setup = service('temporal-setup');
    const script = [setup.entrypoint, setup.command]
      .flatMap((p) => (p === undefined ? [] : Array.isArray(p) ? p : [p]))
      .map((p) => interpolate(p, {}))
      .join('\n')
      .replace(/\\\n/g, ' ');
    const creates = script.split('\n').filter((line) => /\btemporal operator search-attribute create\b/.test(line));
    expect(creates.length).toBeGreaterThan(0);

    const registered: Record<string, string> = {};
    const namespaces = new Set<string>();
    for (const line of creates) {
      const ns = /--namespace[ =](\S+)/.exec(line);
      expect(ns, line).not.toBeNull();
      namespaces.add(ns![1]!);
      const names = [...line.matchAll(/--name[ =](\S+)/g)].map((m) => m[1]!);
      const types = [...line.matchAll(/--type[ =](\S+)/g)].map((m) => m[1]!);
      expect(types.length, line).toBe(names.length);
      for (const [i, n] of names.entries()) registered[n] = types[i]!;
    }
    expect(registered).toEqual(SEARCH_ATTRIBUTES);
    const namespace = envOf('worker').TEMPORAL_NAMESPACE!;
    expect([...namespaces]).toEqual([namespace]);
    // The server image registers no namespace: the setup job does, unless it exists, and waits for it.
    expect(script).toContain(`temporal operator namespace describe --namespace ${namespace} >/dev/null 2>&1 ||`);
    expect(script).toContain(`temporal operator namespace create --namespace ${namespace}`);
    expect(script).toMatch(new RegExp(`until temporal operator search-attribute list --namespace ${namespace}\\b`));
    expect(script.indexOf('namespace create')).toBeLessThan(script.indexOf('search-attribute create'));
  });
});

/** A bind mount's host file or folder (relative to the repository) for a container path. */
function bindSource(name: string, target: string): string {
  for (const v of service(name).volumes ?? []) {
    const [source, at] = typeof v === 'string' ? v.split(':') : [v.source, v.target];
    if (at === target && source?.startsWith('./')) return source.slice(2);
  }
  throw new Error(`service "${name}" mounts nothing from the repository at ${target}`);
}

interface ScrapeConfig {
  job_name: string;
  dns_sd_configs?: { names: string[]; type?: string; port: number }[];
  static_configs?: { targets: string[] }[];
}

describe('metrics in compose: the worker’s endpoints, Prometheus and Grafana', () => {
  const worker = loadConfig(envOf('worker')).telemetry;
  const promConfig = parse(read(bindSource('prometheus', '/etc/prometheus/prometheus.yml'))) as { scrape_configs: ScrapeConfig[] };

  it('turns both metrics endpoints on in the worker, on its container address, and traces only when the shell names a collector', () => {
    expect(worker.metricsHost).toBe('0.0.0.0');
    expect(worker.metricsPort).toBeDefined();
    expect(worker.temporalMetricsPort).toBeDefined();
    expect(worker.metricsPort).not.toBe(worker.temporalMetricsPort);
    expect(worker.otlpEndpoint).toBeUndefined();
    const traced = loadConfig(envOf('worker', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:4318' })).telemetry;
    expect(traced.otlpEndpoint).toBe('http://otel:4318');
  });

  it('has Prometheus scrape every worker replica on exactly those two ports', () => {
    const targets = promConfig.scrape_configs.flatMap((job) => [
      ...(job.dns_sd_configs ?? []).flatMap((d) => d.names.map((n) => `${n}:${d.port}`)),
      ...(job.static_configs ?? []).flatMap((c) => c.targets),
    ]);
    expect(targets.sort()).toEqual([`worker:${worker.metricsPort}`, `worker:${worker.temporalMetricsPort}`].sort());
    // DNS discovery (type A) finds each replica of `docker compose up --scale worker=N`; a static target would find one.
    for (const job of promConfig.scrape_configs) expect(job.dns_sd_configs?.[0]?.type, job.job_name).toBe('A');
    expect(portsOf('prometheus')).toContainEqual([9090, 9090]);
  });

  it('provisions Grafana with the Prometheus service as data source and the dashboard folder it mounts', () => {
    const provisioning = bindSource('grafana', '/etc/grafana/provisioning');
    const dashboardsAt = '/var/lib/grafana/dashboards';
    const dashboards = bindSource('grafana', dashboardsAt);
    const sources = parse(read(`${provisioning}/datasources/prometheus.yml`)) as {
      datasources: { uid: string; type: string; url: string }[];
    };
    expect(sources.datasources).toHaveLength(1);
    const source = sources.datasources[0]!;
    expect(source.type).toBe('prometheus');
    const url = new URL(source.url);
    expect(url.hostname).toBe('prometheus');
    expect(portsOf('prometheus').map(([, c]) => c)).toContain(Number(url.port));
    const providers = parse(read(`${provisioning}/dashboards/clipflow.yml`)) as { providers: { options: { path: string } }[] };
    expect(providers.providers.map((p) => p.options.path)).toEqual([dashboardsAt]);
    const home = envOf('grafana').GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH!;
    expect(home.startsWith(`${dashboardsAt}/`)).toBe(true);
    expect(existsSync(root(`${dashboards}/${home.slice(dashboardsAt.length + 1)}`))).toBe(true);
    expect(dependsOn('grafana')).toHaveProperty('prometheus');
  });

  it('has a dashboard that charts every clipflow metric, and only metrics clipflow defines, from that data source', async () => {
    const dashboard = JSON.parse(read('deploy/grafana/dashboards/clipflow.json')) as {
      uid: string;
      panels: { title: string; datasource: { uid: string }; targets: { expr: string; datasource: { uid: string } }[] }[];
    };
    const sources = parse(read('deploy/grafana/provisioning/datasources/prometheus.yml')) as { datasources: { uid: string }[] };
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
    for (const panel of dashboard.panels) {
      expect(panel.datasource.uid, panel.title).toBe(sources.datasources[0]!.uid);
      expect(panel.targets.length, panel.title).toBeGreaterThan(0);
    }
    const named = new Set(
      exprs.flatMap((e) => [...e.matchAll(/\b(clipflow_[a-z0-9_]+)/g)].map((m) => m[1]!.replace(/_(bucket|count|sum)$/, ''))),
    );
    const own = (await createClipMetrics().registry.getMetricsAsJSON()).map((m) => m.name);
    const health = new Registry();
    collectDefaultMetrics({ register: health, prefix: 'clipflow_worker_' });
    const defined = new Set([...own, ...(await health.getMetricsAsJSON()).map((m) => m.name)]);
    for (const name of named) expect(defined.has(name), `${name} is not a metric clipflow defines`).toBe(true);
    for (const name of own) expect(named.has(name), `${name} is on no panel`).toBe(true);
    // The SDK's metrics it uses are checked against a live worker in test/metrics.test.ts.
    expect(exprs.some((e) => e.includes('temporal_'))).toBe(true);
  });
});

describe('Dockerfile', () => {
  const instructions = read('Dockerfile')
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const m = /^(\w+)\s+(.*)$/.exec(l)!;
      return { op: m[1]!.toUpperCase(), args: m[2]!.trim() };
    });
  const index = (pred: (i: { op: string; args: string }) => boolean): number => instructions.findIndex(pred);

  it('builds on node:24-bookworm-slim in /app', () => {
    expect(instructions[0]).toEqual({ op: 'FROM', args: 'node:24-bookworm-slim' });
    expect(instructions).toContainEqual({ op: 'WORKDIR', args: '/app' });
  });

  it('installs production dependencies from the lockfile before copying the sources', () => {
    const copyManifests = index((i) => i.op === 'COPY' && /\bpackage\.json\b/.test(i.args) && /\bpackage-lock\.json\b/.test(i.args));
    const npmCi = index((i) => i.op === 'RUN' && /\bnpm ci\b/.test(i.args));
    const copySrc = index((i) => i.op === 'COPY' && /(^|\s)src\/?\s/.test(i.args));
    expect(copyManifests).toBeGreaterThanOrEqual(0);
    expect(npmCi).toBeGreaterThan(copyManifests);
    expect(instructions[npmCi]!.args).toMatch(/--omit=dev\b/);
    expect(copySrc).toBeGreaterThan(npmCi);
    expect(instructions.some((i) => i.op === 'COPY' && /\bscripts\/?\s/.test(i.args))).toBe(true);
    expect(instructions.some((i) => i.op === 'COPY' && /\btsconfig\.json\b/.test(i.args))).toBe(true);
    // With --omit=dev, what runs the worker must be a runtime dependency.
    const pkg = JSON.parse(read('package.json')) as { dependencies?: Record<string, string> };
    expect(pkg.dependencies).toHaveProperty('tsx');
    expect(pkg.dependencies).toHaveProperty('@ffmpeg-installer/ffmpeg');
    expect(pkg.dependencies).toHaveProperty('@ffprobe-installer/ffprobe');
  });

  it('runs src/worker.ts with tsx as a non-root user', () => {
    const cmds = instructions.filter((i) => i.op === 'CMD');
    expect(cmds).toHaveLength(1);
    expect(JSON.parse(cmds[0]!.args)).toEqual(['npx', 'tsx', 'src/worker.ts']);
    expect(existsSync(root('src/worker.ts'))).toBe(true);
    const users = instructions.filter((i) => i.op === 'USER');
    expect(users.length).toBeGreaterThan(0);
    expect(['root', '0']).not.toContain(users.at(-1)!.args.split(':')[0]);
    expect(index((i) => i.op === 'USER')).toBeLessThan(index((i) => i.op === 'CMD'));
  });

  it('keeps local state and dependencies out of the build context, but not what the image copies', () => {
    const ignored = read('.dockerignore')
      .split(/\r?\n/)
      .map((l) => l.trim().replace(/\/$/, ''))
      .filter((l) => l && !l.startsWith('#'));
    for (const p of ['node_modules', 'outputs', '.data', '.git', 'test-artifacts']) expect(ignored).toContain(p);
    for (const p of ['package.json', 'package-lock.json', 'tsconfig.json', 'src', 'scripts']) expect(ignored).not.toContain(p);
  });
});
