import { collectDefaultMetrics } from 'prom-client';
import type { TelemetrySettings } from '../config/index.js';
import { createClipMetrics, type ClipMetrics } from './clip-metrics.js';
import { serveMetrics, type MetricsServer } from './metrics-server.js';
import { startOtlpTracing, type Tracing } from './tracing.js';

/** A worker process's metrics and tracing, each on only when its settings say so. */
export interface WorkerTelemetry {
  metrics: ClipMetrics;
  /** Where clipflow's metrics are served, when they are. */
  metricsServer?: MetricsServer;
  tracing?: Tracing;
  close(): Promise<void>;
}

export async function startWorkerTelemetry(settings: TelemetrySettings): Promise<WorkerTelemetry> {
  const metrics = createClipMetrics();
  let metricsServer: MetricsServer | undefined;
  if (settings.metricsPort !== undefined) {
    // The process's CPU, memory and event-loop lag sit beside the job metrics: a worker that
    // cannot keep up shows there first.
    collectDefaultMetrics({ register: metrics.registry, prefix: 'clipflow_worker_' });
    metricsServer = await serveMetrics(metrics.registry, settings.metricsHost, settings.metricsPort);
  }
  const tracing = settings.otlpEndpoint
    ? startOtlpTracing({ serviceName: settings.serviceName, endpoint: settings.otlpEndpoint })
    : undefined;
  return {
    metrics,
    ...(metricsServer ? { metricsServer } : {}),
    ...(tracing ? { tracing } : {}),
    async close() {
      await metricsServer?.close();
      await tracing?.shutdown();
    },
  };
}
