import { createHash } from 'node:crypto';
import { trace, type Tracer } from '@opentelemetry/api';
import { createClipMetrics, type ClipMetrics } from './clip-metrics.js';

/** What the activities record into: metrics, the tracer for their own spans, and whose provider account they spend. */
export interface ActivityTelemetry {
  metrics: ClipMetrics;
  /** The API's global tracer records nothing until tracing is started; the worker passes its own. */
  tracer: Tracer;
  /** The provider account predictions run under, as a label (never the credential itself). */
  account: string;
}

export function activityTelemetry(parts: Partial<ActivityTelemetry> = {}): ActivityTelemetry {
  return {
    metrics: parts.metrics ?? createClipMetrics(),
    tracer: parts.tracer ?? trace.getTracer('clipflow'),
    account: parts.account ?? 'default',
  };
}

/** A label for a provider account: the provider, and a short fingerprint of its credential when it has one. */
export function providerAccount(provider: string, credential?: string): string {
  if (!credential) return provider;
  return `${provider}:${createHash('sha256').update(credential).digest('hex').slice(0, 8)}`;
}
