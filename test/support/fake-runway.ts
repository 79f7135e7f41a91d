import type { ServerResponse } from 'node:http';
import {
  clipOfPrompt,
  fakeVideo,
  sendBehavior,
  sendJson,
  serve,
  serveOutput,
  TaskBook,
  type FakeRequest,
  type FakeTask,
  type TaskBookOptions,
} from './fake-tasks.js';

/**
 * A fake Runway API speaking the routes `@runwayml/sdk` uses: POST /v1/image_to_video and
 * /v1/text_to_video (answering `{ id }`), GET /v1/tasks/{id} (PENDING, RUNNING, SUCCEEDED with
 * `output`, FAILED with `failure` and `failureCode`, CANCELLED), DELETE /v1/tasks/{id}; Bearer
 * auth and the X-Runway-Version header required, as Runway does.
 */

const STATES: Record<FakeTask['state'], string> = {
  queued: 'PENDING',
  running: 'RUNNING',
  succeeded: 'SUCCEEDED',
  failed: 'FAILED',
  cancelled: 'CANCELLED',
};

export interface FakeRunwayOptions extends TaskBookOptions {
  token: string;
  port?: number;
  host?: string;
  /** Models it makes, and whether from text; default gen4.5 (text and image) and gen4_turbo (image only). */
  models?: Record<string, { textToVideo: boolean }>;
}

export interface FakeRunway {
  /** Base URL for the client (RUNWAYML_BASE_URL). */
  url: string;
  book: TaskBook;
  /** Every request's path and whether it carried the right token. */
  requests: { method: string; path: string; authorized: boolean }[];
  close(): Promise<void>;
}

export async function startFakeRunway(options: FakeRunwayOptions): Promise<FakeRunway> {
  const video = await fakeVideo();
  const book = new TaskBook(options);
  const models = options.models ?? { 'gen4.5': { textToVideo: true }, gen4_turbo: { textToVideo: false } };
  const requests: FakeRunway['requests'] = [];

  const taskJson = (task: FakeTask, origin: string) => ({
    id: task.id,
    createdAt: new Date().toISOString(),
    status: STATES[task.state],
    ...(task.state === 'running' ? { progress: 0.5 } : {}),
    ...(task.state === 'succeeded' ? { output: [`${origin}/delivery/${task.id}/output.mp4`], cost: { credits: 10 } } : {}),
    ...(task.state === 'failed' ? { failure: task.failure?.message ?? 'failed', failureCode: task.failure?.code ?? 'INTERNAL' } : {}),
  });

  function create(req: FakeRequest, res: ServerResponse, fromImage: boolean) {
    const body = (req.json ?? {}) as Record<string, unknown>;
    const model = String(body.model ?? '');
    const { record, behavior } = book.plan(clipOfPrompt(body.promptText), model, body);
    const answer = (status: number, json: unknown, headers?: Record<string, string>) => {
      record.status = status;
      sendJson(res, status, json, headers);
    };
    if (behavior?.kind === 'http') {
      record.status = behavior.status;
      return sendBehavior(res, behavior);
    }
    const known = models[model];
    if (!known || (!fromImage && !known.textToVideo)) {
      return answer(400, {
        error: 'Validation of body failed',
        issues: [{ path: ['model'], message: `Invalid enum value. Received '${model}'` }],
      });
    }
    if (fromImage && !/^(data:image\/|https?:\/\/|runway:\/\/)/.test(String(body.promptImage ?? ''))) {
      return answer(400, { error: 'Validation of body failed', issues: [{ path: ['promptImage'], message: 'Invalid url' }] });
    }
    if (typeof body.ratio !== 'string' || typeof body.duration !== 'number') {
      return answer(400, { error: 'Validation of body failed', issues: [{ path: ['ratio'], message: 'Required' }] });
    }
    const task = book.start(record, behavior);
    answer(200, { id: task.id });
  }

  const server = await serve(
    (req, res, origin) => {
      const path = req.url.pathname;
      const authorized = req.headers.authorization === `Bearer ${options.token}`;
      requests.push({ method: req.method, path, authorized });
      if (serveOutput(req, res, book, video)) return;
      if (!authorized) return sendJson(res, 401, { error: 'Invalid API key' });
      if (req.headers['x-runway-version'] !== '2024-11-06') return sendJson(res, 400, { error: 'X-Runway-Version header is required' });
      if (req.method === 'POST' && path === '/v1/image_to_video') return create(req, res, true);
      if (req.method === 'POST' && path === '/v1/text_to_video') return create(req, res, false);
      const taskPath = /^\/v1\/tasks\/([^/]+)$/.exec(path);
      if (!taskPath) return sendJson(res, 404, { error: 'Not found' });
      const id = taskPath[1] ?? '';
      const task = book.tasks.get(id);
      const behavior = book.behave?.({ route: req.method === 'DELETE' ? 'cancel' : 'get', clip: task?.clip ?? -1, nth: 0 });
      if (behavior?.kind === 'http') return sendBehavior(res, behavior);
      if (req.method === 'DELETE') {
        book.cancel(id);
        if (!task) return sendJson(res, 404, { error: 'Task not found' });
        res.writeHead(204).end();
        return;
      }
      if (req.method === 'GET') return task ? sendJson(res, 200, taskJson(task, origin)) : sendJson(res, 404, { error: 'Task not found' });
      sendJson(res, 405, { error: 'Method not allowed' });
    },
    { ...(options.port !== undefined ? { port: options.port } : {}), ...(options.host ? { host: options.host } : {}) },
  );

  return {
    url: server.origin,
    book,
    requests,
    close: async () => {
      book.close();
      await server.close();
    },
  };
}
