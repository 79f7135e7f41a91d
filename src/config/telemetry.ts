import { z } from 'zod';
import { int, text } from './env.js';

/** Where a worker shows its metrics and sends its traces; every part is off unless configured. */
export interface TelemetrySettings {
  /** The address the metrics endpoints listen on (both ports). */
  metricsHost: string;
  /** clipflow's own metrics (prom-client) at http://host:port/metrics; off when unset. */
  metricsPort?: number;
  /** The Temporal SDK's runtime metrics (its own exporter, its own listener); off when unset. */
  temporalMetricsPort?: number;
  /** OTLP/HTTP endpoint for traces (the standard variable); no tracing when unset. */
  otlpEndpoint?: string;
  /** The service.name spans carry. */
  serviceName: string;
}

export const telemetryEnv = z.object({
  CLIPFLOW_METRICS_HOST: text.default('127.0.0.1'),
  CLIPFLOW_METRICS_PORT: int(1, 65535).optional(),
  TEMPORAL_METRICS_PORT: int(1, 65535).optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  OTEL_SERVICE_NAME: text.default('clipflow'),
});

export function telemetrySettings(e: z.infer<typeof telemetryEnv>): TelemetrySettings {
  return {
    metricsHost: e.CLIPFLOW_METRICS_HOST,
    ...(e.CLIPFLOW_METRICS_PORT !== undefined ? { metricsPort: e.CLIPFLOW_METRICS_PORT } : {}),
    ...(e.TEMPORAL_METRICS_PORT !== undefined ? { temporalMetricsPort: e.TEMPORAL_METRICS_PORT } : {}),
    ...(e.OTEL_EXPORTER_OTLP_ENDPOINT ? { otlpEndpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT } : {}),
    serviceName: e.OTEL_SERVICE_NAME,
  };
}
