import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * clipflow's own metrics, in one prom-client registry (not the library's global one, so each
 * worker, and each test, has its own). Activities record them; the worker serves the registry.
 * Names follow Prometheus conventions: a unit suffix, `_total` on counters.
 */
export interface ClipMetrics {
  readonly registry: Registry;
  /** Clips at the end of their job, by outcome (succeeded, failed, cancelled, skipped). */
  readonly clips: Counter<'outcome' | 'provider' | 'model'>;
  /** Generation attempts by result: `succeeded` or the failure type. */
  readonly attempts: Counter<'provider' | 'model' | 'result'>;
  /** One provider API call: create, poll, find or download. */
  readonly providerRequestSeconds: Histogram<'provider' | 'model' | 'operation'>;
  /** A prediction from creation (or being taken up again) to its end, by how it ended. */
  readonly predictionSeconds: Histogram<'provider' | 'model' | 'status'>;
  readonly spendUsd: Counter<'provider' | 'model'>;
  /** Jobs refused and clips skipped or cancelled because of the budget. */
  readonly budgetStops: Counter<'stop'>;
  /** Predictions running at the provider right now, per provider account. */
  readonly predictionsInFlight: Gauge<'provider' | 'account'>;
}

export type BudgetStop = 'job_refused' | 'clip_skipped' | 'clip_cancelled';

export function createClipMetrics(registry: Registry = new Registry()): ClipMetrics {
  const registers = [registry];
  return {
    registry,
    clips: new Counter({
      name: 'clipflow_clips_total',
      help: 'Clips at the end of their job, by outcome, provider and model',
      labelNames: ['outcome', 'provider', 'model'],
      registers,
    }),
    attempts: new Counter({
      name: 'clipflow_clip_attempts_total',
      help: 'Clip generation attempts by result (succeeded or the failure type)',
      labelNames: ['provider', 'model', 'result'],
      registers,
    }),
    providerRequestSeconds: new Histogram({
      name: 'clipflow_provider_request_duration_seconds',
      help: 'Duration of one provider call (create, poll, find, download)',
      labelNames: ['provider', 'model', 'operation'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    predictionSeconds: new Histogram({
      name: 'clipflow_prediction_duration_seconds',
      help: 'Time from a prediction being created (or taken up again) to its end, by final status',
      labelNames: ['provider', 'model', 'status'],
      buckets: [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600],
      registers,
    }),
    spendUsd: new Counter({
      name: 'clipflow_spend_usd_total',
      help: 'Money paid to providers, in US dollars, recorded once per prediction',
      labelNames: ['provider', 'model'],
      registers,
    }),
    budgetStops: new Counter({
      name: 'clipflow_budget_stops_total',
      help: 'Jobs refused before any spend, and clips skipped or cancelled, because of the budget',
      labelNames: ['stop'],
      registers,
    }),
    predictionsInFlight: new Gauge({
      name: 'clipflow_provider_predictions_in_flight',
      help: 'Predictions this worker is waiting on at the provider, per provider account',
      labelNames: ['provider', 'account'],
      registers,
    }),
  };
}
