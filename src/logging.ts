import { context, isSpanContextValid, trace } from '@opentelemetry/api';
import type { Context as ActivityContext } from '@temporalio/activity';
import type { LogLevel, LogMetadata, Logger } from '@temporalio/common';
import { LogTimestamp, makeTelemetryFilterString, Runtime, type ActivityInterceptorsFactory } from '@temporalio/worker';
import { jobIdFromWorkflowId } from './shared/names.js';
import { connectionSecrets, type Config } from './config/index.js';
import { runtimeMetrics } from './telemetry/runtime-metrics.js';

/**
 * Structured logs: one JSON object per line, `{ time, level, message, ...meta }`, on stderr. The
 * worker installs this as the Temporal Runtime's logger, so the SDK's own lines, Core's (forwarded),
 * the workflows' (workflow.log) and the activities' (Context.log) all come out the same way.
 */

export const REDACTED = '[redacted]';

const SEVERITY: Record<LogLevel, number> = { TRACE: 0, DEBUG: 1, INFO: 2, WARN: 3, ERROR: 4 };

export interface JsonLoggerOptions {
  level: LogLevel;
  /** Values that never reach the output: every occurrence, anywhere in message or meta, becomes "[redacted]". */
  secrets?: readonly (string | undefined)[];
  /** Where a finished line goes; stderr by default. */
  write?: (line: string) => void;
}

/** The credentials in a configuration, for the logger to redact. */
export function configSecrets(config: Config): string[] {
  const storeKeys = config.store.kind === 's3' && config.store.credentials ? [config.store.credentials.secretAccessKey.reveal()] : [];
  return [config.replicate.apiToken, config.runway.apiSecret, config.fal.key, ...connectionSecrets(config), ...storeKeys].filter(
    (s): s is string => typeof s === 'string' && s.length > 0,
  );
}

/** A Temporal `Logger` writing JSON lines. */
export class JsonLogger implements Logger {
  private readonly severity: number;
  private readonly secrets: string[];
  private readonly write: (line: string) => void;

  constructor(options: JsonLoggerOptions) {
    this.severity = SEVERITY[options.level];
    // Longest first, so a secret containing another is replaced whole.
    this.secrets = [...new Set(options.secrets?.filter((s): s is string => typeof s === 'string' && s.length > 0) ?? [])].sort(
      (a, b) => b.length - a.length,
    );
    this.write = options.write ?? ((line) => process.stderr.write(line));
  }

  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    if ((SEVERITY[level] ?? SEVERITY.INFO) < this.severity) return;
    this.write(`${this.format(level, message, meta)}\n`);
  }

  /** The JSON line (without its newline) for one entry. */
  format(level: LogLevel, message: string, meta: LogMetadata = {}): string {
    const timestamp = meta[LogTimestamp] as bigint | undefined;
    const time = new Date(typeof timestamp === 'bigint' ? Number(timestamp / 1_000_000n) : Date.now()).toISOString();
    const fields: Record<string, unknown> = { ...activeTrace() };
    const seen = new WeakSet<object>();
    for (const [key, value] of Object.entries(meta)) {
      if (key === 'time' || key === 'level' || key === 'message' || value === undefined) continue;
      fields[key] = this.plain(value, seen, 0);
    }
    return JSON.stringify({ time, level, message: this.redact(String(message)), ...fields });
  }

  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }

  private redact(text: string): string {
    let out = text;
    for (const secret of this.secrets) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    return out;
  }

  /** A JSON-safe copy: errors as { name, message, … }, bytes and bigints as strings, secrets redacted. */
  private plain(value: unknown, seen: WeakSet<object>, depth: number): unknown {
    switch (typeof value) {
      case 'string':
        return this.redact(value);
      case 'number':
      case 'boolean':
        return value;
      case 'bigint':
        return value.toString();
      case 'undefined':
      case 'function':
      case 'symbol':
        return undefined;
    }
    if (value === null) return null;
    const obj = value as object;
    if (obj instanceof Date) return Number.isNaN(obj.getTime()) ? null : obj.toISOString();
    if (ArrayBuffer.isView(obj) || obj instanceof ArrayBuffer) return `[${(obj as ArrayBuffer).byteLength} bytes]`;
    if (seen.has(obj)) return '[circular]';
    if (depth > 8) return '[nested]';
    seen.add(obj);
    try {
      if (obj instanceof Error) {
        const err = obj as Error & { type?: unknown; cause?: unknown };
        return {
          name: err.name,
          message: this.redact(err.message),
          ...(typeof err.type === 'string' ? { type: err.type } : {}),
          ...(err.stack ? { stack: this.redact(err.stack) } : {}),
          ...(err.cause !== undefined ? { cause: this.plain(err.cause, seen, depth + 1) } : {}),
        };
      }
      if (Array.isArray(obj)) return obj.map((v) => this.plain(v, seen, depth + 1) ?? null);
      if ('toJSON' in obj && typeof (obj as { toJSON: unknown }).toJSON === 'function') {
        return this.plain((obj as { toJSON(): unknown }).toJSON(), seen, depth + 1);
      }
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(obj)) {
        const p = this.plain(v, seen, depth + 1);
        if (p !== undefined) out[k] = p;
      }
      return out;
    } finally {
      seen.delete(obj);
    }
  }
}

