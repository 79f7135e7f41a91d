import { randomUUID } from 'node:crypto';
import {
  clipOfPrompt,
  fakeVideo,
  sendBehavior,
  sendBytes,
  sendJson,
  serve,
  serveOutput,
  TaskBook,
  type FakeTask,
  type TaskBookOptions,
} from './fake-tasks.js';

/**
 * A fake fal API speaking the routes `@fal-ai/client` uses, on one origin (clipflow's FAL_BASE_URL
 * swaps fal's hosts for it and keeps the paths): the queue (POST /{app}/{path} submit, GET
 * /{owner}/{alias}/requests/{id}/status, GET …/requests/{id} result, PUT …/requests/{id}/cancel)
 * and storage (POST /storage/upload/initiate, then PUT to the upload URL it gives). `Key` auth.
 */

export interface FakeFalOptions extends TaskBookOptions {
  key: string;
  port?: number;
  host?: string;
  /** Endpoints it hosts; default Pika 2.2 image-to-video and text-to-video. */
  endpoints?: string[];
}

export interface FakeFal {
  url: string;
  book: TaskBook;
  /** Files uploaded to fal storage, by the URL given back for them. */
  uploads: Map<string, { contentType: string; bytes: Buffer }>;
  requests: { method: string; path: string; authorized: boolean }[];
  close(): Promise<void>;
}

const DEFAULT_ENDPOINTS = ['fal-ai/pika/v2.2/image-to-video', 'fal-ai/pika/v2.2/text-to-video'];

export async function startFakeFal(options: FakeFalOptions): Promise<FakeFal> {
  const video = await fakeVideo();
  const book = new TaskBook(options);
  const endpoints = options.endpoints ?? DEFAULT_ENDPOINTS;
  const uploads: FakeFal['uploads'] = new Map();
  const pending = new Map<string, { contentType: string; fileUrl: string }>();
  const requests: FakeFal['requests'] = [];

  const statusJson = (task: FakeTask, origin: string, app: string) => {
    const base = `${origin}/${app}/requests/${task.id}`;
    const status = task.state === 'queued' ? 'IN_QUEUE' : task.state === 'running' ? 'IN_PROGRESS' : 'COMPLETED';
    return {
      status,
      request_id: task.id,
      response_url: base,
      status_url: `${base}/status`,
      cancel_url: `${base}/cancel`,
      ...(status === 'IN_QUEUE' ? { queue_position: 0 } : {}),
      ...(status === 'COMPLETED' ? { metrics: { inference_time: 1.5 } } : {}),
      // As fal reports a request that failed: the error on the status, the result answering 4xx/5xx.
      ...(task.state === 'failed' ? { error: task.failure?.message ?? 'failed', error_type: task.failure?.code ?? 'internal_error' } : {}),
    };
  };

  const server = await serve(
    (req, res, origin) => {
      const path = req.url.pathname;
      const authorized = req.headers.authorization === `Key ${options.key}`;
      requests.push({ method: req.method, path, authorized });

      // Storage and outputs carry their own URLs: no key.
      const upload = /^\/upload\/([^/]+)$/.exec(path);
      if (req.method === 'PUT' && upload) {
        const slot = pending.get(upload[1] ?? '');
        if (!slot) return sendJson(res, 404, { detail: 'no such upload' });
        uploads.set(slot.fileUrl, { contentType: slot.contentType, bytes: req.raw });
        return sendJson(res, 200, {});
      }
      const file = uploads.get(`${origin}${path}`);
      if (req.method === 'GET' && file) return sendBytes(res, file.bytes, file.contentType);
      if (serveOutput(req, res, book, video)) return;

      if (!authorized) return sendJson(res, 401, { detail: 'Unauthorized' });
      if (req.method === 'POST' && path === '/storage/upload/initiate') {
        const body = (req.json ?? {}) as { content_type?: string; file_name?: string };
        const id = randomUUID();
        const fileUrl = `${origin}/files/${id}/${encodeURIComponent(body.file_name ?? 'file')}`;
        pending.set(id, { contentType: body.content_type ?? 'application/octet-stream', fileUrl });
        return sendJson(res, 200, { upload_url: `${origin}/upload/${id}`, file_url: fileUrl });
      }

      const request = /^\/([^/]+\/[^/]+)\/requests\/([^/]+)(\/status|\/cancel)?$/.exec(path);
      if (request) {
        const [, app = '', id = '', action] = request;
        const task = book.tasks.get(id);
        const behavior = book.behave?.({ route: action === '/cancel' ? 'cancel' : 'get', clip: task?.clip ?? -1, nth: 0 });
        if (behavior?.kind === 'http') return sendBehavior(res, behavior);
        if (action === '/cancel' && req.method === 'PUT') {
          const before = task?.state;
          book.cancel(id);
          if (!task) return sendJson(res, 404, { detail: 'Request not found' });
          return before === 'queued' || before === 'running'
            ? sendJson(res, 202, { status: 'CANCELLATION_REQUESTED' })
            : sendJson(res, 400, { status: 'ALREADY_COMPLETED' });
        }
        if (!task || req.method !== 'GET') return sendJson(res, 404, { detail: 'Request not found' });
        if (action === '/status') return sendJson(res, 200, statusJson(task, origin, app));
        if (task.state === 'succeeded') {
          const url = `${origin}/delivery/${task.id}/output.mp4`;
          return sendJson(res, 200, { video: { url, content_type: 'video/mp4', file_name: 'output.mp4', file_size: video.length } });
        }
        if (task.state === 'failed') {
          const content = task.failure?.code === 'content_policy_violation';
          return sendJson(res, content ? 422 : 500, {
            detail: [{ type: task.failure?.code ?? 'internal_error', msg: task.failure?.message ?? 'failed' }],
          });
        }
        if (task.state === 'cancelled') return sendJson(res, 400, { detail: 'Request was cancelled' });
        return sendJson(res, 400, { detail: 'Request is still in progress' });
      }

      // Submit: the endpoint is the whole path.
      if (req.method !== 'POST') return sendJson(res, 405, { detail: 'Method not allowed' });
      const endpoint = path.slice(1);
      const input = (req.json ?? {}) as Record<string, unknown>;
      const { record, behavior } = book.plan(clipOfPrompt(input.prompt), endpoint, input);
      if (behavior?.kind === 'http') {
        record.status = behavior.status;
        return sendBehavior(res, behavior);
      }
      if (!endpoints.includes(endpoint)) {
        record.status = 404;
        return sendJson(res, 404, { detail: `Application '${endpoint}' not found` });
      }
      if (typeof input.prompt !== 'string' || (endpoint.endsWith('image-to-video') && typeof input.image_url !== 'string')) {
        record.status = 422;
        return sendJson(res, 422, { detail: [{ loc: ['body', 'image_url'], msg: 'field required', type: 'value_error.missing' }] });
      }
      const task = book.start(record, behavior);
      record.status = 200;
      const app = endpoint.split('/').slice(0, 2).join('/');
      sendJson(res, 200, statusJson(task, origin, app));
    },
    { ...(options.port !== undefined ? { port: options.port } : {}), ...(options.host ? { host: options.host } : {}) },
  );

  return {
    url: server.origin,
    book,
    uploads,
    requests,
    close: async () => {
      book.close();
      await server.close();
    },
  };
}
