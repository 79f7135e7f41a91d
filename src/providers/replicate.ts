import Replicate from 'replicate';
import { ClipflowError, FailureType } from '../shared/failures.js';
import {
  answerDetail,
  CONTENT_POLICY,
  downloadOutput,
  firstUrl,
  failureForAnswer,
  maskSecret,
  readImage,
  transportFailure,
  type Operation,
} from './http.js';
import type { ModelLimits, Prediction, PredictionRequest, PredictionStatus, StartedQuery, VideoProvider } from './provider.js';
import { isSameRequest } from './same-request.js';

// The project's tests import these from here, where they were first written.
export { maskSecret, retryAfterFrom } from './http.js';

/**
 * Input names of one model. Keys left out use the generic name; `null` means the model has no
 * such input and it is not sent.
 */
export interface ModelInputKeys {
  /** Where the uploaded reference image goes; default `image`. */
  image?: string;
  negativePrompt?: string | null;
  duration?: string | null;
  aspectRatio?: string | null;
  /** Sent as-is with every prediction of this model. */
  extra?: Record<string, unknown>;
}

/** Known models whose input names differ from the generic ones (keyed by owner/name). */
export const DEFAULT_MODEL_INPUTS: Readonly<Record<string, ModelInputKeys>> = {
  'minimax/video-01': { image: 'first_frame_image' },
  'minimax/video-01-live': { image: 'first_frame_image' },
  'minimax/hailuo-02': { image: 'first_frame_image' },
};

/**
 * What known models make, from their input schemas on Replicate: a clip asking for anything else
 * is refused before a prediction is paid for. Models not listed are limited only by the environment.
 */
export const MODEL_LIMITS: Readonly<Record<string, ModelLimits>> = {
  // No duration or aspect-ratio input: 6 s at 720p whatever is asked.
  'minimax/video-01': { shortSidePx: 720 },
  'minimax/video-01-live': { shortSidePx: 720 },
  // `duration` is 6 or 10; 768p by default.
  'minimax/hailuo-02': { durationsS: [6, 10], shortSidePx: 768 },
  // `aspect_ratio` is 16:9 or 9:16 (1280×720 or 720×1280).
  'wavespeedai/wan-2.1-t2v-720p': { aspectRatios: ['16:9', '9:16'], shortSidePx: 720 },
  'wan-video/wan-2.1-t2v-480p': { shortSidePx: 480 },
};

/** The limits of `model` (`owner/name` or `owner/name:version`), as far as they are known. */
export function replicateModelLimits(model: string): ModelLimits {
  return MODEL_LIMITS[model] ?? MODEL_LIMITS[model.split(':')[0] ?? ''] ?? {};
}

export interface ReplicateProviderOptions {
  apiToken: string;
  /** Defaults to https://api.replicate.com/v1 (the client's default). */
  baseUrl?: string;
  /** Longest wait a 429 may ask for; longer requests are capped to it. */
  maxRetryAfterS: number;
  /** The transport; defaults to globalThis.fetch. */
  fetch?: typeof fetch;
  /** Per-model input names, merged over DEFAULT_MODEL_INPUTS. */
  modelInputs?: Readonly<Record<string, ModelInputKeys>>;
  /** Each API request (one network attempt) gives up after this long; default 30 s. */
  requestTimeoutMs?: number;
}

/** Pages of the prediction list searched for an unrecorded prediction (100 a page). */
const LIST_PAGES = 20;
/** The part of Replicate's prediction object clipflow reads. */
interface ReplicatePrediction {
  id: string;
  model?: string;
  version?: string;
  input?: Record<string, unknown>;
  created_at?: string;
  source?: string;
  status?: string;
  output?: unknown;
  error?: unknown;
  metrics?: { predict_time?: number };
}

const STATUSES: ReadonlySet<string> = new Set<PredictionStatus>(['starting', 'processing', 'succeeded', 'failed', 'canceled', 'aborted']);
const MODEL_NAME = /^[A-Za-z0-9][\w.-]*\/[A-Za-z0-9][\w.-]*$/;
const VERSION_ID = /^[A-Za-z0-9]+$/;

/**
 * Video generation on Replicate through the official `replicate` client. Every API call makes
 * exactly one network attempt: retries are Temporal's job, which honours Retry-After and backs off,
 * whereas the client would repeat 429s and 5xx five times back to back.
 */
