import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowFailedError } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { createClipflowClient, type ClipflowClient } from '../src/client.js';
import type { Config } from '../src/config/index.js';
import type { DevServer } from '../src/dev-server/start-dev-server.js';
import { freePort } from '../src/dev-server/ports.js';
import type { ReportRow } from '../src/activities/write-report.js';
import { runtimeMetrics } from '../src/telemetry/runtime-metrics.js';
import { startWorkerTelemetry, type WorkerTelemetry } from '../src/telemetry/worker-telemetry.js';
import { createActivityDeps, createClipflowWorker } from '../src/worker.js';
import { clipPrompts, startTestServer, testConfig, uniqueName, workflowBundle } from './support/env.js';
import { scrape, total, type Sample } from './support/prometheus-text.js';

/**
 * The worker's metrics endpoints against the jobs' own reports: every number the endpoint shows
 * for clips, attempts, provider calls and spend is the sum of what the reports say.
 */

const MODEL = 'clipflow/local-ffmpeg';
const PROVIDER = 'local';

let server: DevServer;
let config: Config;
let telemetry: WorkerTelemetry;
let worker: Worker;
let clipflow: ClipflowClient;
let closeDeps: () => Promise<void>;

beforeAll(async () => {
  config = await testConfig({
    CLIPFLOW_METRICS_PORT: String(await freePort()),
    TEMPORAL_METRICS_PORT: String(await freePort()),
    CLIPFLOW_PRICES: JSON.stringify({ [MODEL]: { usdPerPrediction: 0.25 } }),
    // Clip 1 fails once then succeeds; clip 4 fails all three generations.
    LOCAL_PROVIDER_FAULTS: '1:transient*1,4:permanent',
    RETRY_INITIAL_INTERVAL_S: '0.1',
  });
  server = await startTestServer(runtimeMetrics(config.telemetry));
  telemetry = await startWorkerTelemetry(config.telemetry);
  const deps = await createActivityDeps(config, { metrics: telemetry.metrics });
  closeDeps = deps.close;
  const taskQueue = uniqueName('tq');
  worker = await createClipflowWorker({
    config,
    connection: server.env.nativeConnection,
    deps,
    workflowBundle: await workflowBundle(),
    taskQueue,
  });
  clipflow = createClipflowClient(server.env.client, { taskQueue });
});
afterAll(async () => {
  await closeDeps?.();
  await telemetry?.close();
  await server?.stop();
});

interface Report {
  successfulClips: number;
  totalCostUsd: number;
  budget: { skippedForBudget: number[]; cancelledForBudget: number[] };
  clips: ReportRow[];
}

const endpoint = () => telemetry.metricsServer!.url;
const temporalEndpoint = () => `http://${config.telemetry.metricsHost}:${config.telemetry.temporalMetricsPort}/metrics`;

