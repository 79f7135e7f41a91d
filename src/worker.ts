import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { missingSearchAttributes, registerCommand } from './temporal/namespace-setup.js';
import { createActivities, type ActivityDeps } from './activities/index.js';
import {
  ConfigError,
  configuredProviders,
  describeConnection,
  loadConfig,
  nativeConnectionOptions,
  pollIntervalMs,
  providerChoice,
  type Config,
} from './config/index.js';
import { createCostTracker } from './cost/create-tracker.js';
import { describeCostTracker } from './cost/locations.js';
import { createStore } from './store/create-store.js';
import { activityLogContext, installRuntimeLogging, type JsonLogger } from './logging.js';
import { mediaBinaries } from './media/binaries.js';
import { createContentCheck } from './media/content-check.js';
import { createFrameMaker } from './media/frames.js';
import { createProbe } from './media/probe.js';
import { createProvider, type ProviderChoice } from './providers/create-provider.js';
import { activityTelemetry, providerAccount, type ActivityTelemetry } from './telemetry/activity-telemetry.js';
import { WORKFLOW_TRACING_MODULE, workerTracing, type Tracing } from './telemetry/tracing.js';
import { startWorkerTelemetry } from './telemetry/worker-telemetry.js';

export const WORKFLOWS_PATH = fileURLToPath(new URL('./workflows/index.ts', import.meta.url));

/** The credential that names the provider account a worker spends (fingerprinted, never shown). */
function credentialOf(choice: ProviderChoice): string | undefined {
  switch (choice.provider) {
    case 'local':
      return undefined;
    case 'replicate':
      return choice.options.apiToken;
    case 'runway':
      return choice.options.apiSecret;
    case 'pika':
      return choice.options.key;
  }
}

/**
 * Builds the activities' dependencies from configuration, recording into `telemetry` (metrics and
 * tracer) when given; `close` releases them.
 */
export async function createActivityDeps(
  config: Config,
  telemetry: Omit<Partial<ActivityTelemetry>, 'account'> = {},
): Promise<ActivityDeps & { close(): Promise<void> }> {
  const media = mediaBinaries();
  const costTracker = await createCostTracker(config);
  const store = createStore(config.store);
  const choice = providerChoice(config);
  // The fallback's provider, when it is another one, is built (and its credentials required) up front.
  const others = configuredProviders(config).filter((name) => name !== choice.provider);
  const providers = Object.fromEntries(
    others.map((name) => {
      const other = providerChoice(config, name);
      const account = providerAccount(name, credentialOf(other));
      return [name, { provider: createProvider(other, media), pollIntervalMs: pollIntervalMs(config, name), account }];
    }),
  );
  return {
    provider: createProvider(choice, media),
    providers,
    telemetry: activityTelemetry({
      ...telemetry,
      account: providerAccount(choice.provider, credentialOf(choice)),
    }),
    probe: createProbe(media.ffprobe),
    contentCheck: createContentCheck(media.ffmpeg, config.contentChecks),
    frames: createFrameMaker(media.ffmpeg),
    costTracker,
    store,
    config,
    pollIntervalMs: pollIntervalMs(config),
    close: async () => {
      await costTracker.close();
      await store.close();
    },
  };
}

/** The worker settings that come from configuration: shutdown, concurrency, rate limits, log context. */
export type ConfiguredWorkerOptions = Required<
  Pick<
    WorkerOptions,
    | 'namespace'
    | 'taskQueue'
    | 'shutdownGraceTime'
    | 'maxConcurrentActivityTaskExecutions'
    | 'maxHeartbeatThrottleInterval'
    | 'stickyQueueScheduleToStartTimeout'
    | 'defaultHeartbeatThrottleInterval'
    | 'interceptors'
  >
> &
  Pick<WorkerOptions, 'maxActivitiesPerSecond' | 'maxTaskQueueActivitiesPerSecond'>;

export function workerOptionsFromConfig(config: Config): ConfiguredWorkerOptions {
  const { worker } = config;
  return {
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    // SIGTERM/SIGINT: stop polling, give running activities this long to finish, then cancel them.
    shutdownGraceTime: Math.round(worker.shutdownGraceS * 1000),
    maxConcurrentActivityTaskExecutions: worker.maxConcurrentActivities,
    ...(worker.activitiesPerSecond !== undefined ? { maxActivitiesPerSecond: worker.activitiesPerSecond } : {}),
    // Enforced by the server for the task queue: all workers together stay under a provider's rate limit.
    ...(worker.taskQueueActivitiesPerSecond !== undefined ? { maxTaskQueueActivitiesPerSecond: worker.taskQueueActivitiesPerSecond } : {}),
    // A crashed worker's cached workflows move to another worker after this long, not the default 10 s.
    stickyQueueScheduleToStartTimeout: '3 seconds',
    // Cancellation reaches an activity through its heartbeat; keep that path short.
    maxHeartbeatThrottleInterval: '1 second',
    defaultHeartbeatThrottleInterval: '1 second',
    interceptors: { activity: [activityLogContext] },
  };
}

