import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/index.js';
import { startOtlpTracing } from '../src/telemetry/tracing.js';
import { startWorkerTelemetry } from '../src/telemetry/worker-telemetry.js';

/** What the worker sends where: OTLP to the configured endpoint, and nothing at all without one. */

interface Received {
  path: string;
  contentType: string;
  body: Buffer;
}
const received: Received[] = [];
const collector = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    received.push({ path: req.url ?? '', contentType: req.headers['content-type'] ?? '', body: Buffer.concat(chunks) });
    res.writeHead(200, { 'Content-Type': 'application/x-protobuf' }).end();
  });
});
await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
afterAll(() => new Promise<void>((resolve) => collector.close(() => resolve())));

describe('trace export', () => {
  it('is off, with no metrics endpoint either, when nothing is configured', async () => {
    const config = loadConfig({});
    expect(config.telemetry).toEqual({ metricsHost: '127.0.0.1', serviceName: 'clipflow' });
    const telemetry = await startWorkerTelemetry(config.telemetry);
    expect(telemetry.tracing).toBeUndefined();
    expect(telemetry.metricsServer).toBeUndefined();
    await telemetry.close();
  });

  it('refuses an endpoint that is not an http(s) URL, naming the variable', () => {
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'otel:4318' })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT/);
  });

  it('sends spans as OTLP/HTTP protobuf to <endpoint>/v1/traces, with the service name', async () => {
    const { telemetry: settings } = loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: `${endpoint}/`, OTEL_SERVICE_NAME: 'clipflow-export-test' });
    const tracing = startOtlpTracing({ serviceName: settings.serviceName, endpoint: settings.otlpEndpoint! });
    const span = tracing.tracer.startSpan('provider.create');
    const { traceId, spanId } = span.spanContext();
    span.end();
    await tracing.shutdown(); // flushes the batch

    expect(received).toHaveLength(1);
    const [request] = received;
    expect(request!.path).toBe('/v1/traces');
    expect(request!.contentType).toBe('application/x-protobuf');
    // The ids travel as raw bytes in the protobuf body, the names as UTF-8.
    expect(request!.body.includes(Buffer.from(traceId, 'hex'))).toBe(true);
    expect(request!.body.includes(Buffer.from(spanId, 'hex'))).toBe(true);
    expect(request!.body.includes(Buffer.from('provider.create'))).toBe(true);
    expect(request!.body.includes(Buffer.from('clipflow-export-test'))).toBe(true);
  });
});
