import { spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { mediaBinaries } from '../../src/media/binaries.js';
import type { ContentFault } from '../../src/providers/faults.js';
import { pictureFault } from '../../src/providers/local.js';

/**
 * A fake Replicate HTTP API on node:http, speaking the routes the `replicate` client uses (under
 * /v1), with predictions that progress starting → processing → succeeded and output a real MP4.
 * Tests script failures per request with `behave` / `setBehavior`.
 */

export type FakeRoute = 'create' | 'get' | 'cancel' | 'files' | 'list';

export interface BehaviorContext {
  route: FakeRoute;
  /** owner/name of a create by model. */
  model?: string;
  /** Version id of a create by version. */
  version?: string;
  input?: Record<string, unknown>;
  prompt?: string;
  /** get / cancel: the prediction asked about. */
  predictionId?: string;
  /** Creates received so far, this one included (rejected ones too). */
  createCount: number;
  /** Creates received so far with this exact prompt, this one included. */
  createCountForPrompt: number;
}

/**
 * `http`: answer the request with this status (and no prediction is created);
 * `prediction` (create only): create the prediction but let it end this way / take this long.
 */
export type Behavior =
  | {
      kind: 'http';
      status: number;
      body?: string | Record<string, unknown>;
      headers?: Record<string, string>;
      /** Wait this long before answering (to provoke client timeouts). */
      delayMs?: number;
    }
  | {
      kind: 'prediction';
      end?: 'succeeded' | 'failed' | 'aborted' | 'canceled';
      error?: string;
      latencyMs?: number;
      predictTimeS?: number;
      /** Output as a URL string (default) or as a one-element array of URLs. */
      outputAs?: 'string' | 'array';
      /** The output goes black or freezes a third of the way in (as the local provider's faults). */
      picture?: ContentFault;
    };

export type BehaveFn = (ctx: BehaviorContext) => Behavior | undefined;

/** Ready-made behaviors. */
export const behaviors = {
  status: (status: number, body?: string | Record<string, unknown>, headers?: Record<string, string>): Behavior => ({
    kind: 'http',
    status,
    ...(body !== undefined ? { body } : {}),
    ...(headers ? { headers } : {}),
  }),
  /** 429 with a Retry-After header (seconds, or an HTTP date string). */
  rateLimited: (retryAfter: number | string): Behavior => ({
    kind: 'http',
    status: 429,
    headers: { 'Retry-After': String(retryAfter) },
    body: { title: 'Request was throttled', detail: 'Request was throttled.', status: 429 },
  }),
  /** 429 without a header, the wait only in the body, as Replicate words it. */
  rateLimitedResetsIn: (seconds: number): Behavior => ({
    kind: 'http',
    status: 429,
    body: { title: 'Request was throttled', detail: `Request was throttled. Your rate limit resets in ~${seconds}s.`, status: 429 },
  }),
  serverError: (status = 500): Behavior => ({
    kind: 'http',
    status,
    body: { title: 'Internal Server Error', detail: 'Something went wrong on our side.', status },
  }),
  unauthorized: (): Behavior => ({
    kind: 'http',
    status: 401,
    body: { title: 'Unauthenticated', detail: 'You did not pass a valid authentication token', status: 401 },
  }),
  forbidden: (): Behavior => ({
    kind: 'http',
    status: 403,
    body: { title: 'Forbidden', detail: 'You do not have permission to run this model.', status: 403 },
  }),
  notFound: (): Behavior => ({
    kind: 'http',
    status: 404,
    body: { title: 'Not found', detail: 'The requested resource could not be found.', status: 404 },
  }),
  invalidInput: (detail = '- input.duration: duration must be one of 5, 10'): Behavior => ({
    kind: 'http',
    status: 422,
    body: { title: 'Input validation failed', detail, status: 422, invalid_fields: [{ field: 'input', description: detail }] },
  }),
  badRequest: (detail = 'Bad request'): Behavior => ({ kind: 'http', status: 400, body: { title: 'Bad request', detail, status: 400 } }),
  /** A 400 rejecting the prompt for the content policy. */
  contentPolicy: (): Behavior => ({
    kind: 'http',
    status: 400,
    body: { title: 'Content policy violation', detail: 'The prompt was flagged by our content policy (NSFW).', status: 400 },
  }),
  /** The prediction is created, then fails with this error. */
  failed: (error = 'CUDA out of memory'): Behavior => ({ kind: 'prediction', end: 'failed', error }),
  /** The prediction is created, then fails because its input or output was flagged. */
  contentFlagged: (): Behavior => ({
    kind: 'prediction',
    end: 'failed',
    error: 'The input or output was flagged as sensitive. Please try again with different inputs. (E005)',
  }),
  aborted: (): Behavior => ({ kind: 'prediction', end: 'aborted' }),
  /** The prediction succeeds with an output that goes black or freezes a third of the way in. */
  badPicture: (picture: ContentFault): Behavior => ({ kind: 'prediction', picture }),
  slow: (latencyMs: number): Behavior => ({ kind: 'prediction', latencyMs }),
  /** Answer only after delayMs (then with 200 as usual would be too late for a client timeout). */
  hang: (delayMs: number): Behavior => ({ kind: 'http', status: 504, delayMs, body: { detail: 'gateway timeout' } }),
} as const;

export interface RecordedRequest {
  method: string;
  path: string;
  time: number;
  /** Request headers without Authorization. */
  headers: Record<string, string | string[] | undefined>;
  /** Whether Authorization carried the right token. */
  authorized: boolean;
  body?: unknown;
  status?: number;
}

export interface RecordedCreate {
  time: number;
  model?: string;
  version?: string;
  prompt?: string;
  input?: Record<string, unknown>;
  /** The Cancel-After header as sent. */
  cancelAfter?: string;
  status: number;
  predictionId?: string;
}

export interface RecordedCancel {
  predictionId: string;
  time: number;
  /** The status the prediction had when the cancel arrived (undefined: unknown id). */
  statusBefore?: string;
}

export interface FakePrediction {
  id: string;
  model: string;
  version: string;
  input: Record<string, unknown>;
  status: 'starting' | 'processing' | 'succeeded' | 'failed' | 'canceled' | 'aborted';
  output: string | string[] | null;
  error: string | null;
  logs: string;
  metrics: { predict_time?: number; total_time?: number };
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
  /** The Cancel-After header the create carried, and what it parsed to. */
  cancelAfter?: string;
  cancelAfterMs?: number;
  /** True when the Cancel-After deadline ended the prediction. */
  deadlineReached: boolean;
  /** What is wrong with its output's picture, when a behavior asked for it. */
  picture?: ContentFault;
}

export interface FakeUpload {
  id: string;
  name: string;
  contentType: string;
  bytes: Buffer;
  url: string;
}

export interface FakeReplicateOptions {
  token: string;
  port?: number;
  host?: string;
  /** Time from create to the end of a prediction; default 300 ms. */
  latencyMs?: number;
  behave?: BehaveFn;
  /** The output MP4; default 1280x720, 24 fps, 2 s. */
  outputDurationS?: number;
  outputWidth?: number;
  outputHeight?: number;
  outputFps?: number;
  /** When given, creates by model for any other model answer 404. */
  knownModels?: string[];
  /** Model reported for creates by version; default "fake/versioned-model". */
  versionModels?: Record<string, string>;
  /** Predictions per page of the list; default 100, as Replicate's. */
  listPageSize?: number;
}

export interface FakeReplicate {
  /** Base URL for the client, ending in /v1. */
  url: string;
  /** Origin of the server (no /v1). */
  origin: string;
  requests: RecordedRequest[];
  creates: RecordedCreate[];
  createsForPrompt(substring: string): RecordedCreate[];
  cancels: RecordedCancel[];
  predictions: Map<string, FakePrediction>;
  uploads: Map<string, FakeUpload>;
  /** The MP4 every succeeded prediction outputs. */
  outputBytes: Buffer;
  setBehavior(fn: BehaveFn | undefined): void;
  /** Ends a running prediction now, succeeded, as its latency would have. */
  succeed(predictionId: string): void;
  close(): Promise<void>;
}

const renders = new Map<string, Promise<Buffer>>();

interface OutputLook {
  durationS: number;
  width: number;
  height: number;
  fps: number;
  picture?: ContentFault;
}

/** Renders (once per process, size and picture fault) a real H.264 MP4 with noise so it is well over 100 KB. */
export function renderFakeOutput(options: OutputLook): Promise<Buffer> {
  const key = `${options.width}x${options.height}@${options.fps}:${options.durationS}:${options.picture ?? 'good'}`;
  let render = renders.get(key);
  if (!render) {
    render = doRender(options);
    renders.set(key, render);
    render.catch(() => renders.delete(key));
  }
  return render;
}

async function doRender({ durationS, width, height, fps, picture }: OutputLook) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fake-replicate-'));
  const file = path.join(dir, 'output.mp4');
  try {
    const args = [
      '-hide_banner',
      '-loglevel',
      'error',
      '-y',
      '-f',
      'lavfi',
      '-i',
      `testsrc2=size=${width}x${height}:rate=${fps}`,
      '-vf',
      `noise=alls=30:allf=t+u${pictureFault(picture, durationS, fps)},format=yuv420p`,
      '-t',
      String(durationS),
      ...(picture === 'frozen' ? ['-g', '1'] : []),
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-crf',
      '30',
      '-movflags',
      '+faststart',
      file,
    ];
    await new Promise<void>((resolve, reject) => {
      const child = spawn(mediaBinaries().ffmpeg, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg exited with ${code}: ${stderr.trim()}`))));
    });
    return await readFile(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** "300s", "5m", "1h30m", "1.5s", "250ms", or a bare number of seconds → ms. */
export function parseDuration(text: string): number | undefined {
  const value = text.trim();
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let rest = value;
  while (rest) {
    const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)/.exec(rest);
    if (!match?.[1] || !match[2]) return undefined;
    total += Number(match[1]) * (units[match[2]] ?? 0);
    rest = rest.slice(match[0].length);
  }
  return value ? total : undefined;
}

export async function startFakeReplicate(options: FakeReplicateOptions): Promise<FakeReplicate> {
  const look = {
    durationS: options.outputDurationS ?? 2,
    width: options.outputWidth ?? 1280,
    height: options.outputHeight ?? 720,
    fps: options.outputFps ?? 24,
  };
  const outputBytes = await renderFakeOutput(look);
  const defaultLatencyMs = options.latencyMs ?? 300;
  let behave: BehaveFn | undefined = options.behave;
  const requests: RecordedRequest[] = [];
  const creates: RecordedCreate[] = [];
  const cancels: RecordedCancel[] = [];
  const predictions = new Map<string, FakePrediction>();
  const uploads = new Map<string, FakeUpload>();
  const timers = new Map<string, NodeJS.Timeout[]>();
  const pending = new Set<NodeJS.Timeout>();
  let origin = '';

  const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, {
      'Content-Type': typeof body === 'string' ? 'text/plain' : 'application/json',
      'Content-Length': Buffer.byteLength(text),
      ...headers,
    });
    res.end(text);
  };

  const serialize = (p: FakePrediction) => ({
    id: p.id,
    model: p.model,
    version: p.version,
    input: p.input,
    logs: p.logs,
    output: p.output,
    data_removed: false,
    error: p.error,
    status: p.status,
    source: 'api',
    created_at: p.created_at,
    started_at: p.started_at,
    completed_at: p.completed_at,
    metrics: p.metrics,
    urls: {
      cancel: `${origin}/v1/predictions/${p.id}/cancel`,
      get: `${origin}/v1/predictions/${p.id}`,
      stream: `${origin}/v1/predictions/${p.id}/stream`,
      web: `${origin}/p/${p.id}`,
    },
  });

  const later = (id: string, ms: number, fn: () => void) => {
    const timer = setTimeout(fn, Math.max(0, ms));
    timer.unref();
    const list = timers.get(id) ?? [];
    list.push(timer);
    timers.set(id, list);
  };
  const clearTimers = (id: string) => {
    for (const t of timers.get(id) ?? []) clearTimeout(t);
    timers.delete(id);
  };
  const finish = (
    p: FakePrediction,
    status: FakePrediction['status'],
    extra: { error?: string; predictTimeS?: number; outputAs?: 'string' | 'array' } = {},
  ) => {
    if (p.status !== 'starting' && p.status !== 'processing') return;
    const now = Date.now();
    const started = p.started_at ? Date.parse(p.started_at) : undefined;
    p.status = status;
    p.completed_at = new Date(now).toISOString();
    if (started !== undefined) {
      p.metrics = { predict_time: extra.predictTimeS ?? (now - started) / 1000, total_time: (now - Date.parse(p.created_at)) / 1000 };
    }
    if (status === 'succeeded') {
      const url = `${origin}/delivery/${p.id}/output.mp4`;
      p.output = extra.outputAs === 'array' ? [url] : url;
    }
    if (status === 'failed') p.error = extra.error ?? 'prediction failed';
    clearTimers(p.id);
  };

  function createPrediction(ctx: BehaviorContext, behavior: Behavior | undefined, cancelAfter: string | undefined): FakePrediction {
    const id = randomUUID().replace(/-/g, '').slice(0, 26);
    const now = Date.now();
    const plan = behavior?.kind === 'prediction' ? behavior : undefined;
    const latencyMs = plan?.latencyMs ?? defaultLatencyMs;
    const p: FakePrediction = {
      id,
      model: ctx.model ?? options.versionModels?.[ctx.version ?? ''] ?? 'fake/versioned-model',
      version:
        ctx.version ??
        createHash('sha256')
          .update(ctx.model ?? '')
          .digest('hex'),
      input: ctx.input ?? {},
      status: 'starting',
      output: null,
      error: null,
      logs: '',
      metrics: {},
      created_at: new Date(now).toISOString(),
      started_at: null,
      completed_at: null,
      deadlineReached: false,
    };
    if (plan?.picture) p.picture = plan.picture;
    predictions.set(id, p);
    const end = plan?.end ?? 'succeeded';
    if (end === 'aborted') {
      // Never got to run.
      later(id, latencyMs, () => finish(p, 'aborted'));
    } else {
      later(id, latencyMs / 4, () => {
        if (p.status !== 'starting') return;
        p.status = 'processing';
        p.started_at = new Date().toISOString();
        p.logs = 'Generating video...\n';
      });
      later(id, latencyMs, () =>
        finish(p, end, {
          ...(plan?.error !== undefined ? { error: plan.error } : {}),
          ...(plan?.predictTimeS !== undefined ? { predictTimeS: plan.predictTimeS } : {}),
          ...(plan?.outputAs ? { outputAs: plan.outputAs } : {}),
        }),
      );
    }
    if (cancelAfter !== undefined) {
      p.cancelAfter = cancelAfter;
      const ms = parseDuration(cancelAfter);
      if (ms !== undefined) {
        p.cancelAfterMs = ms;
        later(id, ms, () => {
          if (p.status !== 'starting' && p.status !== 'processing') return;
          p.deadlineReached = true;
          // As on Replicate: aborted if it never started, canceled if it was running.
          finish(p, p.status === 'starting' ? 'aborted' : 'canceled');
        });
      }
    }
    return p;
  }

  async function readBody(req: IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  async function respondWith(res: ServerResponse, record: RecordedRequest, behavior: Behavior & { kind: 'http' }) {
    if (behavior.delayMs) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, behavior.delayMs);
        pending.add(timer);
        res.on('close', () => {
          clearTimeout(timer);
          pending.delete(timer);
          resolve();
        });
      });
      if (res.destroyed || res.writableEnded) return;
    }
    record.status = behavior.status;
    json(res, behavior.status, behavior.body ?? { detail: `fake status ${behavior.status}`, status: behavior.status }, behavior.headers);
  }

  const countCreates = (prompt: string | undefined) => ({
    createCount: creates.length,
    createCountForPrompt: prompt === undefined ? 0 : creates.filter((c) => c.prompt === prompt).length,
  });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', origin);
    const method = req.method ?? 'GET';
    const { authorization, ...headers } = req.headers;
    const record: RecordedRequest = {
      method,
      path: url.pathname + url.search,
      time: Date.now(),
      headers,
      authorized: authorization === `Bearer ${options.token}`,
    };
    requests.push(record);
    const raw = await readBody(req);
    const contentType = String(req.headers['content-type'] ?? '');
    const send = (status: number, body: unknown, extra?: Record<string, string>) => {
      record.status = status;
      json(res, status, body, extra);
    };

    // Unauthenticated downloads (outputs and uploaded files carry their own URLs).
    let match = /^\/delivery\/([^/]+)\/output\.mp4$/.exec(url.pathname);
    if (method === 'GET' && match) {
      const p = predictions.get(match[1] ?? '');
      if (p?.status !== 'succeeded') return send(404, { detail: 'no such output' });
      const bytes = p.picture ? await renderFakeOutput({ ...look, picture: p.picture }) : outputBytes;
      record.status = 200;
      const chunked = url.searchParams.get('chunked') === '1';
      res.writeHead(200, { 'Content-Type': 'video/mp4', ...(chunked ? {} : { 'Content-Length': bytes.length }) });
      if (!chunked) return void res.end(bytes);
      for (let offset = 0; offset < bytes.length; offset += 64 * 1024) {
        if (!res.write(bytes.subarray(offset, offset + 64 * 1024))) {
          await new Promise<void>((resolve) => {
            const done = () => {
              res.off('drain', done);
              res.off('close', done);
              resolve();
            };
            res.on('drain', done);
            res.on('close', done);
          });
        }
        if (res.destroyed) return;
      }
      return void res.end();
    }
    match = /^\/v1\/files\/([^/]+)\/download$/.exec(url.pathname);
    if (method === 'GET' && match) {
      const upload = uploads.get(match[1] ?? '');
      if (!upload) return send(404, { detail: 'no such file' });
      record.status = 200;
      res.writeHead(200, { 'Content-Type': upload.contentType, 'Content-Length': upload.bytes.length });
      return void res.end(upload.bytes);
    }

    if (!url.pathname.startsWith('/v1/')) return send(404, { detail: 'Not found', status: 404 });
    if (!record.authorized) {
      return send(401, { title: 'Unauthenticated', detail: 'You did not pass a valid authentication token', status: 401 });
    }

    let body: unknown;
    if (contentType.includes('application/json') && raw.length > 0) {
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        return send(400, { title: 'Bad request', detail: 'body is not JSON', status: 400 });
      }
    }
    record.body = body;

    // POST /v1/files (multipart)
    if (method === 'POST' && url.pathname === '/v1/files') {
      if (!contentType.includes('multipart/form-data')) return send(400, { detail: 'expected multipart/form-data', status: 400 });
      const form = await new Request('http://fake/', { method: 'POST', headers: { 'content-type': contentType }, body: raw }).formData();
      const content = form.get('content');
      if (!content || typeof content === 'string') return send(400, { detail: 'missing content part', status: 400 });
      record.body = {
        content: { name: content.name, type: content.type, size: content.size },
        metadata: String(form.get('metadata') ?? ''),
      };
      const behavior = behave?.({ route: 'files', ...countCreates(undefined) });
      if (behavior?.kind === 'http') return respondWith(res, record, behavior);
      const id = randomUUID().replace(/-/g, '');
      const bytes = Buffer.from(await content.arrayBuffer());
      const upload: FakeUpload = {
        id,
        name: content.name,
        contentType: content.type || 'application/octet-stream',
        bytes,
        url: `${origin}/v1/files/${id}/download`,
      };
      uploads.set(id, upload);
      return send(201, fileJson(upload));
    }
    match = /^\/v1\/files\/([^/]+)$/.exec(url.pathname);
    if (method === 'GET' && match) {
      const upload = uploads.get(match[1] ?? '');
      return upload ? send(200, fileJson(upload)) : send(404, { detail: 'Not found', status: 404 });
    }

    // Creates: by model or by version.
    const byModel = /^\/v1\/models\/([^/]+)\/([^/]+)\/predictions$/.exec(url.pathname);
    if (method === 'POST' && (byModel || url.pathname === '/v1/predictions')) {
      const data = (body ?? {}) as { input?: unknown; version?: unknown };
      const input = data.input && typeof data.input === 'object' ? (data.input as Record<string, unknown>) : undefined;
      const model = byModel ? `${byModel[1]}/${byModel[2]}` : undefined;
      const version = !byModel && typeof data.version === 'string' ? data.version : undefined;
      const prompt = typeof input?.prompt === 'string' ? input.prompt : undefined;
      const cancelAfter = typeof req.headers['cancel-after'] === 'string' ? req.headers['cancel-after'] : undefined;
      const entry: RecordedCreate = {
        time: record.time,
        status: 0,
        ...(model ? { model } : {}),
        ...(version ? { version } : {}),
        ...(prompt !== undefined ? { prompt } : {}),
        ...(input ? { input } : {}),
        ...(cancelAfter !== undefined ? { cancelAfter } : {}),
      };
      creates.push(entry);
      const ctx: BehaviorContext = {
        route: 'create',
        ...(model ? { model } : {}),
        ...(version ? { version } : {}),
        ...(input ? { input } : {}),
        ...(prompt !== undefined ? { prompt } : {}),
        ...countCreates(prompt),
      };
      const behavior = behave?.(ctx);
      if (behavior?.kind === 'http') {
        entry.status = behavior.status;
        return respondWith(res, record, behavior);
      }
      if (!input) {
        entry.status = 422;
        return send(422, { title: 'Input validation failed', detail: '- input: input is required', status: 422 });
      }
      if (!byModel && !version) {
        entry.status = 422;
        return send(422, { title: 'Invalid version', detail: 'version is required', status: 422 });
      }
      if (model && options.knownModels && !options.knownModels.includes(model)) {
        entry.status = 404;
        return send(404, { title: 'Not found', detail: 'The requested resource could not be found.', status: 404 });
      }
      const p = createPrediction(ctx, behavior, cancelAfter);
      entry.status = 201;
      entry.predictionId = p.id;
      return send(201, serialize(p));
    }

    // The list: newest first, a page at a time, without inputs (as Replicate lists them).
    if (method === 'GET' && url.pathname === '/v1/predictions') {
      const behavior = behave?.({ route: 'list', ...countCreates(undefined) });
      if (behavior?.kind === 'http') return respondWith(res, record, behavior);
      const newestFirst = [...predictions.values()].reverse();
      const pageSize = options.listPageSize ?? 100;
      const offset = Number(url.searchParams.get('cursor') ?? 0) || 0;
      const end = offset + pageSize;
      return send(200, {
        previous: null,
        next: end < newestFirst.length ? `${origin}/v1/predictions?cursor=${end}` : null,
        results: newestFirst.slice(offset, end).map((p) => {
          const { input: _input, ...listed } = serialize(p);
          return listed;
        }),
      });
    }

    match = /^\/v1\/predictions\/([^/]+)(\/cancel)?$/.exec(url.pathname);
    if (match) {
      const id = match[1] ?? '';
      const isCancel = Boolean(match[2]);
      if ((isCancel && method !== 'POST') || (!isCancel && method !== 'GET')) return send(405, { detail: 'Method not allowed' });
      const route: FakeRoute = isCancel ? 'cancel' : 'get';
      const p = predictions.get(id);
      if (isCancel) cancels.push({ predictionId: id, time: record.time, ...(p ? { statusBefore: p.status } : {}) });
      const behavior = behave?.({ route, predictionId: id, ...countCreates(undefined) });
      if (behavior?.kind === 'http') return respondWith(res, record, behavior);
      if (!p) return send(404, { title: 'Not found', detail: 'The requested resource could not be found.', status: 404 });
      if (isCancel) finish(p, 'canceled');
      return send(200, serialize(p));
    }

    return send(404, { title: 'Not found', detail: 'The requested resource could not be found.', status: 404 });
  }

  function fileJson(upload: FakeUpload) {
    return {
      id: upload.id,
      name: upload.name,
      content_type: upload.contentType,
      size: upload.bytes.length,
      etag: createHash('md5').update(upload.bytes).digest('hex'),
      checksums: { sha256: createHash('sha256').update(upload.bytes).digest('hex') },
      metadata: {},
      created_at: new Date().toISOString(),
      expires_at: new Date(Date.now() + 24 * 3600_000).toISOString(),
      urls: { get: upload.url },
    };
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) json(res, 500, { detail: `fake server error: ${(err as Error).message}` });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  origin = `http://${address.address.includes(':') ? `[${address.address}]` : address.address}:${address.port}`;

  return {
    url: `${origin}/v1`,
    origin,
    requests,
    creates,
    createsForPrompt: (substring) => creates.filter((c) => c.prompt?.includes(substring)),
    succeed: (predictionId) => {
      const p = predictions.get(predictionId);
      if (p) finish(p, 'succeeded');
    },
    cancels,
    predictions,
    uploads,
    outputBytes,
    setBehavior(fn) {
      behave = fn;
    },
    async close() {
      for (const id of timers.keys()) clearTimers(id);
      for (const t of pending) clearTimeout(t);
      pending.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/**
 * The environment of a clipflow worker on this fake: the replicate provider at its URL, one model
 * at $0.05 a prediction, no fallback, a budget that never stops a test job, and quick polling and
 * retries. `heartbeatTimeoutS` is how soon a killed worker's clips are taken over.
 */
export function fakeReplicateEnv(fake: FakeReplicate, token: string, model: string, heartbeatTimeoutS = 2): Record<string, string> {
  return {
    VIDEO_PROVIDER: 'replicate',
    REPLICATE_API_TOKEN: token,
    REPLICATE_BASE_URL: fake.url,
    REPLICATE_POLL_INTERVAL_MS: '250',
    VIDEO_MODEL: model,
    VIDEO_FALLBACK_MODEL: '',
    CLIPFLOW_PRICES: JSON.stringify({ [model]: { usdPerPrediction: 0.05 } }),
    VIDEO_GENERATOR_BUDGET_USD: '100',
    CLIP_HEARTBEAT_TIMEOUT_S: String(heartbeatTimeoutS),
    RETRY_INITIAL_INTERVAL_S: '0.5',
  };
}