export function createJsonLogger(options: JsonLoggerOptions): JsonLogger {
  return new JsonLogger(options);
}

/**
 * The trace and span of the line's moment, named as the SDK's OpenTelemetry interceptors name them
 * on workflow and activity lines (which bring their own and take precedence).
 */
function activeTrace(): { trace_id?: string; span_id?: string } {
  const span = trace.getSpan(context.active())?.spanContext();
  return span && isSpanContextValid(span) ? { trace_id: span.traceId, span_id: span.spanId } : {};
}

/**
 * Installs the JSON logger as the Temporal Runtime's logger, Core's own lines forwarded to it (at
 * the same level), and Core's Prometheus metrics when configured. Must run before the first
 * NativeConnection or Worker is created. Returns the logger, for the process's own lines.
 */
export function installRuntimeLogging(config: Config, write?: (line: string) => void): JsonLogger {
  const logger = createJsonLogger({ level: config.logLevel, secrets: configSecrets(config), ...(write ? { write } : {}) });
  const metrics = runtimeMetrics(config.telemetry);
  Runtime.install({
    logger,
    telemetryOptions: {
      logging: { forward: {}, filter: makeTelemetryFilterString({ core: config.logLevel }) },
      ...(metrics ? { metrics } : {}),
    },
  });
  return logger;
}

/** What an activity's input says about the job and clip it works on. */
function scopeOfInput(arg: unknown): { jobId?: string; clipIndex?: number } {
  if (typeof arg !== 'object' || arg === null) return {};
  const input = arg as { jobId?: unknown; clipIndex?: unknown; clip?: { clipIndex?: unknown } };
  const clipIndex = typeof input.clipIndex === 'number' ? input.clipIndex : input.clip?.clipIndex;
  return {
    ...(typeof input.jobId === 'string' ? { jobId: input.jobId } : {}),
    ...(typeof clipIndex === 'number' ? { clipIndex } : {}),
  };
}

/**
 * Puts jobId, clipIndex and attempt on every log line of an activity, whether the activity's code
 * names them or not (the SDK adds attempt, activityType, workflowId, …; the task token is left out).
 * jobId comes from the input, or from the workflow id for activities whose input has none.
 */
export const activityLogContext: ActivityInterceptorsFactory = (ctx: ActivityContext) => {
  const workflowId = ctx.info.workflowExecution?.workflowId;
  let scope: { jobId?: string; clipIndex?: number } = workflowId ? { jobId: jobIdFromWorkflowId(workflowId) } : {};
  return {
    inbound: {
      execute(input, next) {
        scope = { ...scope, ...scopeOfInput(input.args[0]) };
        return next(input);
      },
    },
    outbound: {
      getLogAttributes(attributes, next) {
        const { taskToken: _taskToken, ...rest } = next(attributes);
        return { ...rest, ...scope, attempt: ctx.info.attempt };
      },
    },
  };
};
