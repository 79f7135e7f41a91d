import { createRequire } from 'node:module';
import type { Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { Resource } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
  type OpenTelemetrySinks,
} from '@temporalio/interceptors-opentelemetry';
import type { WorkflowClientInterceptor } from '@temporalio/client';
import type { ActivityInterceptorsFactory, InjectedSinks } from '@temporalio/worker';

/**
 * One trace per job: the client's StartWorkflow span travels to the workflow in its headers, the
 * workflow's spans to its activities, and the activities' own spans (provider calls, validation,
 * store) hang below them. Built only when traces go somewhere; otherwise nothing is installed.
 */
export interface Tracing {
  readonly tracer: Tracer;
  readonly spanProcessor: SpanProcessor;
  readonly resource: Resource;
  /** Exports what is still buffered, then stops. */
  shutdown(): Promise<void>;
}

/** The workflow-side interceptors; they go into the workflow bundle, so a prebuilt bundle must name them too. */
export const WORKFLOW_TRACING_MODULE = createRequire(import.meta.url).resolve(
  '@temporalio/interceptors-opentelemetry/lib/workflow-interceptors',
);

/**
 * Registers OpenTelemetry for this process (the interceptors use the global propagator and context
 * manager) with `spanProcessor` receiving every span.
 */
export function startTracing(options: { serviceName: string; spanProcessor: SpanProcessor }): Tracing {
  const resource = new Resource({ 'service.name': options.serviceName });
  const provider = new BasicTracerProvider({ resource, spanProcessors: [options.spanProcessor] });
  provider.register({ contextManager: new AsyncLocalStorageContextManager(), propagator: new W3CTraceContextPropagator() });
  return {
    tracer: provider.getTracer('clipflow'),
    spanProcessor: options.spanProcessor,
    resource,
    shutdown: () => provider.shutdown(),
  };
}

/** Tracing that sends spans to an OTLP/HTTP endpoint (a collector, Jaeger, Tempo, …). */
export function startOtlpTracing(options: { serviceName: string; endpoint: string }): Tracing {
  const url = `${options.endpoint.replace(/\/+$/, '')}/v1/traces`;
  return startTracing({ serviceName: options.serviceName, spanProcessor: new BatchSpanProcessor(new OTLPTraceExporter({ url })) });
}

/** The client interceptor that opens a job's trace (StartWorkflow) and hands it to the workflow. */
export function clientTracingInterceptors(tracing: Tracing): WorkflowClientInterceptor[] {
  return [new OpenTelemetryWorkflowClientInterceptor({ tracer: tracing.tracer })];
}

/** What a worker adds for tracing: the activity interceptors and the sink the workflow's spans leave through. */
export function workerTracing(tracing: Tracing): { activity: ActivityInterceptorsFactory[]; sinks: InjectedSinks<OpenTelemetrySinks> } {
  return {
    activity: [
      (ctx) => ({
        inbound: new OpenTelemetryActivityInboundInterceptor(ctx, { tracer: tracing.tracer }),
        outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
      }),
    ],
    sinks: { exporter: makeWorkflowExporter(tracing.spanProcessor, tracing.resource) },
  };
}
