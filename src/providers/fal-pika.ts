import { createFalClient, type RequestMiddleware } from '@fal-ai/client';
import { ClipflowError, FailureType } from '../shared/failures.js';
import type { AspectRatio } from '../shared/model.js';
import {
  answerDetail,
  CONTENT_POLICY,
  downloadOutput,
  failureForAnswer,
  firstUrl,
  maskSecret,
  readImage,
  transportFailure,
  type Operation,
} from './http.js';
import type { ModelLimits, Prediction, VideoProvider } from './provider.js';

/**
 * Pika 2.2 on fal (`fal-ai/pika/v2.2`, with `/image-to-video` or `/text-to-video` appended):
 * 5 or 10 s, 720p; from text, 16:9, 9:16 or 1:1 (an image sets its own shape).
 */
export const PIKA_MODELS: Readonly<Record<string, ModelLimits>> = {
  'fal-ai/pika/v2.2': { durationsS: [5, 10], aspectRatios: ['16:9', '9:16', '1:1'] satisfies AspectRatio[], shortSidePx: 720 },
};

export function pikaModelLimits(model: string): ModelLimits {
  return PIKA_MODELS[model] ?? {};
}

export interface FalPikaProviderOptions {
  key: string;
  /**
   * Where fal's hosts (queue.fal.run, rest.fal.ai) are reached instead: a request middleware
   * swaps their origin for this one and keeps the path. Unset: fal itself.
   */
  baseUrl?: string;
  maxRetryAfterS: number;
  /** Each API request gives up after this long; default 30 s. */
  requestTimeoutMs?: number;
  fetch?: typeof fetch;
}

/** A non-2xx answer, thrown by clipflow's fetch before the fal client sees the response. */
class FalAnswerError extends Error {
  override readonly name = 'FalAnswerError';
  constructor(
    readonly status: number,
    readonly retryAfter: string | null,
    readonly body: string,
  ) {
    super(`HTTP ${status}`);
  }
}

/** No answer at all. Deliberately without `cause`: the fal client retries errors whose cause chain has a network code. */
class FalTransportError extends Error {
  override readonly name = 'FalTransportError';
}

const FAL_HOSTS = /^https:\/\/(?:queue\.fal\.run|rest\.fal\.ai)(?=\/)/;
/** A prediction id is `<model>/requests/<fal request id>`: status, result and cancel need the app, and a resumed attempt has only the id. */
const REQUESTS = '/requests/';

/**
 * Pika through fal's queue API on the official `@fal-ai/client`: submit, status, result, cancel,
 * and fal storage for the reference image. The client retries queue calls by itself (3 to 5
 * times, not configurable per call); clipflow's fetch makes each call one network attempt by
 * throwing errors that client does not retry, so Temporal alone retries, honouring Retry-After.
 */