export function createReplicateProvider(options: ReplicateProviderOptions): VideoProvider {
  const token = options.apiToken;
  const transport = options.fetch ?? globalThis.fetch;
  const requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  const modelInputs = { ...DEFAULT_MODEL_INPUTS, ...options.modelInputs };
  /** The model each prediction was asked of, as the caller spelled it (price table key). */
  const requestedModels = new Map<string, string>();

  const replicate = new Replicate({
    auth: token,
    ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}),
    // Retries off: replicate.request() re-calls fetch with the same init object on 429/5xx/network errors; we replay the first attempt's result instead of sending again.
    fetch: oneAttemptFetch(transport, requestTimeoutMs),
  });

  const mask = (text: string) => maskSecret(text, token);

  function fail(operation: Operation, err: unknown): ClipflowError {
    if (err instanceof ClipflowError) return err;
    return mapError(operation, err, { mask, maxRetryAfterS: options.maxRetryAfterS });
  }

  function toPrediction(raw: ReplicatePrediction, requestedModel?: string): Prediction {
    const status: PredictionStatus = raw.status && STATUSES.has(raw.status) ? (raw.status as PredictionStatus) : 'processing';
    const model = requestedModel ?? requestedModels.get(raw.id) ?? raw.model ?? 'unknown';
    const prediction: Prediction = { id: raw.id, model, status };
    const output = firstUrl(raw.output);
    if (output) prediction.output = output;
    const error = errorText(raw.error);
    if (error) {
      prediction.error = mask(error);
      if (status === 'failed' && CONTENT_POLICY.test(error)) prediction.errorType = FailureType.ContentRejected;
    }
    const predictTime = raw.metrics?.predict_time;
    if (typeof predictTime === 'number' && Number.isFinite(predictTime)) prediction.predictTimeS = predictTime;
    return prediction;
  }

  async function uploadImage(imagePath: string): Promise<string> {
    const file = await readImage(imagePath);
    try {
      const uploaded = await replicate.files.create(file, { clipflow: true });
      const url = uploaded?.urls?.get;
      if (typeof url !== 'string' || !url) throw new Error('the files API answered without urls.get');
      return url;
    } catch (err) {
      throw fail('upload', err);
    }
  }

  const inputKeys = (model: string): ModelInputKeys => modelInputs[model] ?? modelInputs[model.split(':')[0] ?? ''] ?? {};

  function buildInput(request: Omit<PredictionRequest, 'attempt'>, imageUrl: string | undefined): Record<string, unknown> {
    const keys = inputKeys(request.model);
    const input: Record<string, unknown> = { ...keys.extra, prompt: request.prompt };
    const put = (key: string | null | undefined, fallback: string, value: unknown) => {
      if (key === null || value === undefined) return;
      input[key ?? fallback] = value;
    };
    put(keys.negativePrompt, 'negative_prompt', request.negativePrompt || undefined);
    put(keys.duration, 'duration', request.durationS);
    put(keys.aspectRatio, 'aspect_ratio', request.aspectRatio);
    if (imageUrl) input[keys.image ?? 'image'] = imageUrl;
    return input;
  }

  function parseModel(model: string): { modelName: string; version: string | undefined } {
    const [modelName = '', version, ...rest] = model.split(':');
    if (!MODEL_NAME.test(modelName) || rest.length > 0 || (version !== undefined && !VERSION_ID.test(version))) {
      throw new ClipflowError(FailureType.InvalidInput, `model "${model}" is not of the form owner/name or owner/name:version`);
    }
    return { modelName, version };
  }

  /**
   * Predictions created at or after `sinceMs`, newest first, as the list gives them; at most
   * LIST_PAGES pages, so that a busy account costs a bounded search.
   */
  async function listedSince(sinceMs: number): Promise<ReplicatePrediction[]> {
    const found: ReplicatePrediction[] = [];
    let pages = 0;
    try {
      for await (const page of replicate.paginate(() => replicate.predictions.list())) {
        for (const raw of page as ReplicatePrediction[]) {
          const created = Date.parse(raw.created_at ?? '');
          if (!(created >= sinceMs)) return found;
          found.push(raw);
        }
        if (++pages >= LIST_PAGES) return found;
      }
    } catch (err) {
      throw fail('list', err);
    }
    return found;
  }

  return {
    name: 'replicate',

    async findStarted(query: StartedQuery, sinceMs: number, exclude: ReadonlySet<string>) {
      const { modelName, version } = parseModel(query.model);
      const candidates = (await listedSince(sinceMs)).filter(
        (raw) => !exclude.has(raw.id) && raw.source !== 'web' && (version ? raw.version === version : raw.model === modelName),
      );
      // The list leaves inputs out; each candidate's own record has them.
      const expected = buildInput(query, query.withImage ? 'image' : undefined);
      const imageKey = inputKeys(query.model).image ?? 'image';
      const matches: ReplicatePrediction[] = [];
      for (const candidate of candidates) {
        let full: ReplicatePrediction;
        try {
          full = (await replicate.predictions.get(candidate.id)) as ReplicatePrediction;
        } catch (err) {
          throw fail('get', err);
        }
        if (isSameRequest(expected, full.input ?? {}, imageKey)) matches.push(full);
      }
      // Two alike (the same prompt twice at once): taking either could give one video to two clips.
      if (matches.length !== 1 || !matches[0]) return undefined;
      requestedModels.set(matches[0].id, query.model);
      return toPrediction(matches[0], query.model);
    },

    async start(request) {
      const { modelName, version } = parseModel(request.model);
      const imageUrl = request.imagePath ? await uploadImage(request.imagePath) : undefined;
      const input = buildInput(request, imageUrl);
      const headers: Record<string, string> = {};
      // Replicate cancels (or aborts, if it never started) the prediction by itself at the deadline.
      if (Number.isFinite(request.deadlineS) && request.deadlineS > 0) {
        headers['Cancel-After'] = `${Math.max(1, Math.ceil(request.deadlineS))}s`;
      }
      let raw: ReplicatePrediction;
      try {
        const response = version
          ? await replicate.request('/predictions', { method: 'POST', headers, data: { version, input } })
          : await replicate.request(`/models/${modelName}/predictions`, { method: 'POST', headers, data: { input } });
        raw = (await response.json()) as ReplicatePrediction;
      } catch (err) {
        throw fail('create', err);
      }
      if (!raw || typeof raw.id !== 'string') {
        throw new ClipflowError(FailureType.ProviderFailed, 'replicate create answered without a prediction id');
      }
      requestedModels.set(raw.id, request.model);
      // Bounded: the oldest entries go first (a worker runs for weeks).
      if (requestedModels.size > 10_000) requestedModels.delete(requestedModels.keys().next().value as string);
      return toPrediction(raw, request.model);
    },

    async get(predictionId) {
      try {
        return toPrediction((await replicate.predictions.get(predictionId)) as ReplicatePrediction);
      } catch (err) {
        throw fail('get', err);
      }
    },

    async cancel(predictionId) {
      try {
        await replicate.predictions.cancel(predictionId);
      } catch (err) {
        const status = httpStatus(err);
        // Gone, or already finished: nothing left to stop.
        if (status === 404 || status === 409 || status === 422) return;
        throw fail('cancel', err);
      }
    },

    async saveOutput(prediction, destination, maxBytes) {
      try {
        await downloadOutput(transport, prediction.output, destination, maxBytes, { api: 'replicate', id: prediction.id });
      } catch (err) {
        throw fail('download', err);
      }
    },
  };
}

