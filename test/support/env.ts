import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  bundleWorkflowCode,
  DefaultLogger,
  Runtime,
  type MetricsExporterConfig,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { loadConfig, type Config } from '../../src/config/index.js';
import { startDevServer, type DevServer } from '../../src/dev-server/start-dev-server.js';
import { WORKFLOWS_PATH } from '../../src/worker.js';

let runtimeInstalled = false;

/** Quiet Temporal's own logs in tests unless asked for; `metrics` turns on the SDK's exporter. */
export function quietRuntime(metrics?: MetricsExporterConfig): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({
    logger: new DefaultLogger(process.env.TEST_LOG_LEVEL === 'DEBUG' ? 'DEBUG' : 'ERROR'),
    ...(metrics ? { telemetryOptions: { metrics } } : {}),
  });
}

/** One real dev server per test file (its runtime with the SDK's metrics exporter when given). */
export function startTestServer(metrics?: MetricsExporterConfig): Promise<DevServer> {
  quietRuntime(metrics);
  return startDevServer();
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/** The workflow code, bundled once per test file. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') });
  return bundle;
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** A configuration as the worker would read it, in a scratch directory, with `env` on top. */
export async function testConfig(env: Record<string, string> = {}): Promise<Config> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'clipflow-test-'));
  return loadConfig({
    OUTPUT_DIR: path.join(dir, 'outputs'),
    CLIPFLOW_DATA_DIR: path.join(dir, 'data'),
    // Short clips render fast; validation still applies the real thresholds.
    RETRY_MAXIMUM_INTERVAL_S: '8',
    CLIP_HEARTBEAT_TIMEOUT_S: '5',
    ...env,
  });
}

export function clipPrompts(count: number, durationS = 2, extra: (i: number) => Record<string, unknown> = () => ({})) {
  return Array.from({ length: count }, (_, i) => ({
    clipIndex: i,
    prompt: `clip ${i}: a slow pan over a neon city, shot ${i}`,
    durationS,
    aspectRatio: '16:9' as const,
    ...extra(i),
  }));
}
