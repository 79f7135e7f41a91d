import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { renderFakeOutput } from './fake-replicate.js';

/**
 * What the fake Runway and fal APIs share: a node:http server, tasks that go queued → running →
 * an end on timers and output a real MP4, and the book a test reads: creates and cancels per clip
 * (a clip is the N of a prompt starting `clip N:`), and the most tasks in flight at once.
 */

export type TaskState = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface FakeTask {
  id: string;
  clip: number;
  model: string;
  input: Record<string, unknown>;
  state: TaskState;
  /** Why a failed task failed, in the provider's words. */
  failure?: { code: string; message: string };
}

export interface TaskContext {
  route: 'create' | 'get' | 'cancel' | 'upload';
  clip: number;
  /** Creates of this clip so far, this one included. */
  nth: number;
}

/** `http`: answer this, and create nothing; `task`: create it, ending this way after latencyMs. */
export type TaskBehavior =
  | { kind: 'http'; status: number; body?: unknown; headers?: Record<string, string> }
  | { kind: 'task'; end?: 'succeeded' | 'failed'; latencyMs?: number; failure?: { code: string; message: string } };

export type BehaveFn = (ctx: TaskContext) => TaskBehavior | undefined;

export const taskBehaviors = {
  rateLimited: (retryAfterS: number): TaskBehavior => ({
    kind: 'http',
    status: 429,
    headers: { 'Retry-After': String(retryAfterS) },
    body: { error: 'You have exceeded the rate limit.' },
  }),
  serverError: (status = 500): TaskBehavior => ({ kind: 'http', status, body: { error: 'Internal server error' } }),
  unauthorized: (): TaskBehavior => ({ kind: 'http', status: 401, body: { error: 'Invalid API key' } }),
  slow: (latencyMs: number): TaskBehavior => ({ kind: 'task', latencyMs }),
  failed: (code: string, message: string): TaskBehavior => ({ kind: 'task', end: 'failed', failure: { code, message } }),
} as const;

export interface RecordedCreate {
  clip: number;
  time: number;
  status: number;
  taskId?: string;
  model?: string;
  input?: Record<string, unknown>;
}

export interface RecordedCancel {
  clip: number;
  taskId: string;
  time: number;
  stateBefore?: TaskState;
}

export interface TaskBookOptions {
  latencyMs?: number;
  behave?: BehaveFn;
}

/** The clip a prompt belongs to; -1 for a prompt of another shape. */
export function clipOfPrompt(prompt: unknown): number {
  return Number(/^clip (\d+):/.exec(typeof prompt === 'string' ? prompt : '')?.[1] ?? -1);
}