describe('the worker’s Prometheus endpoints', () => {
  it('show clips, attempts, provider calls and spend exactly as the jobs’ reports count them', async () => {
    const inFlight: number[] = [];
    const { reports, refused } = await worker.runUntil(async () => {
      // Sampled while the first job runs: predictions at the provider, per account.
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          inFlight.push(total(await scrape(endpoint()), 'clipflow_provider_predictions_in_flight'));
          await new Promise((r) => setTimeout(r, 50));
        }
      })();
      const faulty = await clipflow.start({ jobId: uniqueName('metrics'), clipPrompts: clipPrompts(6), options: { concurrency: 3 } });
      const first = await faulty.result();
      sampling = false;
      await sampler;
      // $0.25 a clip under $0.75: three clips are made, the other three are skipped for budget.
      const held = await clipflow.start({ jobId: uniqueName('held'), clipPrompts: clipPrompts(6), options: { budgetUsd: 0.75 } });
      const second = await held.result();
      // Not even the minimum of three clips fits $0.50: refused before anything is spent.
      const refused = await clipflow
        .start({ jobId: uniqueName('refused'), clipPrompts: clipPrompts(3), options: { budgetUsd: 0.5 } })
        .then((j) => j.result())
        .catch((e: unknown) => e);
      const reports = await Promise.all([first, second].map(async (r) => JSON.parse(await readFile(r.reportPath!, 'utf8')) as Report));
      return { reports, refused };
    });
    expect(refused).toBeInstanceOf(WorkflowFailedError);

    const rows = reports.flatMap((r) => r.clips);
    const count = (outcome: string) => rows.filter((r) => r.outcome === outcome).length;
    // The jobs went the way the faults and budgets say, so every series below has something in it.
    expect([count('succeeded'), count('failed'), count('skipped')]).toEqual([8, 1, 3]);
    const generations = rows.reduce((sum, r) => sum + r.attempts, 0);
    // Clip 1 takes two generations in both jobs, clip 4 three in the first: 9 + 4.
    expect(generations).toBe(13);

    const m: Sample[] = await scrape(endpoint());
    for (const outcome of ['succeeded', 'failed', 'skipped']) {
      expect(total(m, 'clipflow_clips_total', { outcome }), outcome).toBe(count(outcome));
    }
    expect(total(m, 'clipflow_clips_total', { outcome: 'succeeded', provider: PROVIDER, model: MODEL })).toBe(count('succeeded'));
    // The failed clip is counted under the model that last tried it.
    expect(total(m, 'clipflow_clips_total', { outcome: 'failed', model: MODEL })).toBe(1);

    expect(total(m, 'clipflow_clip_attempts_total')).toBe(generations);
    expect(total(m, 'clipflow_clip_attempts_total', { result: 'succeeded' })).toBe(count('succeeded'));
    expect(total(m, 'clipflow_clip_attempts_total', { result: 'ProviderFailed' })).toBe(generations - count('succeeded'));

    // One create per generation, one download per clip made; predictions that succeeded, one per clip.
    expect(total(m, 'clipflow_provider_request_duration_seconds_count', { operation: 'create', model: MODEL })).toBe(generations);
    expect(total(m, 'clipflow_provider_request_duration_seconds_count', { operation: 'download' })).toBe(count('succeeded'));
    expect(total(m, 'clipflow_prediction_duration_seconds_count', { status: 'succeeded' })).toBe(count('succeeded'));
    expect(total(m, 'clipflow_prediction_duration_seconds_sum', { status: 'succeeded' })).toBeGreaterThan(0);
    // Everything in the +Inf bucket: the histogram's buckets are cumulative.
    expect(total(m, 'clipflow_provider_request_duration_seconds_bucket', { operation: 'download', le: '+Inf' })).toBe(count('succeeded'));

    const spent = reports.reduce((sum, r) => sum + r.totalCostUsd, 0);
    expect(spent).toBeCloseTo(2, 9);
    expect(total(m, 'clipflow_spend_usd_total', { provider: PROVIDER, model: MODEL })).toBeCloseTo(spent, 9);

    const skipped = reports.reduce((sum, r) => sum + r.budget.skippedForBudget.length, 0);
    expect(total(m, 'clipflow_budget_stops_total', { stop: 'clip_skipped' })).toBe(skipped);
    expect(total(m, 'clipflow_budget_stops_total', { stop: 'job_refused' })).toBe(1);

    // Predictions were seen running, never more than the job's concurrency, and none are left.
    expect(Math.max(...inFlight)).toBeGreaterThanOrEqual(1);
    expect(Math.max(...inFlight)).toBeLessThanOrEqual(3);
    expect(total(m, 'clipflow_provider_predictions_in_flight', { provider: PROVIDER, account: PROVIDER })).toBe(0);
    // The process's own health sits beside them.
    expect(total(m, 'clipflow_worker_nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
    expect(m.some((s) => s.name === 'clipflow_worker_process_resident_memory_bytes')).toBe(true);
  });

  it('serve the Temporal SDK’s runtime metrics on their own port, in seconds and with _total', async () => {
    const t = await scrape(temporalEndpoint());
    // The three workflows above completed or failed; their activities ran on this worker.
    const names = new Set(t.map((s) => s.name));
    expect(names).toContain('temporal_workflow_completed_total');
    expect(total(t, 'temporal_workflow_completed_total')).toBeGreaterThanOrEqual(2);
    expect(total(t, 'temporal_workflow_failed_total')).toBeGreaterThanOrEqual(1);
    expect(total(t, 'temporal_activity_execution_latency_seconds_count', { activity_type: 'generateClip' })).toBeGreaterThanOrEqual(12);
  });

  it('serve every metric the Grafana dashboard charts', async () => {
    const dashboard = JSON.parse(await readFile('deploy/grafana/dashboards/clipflow.json', 'utf8')) as {
      panels: { targets: { expr: string }[] }[];
    };
    const base = (name: string) => name.replace(/_(bucket|count|sum)$/, '');
    const charted = new Set(
      dashboard.panels.flatMap((p) =>
        p.targets.flatMap((t) => [...t.expr.matchAll(/\b((?:clipflow|temporal)_[a-z0-9_]+)/g)].map((m) => base(m[1]!))),
      ),
    );
    const served = new Set([...(await scrape(endpoint())), ...(await scrape(temporalEndpoint()))].map((s) => base(s.name)));
    expect(charted.size).toBeGreaterThan(8);
    for (const name of charted) expect(served.has(name), `${name} is charted but not served`).toBe(true);
    // The dashboard's filter on the SDK's slots names a worker type the SDK reports.
    const slots = (await scrape(temporalEndpoint())).filter((s) => s.name === 'temporal_worker_task_slots_available');
    expect(slots.map((s) => s.labels.worker_type)).toContain('ActivityWorker');
  });
});