export function createFalPikaProvider(options: FalPikaProviderOptions): VideoProvider {
  const transport = options.fetch ?? globalThis.fetch;
  const timeoutMs = options.requestTimeoutMs ?? 30_000;
  const ctx = { api: 'fal', mask: (text: string) => maskSecret(text, options.key), maxRetryAfterS: options.maxRetryAfterS };

  const oneAttempt: typeof fetch = async (input, init) => {
    let response: Response;
    try {
      const timeout = AbortSignal.timeout(timeoutMs);
      response = await transport(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout });
    } catch (err) {
      throw new FalTransportError(transportFailure('get', err, ctx).message);
    }
    if (response.ok) return response;
    throw new FalAnswerError(response.status, response.headers.get('retry-after'), await response.text().catch(() => ''));
  };
  const base = options.baseUrl?.replace(/\/+$/, '');
  const rebase: RequestMiddleware = async (request) => (base ? { ...request, url: request.url.replace(FAL_HOSTS, base) } : request);
  const fal = createFalClient({ credentials: options.key, fetch: oneAttempt, requestMiddleware: rebase });

  function fail(operation: Operation, err: unknown): ClipflowError {
    if (err instanceof ClipflowError) return err;
    if (err instanceof FalAnswerError) {
      return failureForAnswer(operation, { status: err.status, retryAfter: err.retryAfter, ...answerDetail(err.body) }, ctx);
    }
    return transportFailure(operation, err, ctx);
  }

  function parseId(predictionId: string): { model: string; requestId: string } {
    const at = predictionId.lastIndexOf(REQUESTS);
    if (at <= 0) throw new ClipflowError(FailureType.PredictionNotFound, `"${predictionId}" is not a fal prediction id`);
    return { model: predictionId.slice(0, at), requestId: predictionId.slice(at + REQUESTS.length) };
  }

  /** A finished request: its result holds the video, or says why there is none. */
  async function finished(predictionId: string, model: string, requestId: string): Promise<Prediction> {
    try {
      const { data } = await fal.queue.result(model, { requestId });
      const output = firstUrl(data);
      return { id: predictionId, model, status: 'succeeded', ...(output ? { output } : {}) };
    } catch (err) {
      const failure = fail('get', err);
      // An answer about the request itself (4xx) ends it; an outage is asked again on the next attempt.
      if (!(err instanceof FalAnswerError) || err.status >= 500 || err.status === 429) throw failure;
      const errorType = failure.type === FailureType.ContentRejected ? failure.type : FailureType.ProviderRefused;
      return { id: predictionId, model, status: 'failed', error: failure.message, errorType };
    }
  }

  return {
    name: 'pika',

    async start(request) {
      const known = PIKA_MODELS[request.model];
      let image_url: string | undefined;
      if (request.imagePath) {
        try {
          image_url = await fal.storage.upload(await readImage(request.imagePath));
        } catch (err) {
          throw fail('upload', err);
        }
      }
      const input = {
        prompt: request.prompt,
        ...(request.negativePrompt ? { negative_prompt: request.negativePrompt } : {}),
        duration: Math.round(request.durationS),
        resolution: '720p',
        ...(image_url ? { image_url } : { aspect_ratio: request.aspectRatio }),
      };
      const endpoint = `${request.model}/${image_url ? 'image-to-video' : 'text-to-video'}`;
      let requestId: string;
      try {
        ({ request_id: requestId } = await fal.queue.submit(endpoint, { input }));
      } catch (err) {
        const failure = fail('create', err);
        // fal answers 404 for an app it does not host; for a known one that is an outage.
        if (failure.type === FailureType.ModelUnavailable && known) throw new ClipflowError(FailureType.ProviderFailed, failure.message);
        throw failure;
      }
      return { id: `${request.model}${REQUESTS}${requestId}`, model: request.model, status: 'starting' };
    },

    async get(predictionId) {
      const { model, requestId } = parseId(predictionId);
      let status: { status: string; error?: unknown; error_type?: unknown };
      try {
        status = (await fal.queue.status(model, { requestId, logs: false })) as typeof status;
      } catch (err) {
        throw fail('get', err);
      }
      if (status.status === 'IN_QUEUE') return { id: predictionId, model, status: 'starting' };
      if (status.status !== 'COMPLETED') return { id: predictionId, model, status: 'processing' };
      if (status.error) {
        const error = ctx.mask(`${String(status.error_type ?? 'error')}: ${String(status.error)}`.slice(0, 500));
        return {
          id: predictionId,
          model,
          status: 'failed',
          error,
          ...(CONTENT_POLICY.test(error) ? { errorType: FailureType.ContentRejected } : {}),
        };
      }
      return finished(predictionId, model, requestId);
    },

    async cancel(predictionId) {
      const { model, requestId } = parseId(predictionId);
      try {
        await fal.queue.cancel(model, { requestId });
      } catch (err) {
        // Finished already (400) or unknown (404): nothing left to stop.
        if (err instanceof FalAnswerError && (err.status === 400 || err.status === 404)) return;
        throw fail('cancel', err);
      }
    },

    async saveOutput(prediction, destination, maxBytes) {
      await downloadOutput(transport, prediction.output, destination, maxBytes, { api: 'fal', id: prediction.id });
    },
  };
}