/**
 * A fetch for the Replicate client that sends each request once. The client's retry loop calls
 * fetch again with the very same `init` object; those calls get the first attempt's response
 * (cloned) or error back without touching the network, so the client's own error reaches us.
 */
export function oneAttemptFetch(
  transport: typeof fetch,
  timeoutMs: number,
): (input: string | URL | Request, init?: RequestInit) => Promise<Response> {
  const attempts = new WeakMap<object, Promise<Response>>();
  return async (input, init) => {
    const previous = init ? attempts.get(init) : undefined;
    if (previous !== undefined) return (await previous).clone();
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
    const attempt = transport(input, { ...init, signal });
    if (init) attempts.set(init, attempt);
    const response = await attempt;
    // Keep the first response unread so that replays can clone it.
    return response.ok ? response : response.clone();
  };
}

interface MapContext {
  mask: (text: string) => string;
  maxRetryAfterS: number;
}

/** Replicate client / transport errors → ClipflowError; never carries the token. */
export function mapError(operation: Operation, err: unknown, ctx: MapContext): ClipflowError {
  const status = httpStatus(err);
  if (status === undefined) return transportFailure(operation, err, { api: 'replicate', mask: ctx.mask });
  const retryAfter = (err as { response: Response }).response.headers.get('retry-after');
  return failureForAnswer(operation, { status, retryAfter, ...responseBody(err as Error) }, { api: 'replicate', ...ctx });
}

function httpStatus(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null || !('response' in err)) return undefined;
  const response = (err as { response: unknown }).response;
  if (typeof response !== 'object' || response === null) return undefined;
  const status = (response as { status?: unknown }).status;
  return typeof status === 'number' ? status : undefined;
}

/** The client puts the response body into its error message: "... failed with status N text: BODY." */
function responseBody(err: Error): { text: string; detail: string } {
  return answerDetail(/failed with status \d+[^:]*: ([\s\S]*)\.$/.exec(err.message ?? '')?.[1]?.trim() ?? '');
}

function errorText(error: unknown): string | undefined {
  if (error === null || error === undefined || error === '') return undefined;
  if (typeof error === 'string') return error;
  try {
    return JSON.stringify(error);
  } catch {
    return String(error);
  }
}