export class TaskBook {
  readonly tasks = new Map<string, FakeTask>();
  readonly creates: RecordedCreate[] = [];
  readonly cancels: RecordedCancel[] = [];
  maxInFlight = 0;
  behave: BehaveFn | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly options: TaskBookOptions) {
    this.behave = options.behave;
  }

  /** Records a create and asks the script what to do with it. */
  plan(clip: number, model: string, input: Record<string, unknown>): { record: RecordedCreate; behavior: TaskBehavior | undefined } {
    const record: RecordedCreate = { clip, time: Date.now(), status: 0, model, input };
    this.creates.push(record);
    const nth = this.creates.filter((c) => c.clip === clip).length;
    return { record, behavior: this.behave?.({ route: 'create', clip, nth }) };
  }

  /** Creates the task a create was answered with. */
  start(record: RecordedCreate, behavior: TaskBehavior | undefined): FakeTask {
    const plan: Partial<TaskBehavior & { kind: 'task' }> = behavior?.kind === 'task' ? behavior : {};
    const task: FakeTask = { id: randomUUID(), clip: record.clip, model: record.model ?? '', input: record.input ?? {}, state: 'queued' };
    this.tasks.set(task.id, task);
    record.taskId = task.id;
    this.measure();
    const latencyMs = plan.latencyMs ?? this.options.latencyMs ?? 300;
    this.later(latencyMs / 4, () => {
      if (task.state === 'queued') task.state = 'running';
    });
    this.later(latencyMs, () => {
      if (task.state !== 'queued' && task.state !== 'running') return;
      task.state = plan.end ?? 'succeeded';
      if (plan.failure) task.failure = plan.failure;
      this.measure();
    });
    return task;
  }

  /** A cancel as the provider takes it: a task still in flight stops, a finished one stays as it was. */
  cancel(id: string): FakeTask | undefined {
    const task = this.tasks.get(id);
    this.cancels.push({ clip: task?.clip ?? -1, taskId: id, time: Date.now(), ...(task ? { stateBefore: task.state } : {}) });
    if (task && (task.state === 'queued' || task.state === 'running')) task.state = 'cancelled';
    this.measure();
    return task;
  }

  createsOf(clip: number): RecordedCreate[] {
    return this.creates.filter((c) => c.clip === clip);
  }

  /** Creates that made a task (answered 2xx). */
  acceptedCreates(): RecordedCreate[] {
    return this.creates.filter((c) => c.taskId !== undefined);
  }

  inFlight(): FakeTask[] {
    return [...this.tasks.values()].filter((t) => t.state === 'queued' || t.state === 'running');
  }

  succeed(id: string): void {
    const task = this.tasks.get(id);
    if (task && (task.state === 'queued' || task.state === 'running')) task.state = 'succeeded';
    this.measure();
  }

  close(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private measure(): void {
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight().length);
  }

  private later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    timer.unref();
    this.timers.add(timer);
  }
}

export interface FakeRequest {
  method: string;
  url: URL;
  headers: IncomingMessage['headers'];
  raw: Buffer;
  /** The body parsed as JSON, when it is JSON. */
  json: unknown;
}

export type Handler = (req: FakeRequest, res: ServerResponse, origin: string) => Promise<void> | void;

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendBehavior(res: ServerResponse, behavior: TaskBehavior & { kind: 'http' }): void {
  sendJson(res, behavior.status, behavior.body ?? { error: `fake status ${behavior.status}` }, behavior.headers);
}

export function sendBytes(res: ServerResponse, bytes: Buffer, contentType: string): void {
  res.writeHead(200, { 'Content-Type': contentType, 'Content-Length': bytes.length });
  res.end(bytes);
}

/** Serves `GET /delivery/{task}/output.mp4`, the output URL both fakes give; false for any other request. */
export function serveOutput(req: FakeRequest, res: ServerResponse, book: TaskBook, video: Buffer): boolean {
  const delivery = /^\/delivery\/([^/]+)\/output\.mp4$/.exec(req.url.pathname);
  if (req.method !== 'GET' || !delivery) return false;
  if (book.tasks.get(delivery[1] ?? '')?.state === 'succeeded') sendBytes(res, video, 'video/mp4');
  else sendJson(res, 404, { error: 'Not found' });
  return true;
}

/** The real MP4 every succeeded task outputs: 1280x720, 24 fps, 2 s, rendered once per process. */
export function fakeVideo(): Promise<Buffer> {
  return renderFakeOutput({ durationS: 2, width: 1280, height: 720, fps: 24 });
}

export interface FakeServer {
  origin: string;
  close(): Promise<void>;
}

export async function serve(handler: Handler, options: { port?: number; host?: string } = {}): Promise<FakeServer> {
  let origin = '';
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      let json: unknown;
      if (String(req.headers['content-type'] ?? '').includes('json') && raw.length > 0) {
        try {
          json = JSON.parse(raw.toString('utf8'));
        } catch {
          json = undefined;
        }
      }
      const request = { method: req.method ?? 'GET', url: new URL(req.url ?? '/', origin), headers: req.headers, raw, json };
      Promise.resolve(handler(request, res, origin)).catch((err: unknown) => {
        if (!res.headersSent) sendJson(res, 500, { error: `fake server error: ${(err as Error).message}` });
        else res.destroy();
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  origin = `http://${address.address}:${address.port}`;
  return {
    origin,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