export interface ClipflowWorkerOptions {
  config: Config;
  connection: NativeConnection;
  deps: ActivityDeps;
  /** A prebuilt workflow bundle (tests bundle once per file); otherwise the workflows are bundled now. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  taskQueue?: string;
  /** Traces the jobs; a prebuilt bundle must then include WORKFLOW_TRACING_MODULE. */
  tracing?: Tracing;
}

/** A worker serving the generateClips workflow and its activities on one task queue. */
export function createClipflowWorker(options: ClipflowWorkerOptions): Promise<Worker> {
  const { config, connection, deps } = options;
  const configured = workerOptionsFromConfig(config);
  const traced = options.tracing ? workerTracing(options.tracing) : undefined;
  return Worker.create({
    ...configured,
    connection,
    ...(options.taskQueue ? { taskQueue: options.taskQueue } : {}),
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    interceptors: {
      activity: [...(configured.interceptors.activity ?? []), ...(traced?.activity ?? [])],
      // Bundled with the workflows; a prebuilt bundle already has them (the SDK ignores them then).
      ...(traced && !options.workflowBundle ? { workflowModules: [WORKFLOW_TRACING_MODULE] } : {}),
    },
    ...(traced ? { sinks: traced.sinks } : {}),
    activities: createActivities(deps),
  });
}

async function main(): Promise<number> {
  let logger: JsonLogger | undefined;
  try {
    const config = loadConfig();
    logger = installRuntimeLogging(config);
    const connection = await NativeConnection.connect(nativeConnectionOptions(config));
    if (config.temporal.searchAttributes) {
      // Upserting an unregistered attribute would stall every job; refuse to start instead.
      const missing = await missingSearchAttributes(connection.operatorService, config.temporal.namespace);
      if (missing.length > 0) {
        throw new ConfigError(
          `namespace ${config.temporal.namespace} lacks clipflow's search attributes ${missing.map((a) => a.name).join(', ')}: ` +
            `register them with \`${registerCommand(config.temporal.namespace, missing)}\` or set CLIPFLOW_SEARCH_ATTRIBUTES=false`,
        );
      }
    }
    const telemetry = await startWorkerTelemetry(config.telemetry);
    const deps = await createActivityDeps(config, {
      metrics: telemetry.metrics,
      ...(telemetry.tracing ? { tracer: telemetry.tracing.tracer } : {}),
    });
    const worker = await createClipflowWorker({ config, connection, deps, ...(telemetry.tracing ? { tracing: telemetry.tracing } : {}) });
    const { interceptors: _interceptors, ...settings } = workerOptionsFromConfig(config);
    logger.info('clipflow worker started', {
      ...describeConnection(config),
      ...settings,
      environment: config.environment,
      provider: config.generation.provider,
      fallback: config.generation.fallbackModel ? `${config.generation.fallbackProvider} ${config.generation.fallbackModel}` : 'off',
      // What other workers must share with this one: the store and the cost tracker.
      store: deps.store.root,
      costTracker: describeCostTracker(config),
      metrics: telemetry.metricsServer?.url ?? 'off',
      temporalMetrics: config.telemetry.temporalMetricsPort ?? 'off',
      traces: config.telemetry.otlpEndpoint ?? 'off',
      pid: process.pid,
    });
    // Worker.run() stops gracefully on SIGINT/SIGTERM (the Runtime's shutdown signals): polling
    // stops, running activities get shutdownGraceTime to finish, then the promise resolves.
    // These listeners only say so in the log; the Runtime's own handlers do the stopping.
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () =>
        logger?.info('shutdown requested: finishing running activities', { signal, shutdownGraceS: config.worker.shutdownGraceS }),
      );
    }
    await worker.run();
    await deps.close();
    await telemetry.close();
    await connection.close();
    logger.info('clipflow worker stopped', { pid: process.pid });
    return 0;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (logger) logger.error(`clipflow worker failed: ${message}`, { error: err });
    else
      process.stderr.write(
        `${JSON.stringify({ time: new Date().toISOString(), level: 'ERROR', message: `clipflow worker: ${message}` })}\n`,
      );
    return 1;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  void main().then((code) => process.exit(code));
}
