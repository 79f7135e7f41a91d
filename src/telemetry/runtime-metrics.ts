import type { MetricsExporterConfig } from '@temporalio/worker';
import type { TelemetrySettings } from '../config/index.js';

/**
 * The Temporal SDK's own metrics (task slots, poll and schedule-to-start latencies, sticky cache,
 * …), exported by Core's Prometheus exporter on its own listener. Named like clipflow's: `_total`
 * on counters, units in the name, durations in seconds. Undefined when no port is configured.
 */
export function runtimeMetrics(settings: TelemetrySettings): MetricsExporterConfig | undefined {
  if (settings.temporalMetricsPort === undefined) return undefined;
  const host = settings.metricsHost.includes(':') ? `[${settings.metricsHost}]` : settings.metricsHost;
  return {
    prometheus: {
      bindAddress: `${host}:${settings.temporalMetricsPort}`,
      countersTotalSuffix: true,
      unitSuffix: true,
      useSecondsForDurations: true,
    },
  };
}
