import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { Client } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { createClipflowClient } from '../src/client.js';
import { startDevServer, type DevServer } from '../src/dev-server/start-dev-server.js';
import { installRuntimeLogging, type JsonLogger } from '../src/logging.js';
import { clientTracingInterceptors, startTracing, WORKFLOW_TRACING_MODULE, type Tracing } from '../src/telemetry/tracing.js';
import { createActivityDeps, createClipflowWorker, WORKFLOWS_PATH } from '../src/worker.js';
import { clipPrompts, testConfig, uniqueName } from './support/env.js';

/**
 * One job, traced into memory: the client's start, the workflow, its activities and the
 * activities' own steps are one trace, and the log lines written inside it name that trace.
 */

const exporter = new InMemorySpanExporter();
let tracing: Tracing;
let server: DevServer;
const lines: Record<string, unknown>[] = [];
let logger: JsonLogger;

beforeAll(async () => {
  // Before anything creates the runtime: the worker's JSON lines, captured.
  logger = installRuntimeLogging(await testConfig({ LOG_LEVEL: 'INFO' }), (line) => lines.push(JSON.parse(line)));
  tracing = startTracing({ serviceName: 'clipflow-test', spanProcessor: new SimpleSpanProcessor(exporter) });
  server = await startDevServer();
});
afterAll(async () => {
  await server?.stop();
  await tracing?.shutdown();
});

/** The spans exported so far, waiting until `name` is among them (workflow spans leave through a sink, after the task). */
async function spansOnce(name: string): Promise<ReadableSpan[]> {
  for (let i = 0; i < 100; i++) {
    const spans = exporter.getFinishedSpans();
    if (spans.some((s) => s.name === name)) return spans;
    await sleep(100);
  }
  throw new Error(
    `no span ${name} among ${exporter
      .getFinishedSpans()
      .map((s) => s.name)
      .join(', ')}`,
  );
}

describe('tracing a job', () => {
  it('puts client, workflow, activities, provider calls, validation and store in one trace', async () => {
    const config = await testConfig();
    const taskQueue = uniqueName('tq');
    const deps = await createActivityDeps(config, { tracer: tracing.tracer });
    const worker = await createClipflowWorker({
      config,
      connection: server.env.nativeConnection,
      deps,
      taskQueue,
      tracing,
      // The workflow side of tracing lives in the bundle.
      workflowBundle: await bundleWorkflowCode({
        workflowsPath: WORKFLOWS_PATH,
        workflowInterceptorModules: [WORKFLOW_TRACING_MODULE],
        logger: new DefaultLogger('WARN'),
      }),
    });
    const client = new Client({ connection: server.env.connection, interceptors: { workflow: clientTracingInterceptors(tracing) } });
    const clipflow = createClipflowClient(client, { taskQueue });
    const jobId = uniqueName('traced');
    const result = await worker.runUntil(clipflow.start({ jobId, clipPrompts: clipPrompts(3) }).then((j) => j.result()));
    await deps.close();
    expect(result.successfulClips).toBe(3);

    const spans = await spansOnce('RunWorkflow:generateClips');
    const start = spans.find((s) => s.name === 'StartWorkflow:generateClips');
    expect(start).toBeDefined();
    const traceId = start!.spanContext().traceId;
    const job = spans.filter((s) => s.spanContext().traceId === traceId);
    const names = job.map((s) => s.name);
    // Only this job ran: every span is in its trace.
    expect(job).toHaveLength(spans.length);
    const times = (name: string) => names.filter((n) => n === name).length;
    expect(times('RunWorkflow:generateClips')).toBe(1);
    for (const activity of ['jobSettings', 'checkBudget', 'writeReport']) {
      expect(times(`StartActivity:${activity}`), activity).toBe(1);
      expect(times(`RunActivity:${activity}`), activity).toBe(1);
    }
    expect(times('StartActivity:generateClip')).toBe(3);
    expect(times('RunActivity:generateClip')).toBe(3);
    for (const step of ['provider.create', 'provider.poll', 'provider.download', 'clip.validate', 'store.put']) {
      expect(times(step), step).toBe(3);
    }

    // Each step hangs below its own activity run, which hangs below the workflow's start of it.
    const byId = new Map(job.map((s) => [s.spanContext().spanId, s]));
    const parent = (s: ReadableSpan) => byId.get(s.parentSpanId ?? '');
    for (const step of job.filter((s) => s.name.startsWith('provider.') || s.name === 'clip.validate' || s.name === 'store.put')) {
      expect(parent(step)?.name, step.name).toBe('RunActivity:generateClip');
      expect(parent(parent(step)!)?.name).toBe('StartActivity:generateClip');
      expect(step.attributes['clipflow.model']).toBe('clipflow/local-ffmpeg');
    }
    const run = job.find((s) => s.name === 'RunWorkflow:generateClips')!;
    expect(parent(run)?.name).toBe('StartWorkflow:generateClips');
    expect(start!.resource.attributes['service.name']).toBe('clipflow-test');
    expect(run.resource.attributes['service.name']).toBe('clipflow-test');

    // Log lines join the trace: every activity line names its trace and its activity's span.
    await sleep(300); // the Runtime hands lines over in batches
    const generating = lines.filter((l) => l.message === 'generating clip');
    expect(generating).toHaveLength(3);
    const activitySpans = new Set(job.filter((s) => s.name === 'RunActivity:generateClip').map((s) => s.spanContext().spanId));
    for (const line of generating) {
      expect(line.trace_id).toBe(traceId);
      expect(activitySpans.has(line.span_id as string)).toBe(true);
    }
  });

  it('gives the process’s own lines the active span, and none outside one', () => {
    logger.info('outside any span');
    const span = tracing.tracer.startActiveSpan('inside', (s) => {
      logger.info('inside a span');
      s.end();
      return s.spanContext();
    });
    const [outside, inside] = lines.splice(-2);
    expect(outside).toMatchObject({ message: 'outside any span' });
    expect(outside).not.toHaveProperty('trace_id');
    expect(inside).toMatchObject({ message: 'inside a span', trace_id: span.traceId, span_id: span.spanId });
  });
});
