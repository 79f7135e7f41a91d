/**
 * `npm start`: the main job on one machine. Starts a Temporal dev server (unless TEMPORAL_ADDRESS
 * names one), a worker, serves the example's reference image, runs examples/music-video.json and
 * leaves the clips and the report in outputs/<jobId>/.
 */
import path from 'node:path';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { connectClient, createClipflowClient } from './client.js';
import { readJobFile } from './cli/job-file.js';
import { reportLines, summaryTable } from './cli/render.js';
import { watchJob } from './cli/watch.js';
import { loadConfig, nativeConnectionOptions } from './config/index.js';
import { jobMetadataSettings } from './job-metadata.js';
import { freePort, portFree } from './dev-server/ports.js';
import { startDevServer, type DevServer } from './dev-server/start-dev-server.js';
import { serveFolder } from './dev-server/static-files.js';
import { runtimeMetrics } from './telemetry/runtime-metrics.js';
import { clientTracingInterceptors } from './telemetry/tracing.js';
import { startWorkerTelemetry } from './telemetry/worker-telemetry.js';
import { createActivityDeps, createClipflowWorker } from './worker.js';

const EXAMPLE = path.resolve('examples/music-video.json');
const ASSETS_PORT = 8790;

async function main(): Promise<number> {
  const config = loadConfig();
  // The progress bar is the story here; Temporal's own lines only when something is wrong.
  // Metrics and traces only when configured (CLIPFLOW_METRICS_PORT, TEMPORAL_METRICS_PORT, OTEL_EXPORTER_OTLP_ENDPOINT).
  const metrics = runtimeMetrics(config.telemetry);
  Runtime.install({ logger: new DefaultLogger('WARN'), ...(metrics ? { telemetryOptions: { metrics } } : {}) });
  const telemetry = await startWorkerTelemetry(config.telemetry);

  let server: DevServer | undefined;
  if (!config.temporal.address) {
    const preferred = (await portFree(7233)) && (await portFree(config.temporal.uiPort));
    console.error(`starting the Temporal dev server${preferred ? ' on localhost:7233' : ' (7233 is busy: on a free port)'} …`);
    server = await startDevServer({
      ...(config.temporal.cliPath ? { cliPath: config.temporal.cliPath } : {}),
      ...(preferred ? { port: 7233, uiPort: config.temporal.uiPort } : { uiPort: await freePort() }),
      dbFilename: path.join(config.dataDir, 'temporal.db'),
      namespace: config.temporal.namespace,
    });
    config.temporal = { ...config.temporal, address: server.address };
  }
  const assets = await serveFolder('examples/assets', ASSETS_PORT);
  // The example's reference image is served from this machine: that origin alone may be a private
  // address; every other image URL a job names is vetted as usual.
  config.image = { ...config.image, privateOrigins: [assets.url] };
  const connection = await NativeConnection.connect(nativeConnectionOptions(config));
  const { tracing } = telemetry;
  const deps = await createActivityDeps(config, { metrics: telemetry.metrics, ...(tracing ? { tracer: tracing.tracer } : {}) });
  const worker = await createClipflowWorker({ config, connection, deps, ...(tracing ? { tracing } : {}) });
  const running = worker.run();
  try {
    const client = await connectClient(config, tracing ? clientTracingInterceptors(tracing) : []);
    const clipflow = createClipflowClient(client, { taskQueue: config.temporal.taskQueue, jobDefaults: jobMetadataSettings(config) });
    const job = await readJobFile(EXAMPLE);
    const handle = await clipflow.start(job);
    const uiBase = server?.uiUrl ?? `http://localhost:${config.temporal.uiPort}`;
    const uiLink = `${uiBase}/namespaces/${config.temporal.namespace}/workflows/${handle.workflowId}`;
    console.error(`job ${job.jobId}: ${job.clipPrompts.length} clips, provider ${config.generation.provider}\nWeb UI: ${uiLink}`);
    const { result, error } = await watchJob(handle);
    if (result) console.log(`${summaryTable(result)}\n`);
    console.log(`clips: ${path.join(config.outputDir, job.jobId)}`);
    console.log(
      `Web UI for this job: ${uiLink}${server ? '\n  (the dev server stops now; `npm run server` serves the same history again)' : ''}`,
    );
    if (result) console.log(reportLines(result));
    if (error) {
      console.error(`job failed: ${(error as Error).message}`);
      return 1;
    }
    return 0;
  } finally {
    worker.shutdown();
    await running;
    await deps.close();
    await telemetry.close();
    await connection.close();
    await assets.close();
    await server?.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`clipflow: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
