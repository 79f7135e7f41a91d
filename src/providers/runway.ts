import RunwayML from '@runwayml/sdk';
import { ClipflowError, FailureType } from '../shared/failures.js';
import type { AspectRatio } from '../shared/model.js';
import {
  answerDetail,
  CONTENT_POLICY,
  downloadOutput,
  failureForAnswer,
  maskSecret,
  readImage,
  transportFailure,
  type Operation,
} from './http.js';
import type { ModelLimits, Prediction, PredictionStatus, VideoProvider } from './provider.js';

/** What clipflow knows of a Runway model: whether it makes video from text alone, and the `ratio` per aspect ratio. */
interface RunwayModel {
  textToVideo: boolean;
  ratios: Partial<Record<AspectRatio, string>>;
  durationsS: number[];
}

const TWO_TO_TEN = [2, 3, 4, 5, 6, 7, 8, 9, 10];

/**
 * Runway's video models, from the API reference (`@runwayml/sdk` 4.20). Only ratios whose short
 * side passes 720 px validation are listed; gen4.5 makes 16:9 and 9:16 from text.
 */
export const RUNWAY_MODELS: Readonly<Record<string, RunwayModel>> = {
  'gen4.5': { textToVideo: true, ratios: { '16:9': '1280:720', '9:16': '720:1280' }, durationsS: TWO_TO_TEN },
  gen4_turbo: {
    textToVideo: false,
    ratios: { '16:9': '1280:720', '9:16': '720:1280', '1:1': '960:960', '4:3': '1104:832', '3:4': '832:1104' },
    durationsS: TWO_TO_TEN,
  },
};

export function runwayModelLimits(model: string): ModelLimits {
  const known = RUNWAY_MODELS[model];
  if (!known) return {};
  return { durationsS: known.durationsS, aspectRatios: Object.keys(known.ratios) as AspectRatio[], shortSidePx: 720 };
}

export interface RunwayProviderOptions {
  apiSecret: string;
  baseUrl: string;
  /** Longest wait a 429 may ask for; longer requests are capped to it. */
  maxRetryAfterS: number;
  /** Each API request gives up after this long; default 30 s. */
  requestTimeoutMs?: number;
  fetch?: typeof fetch;
}

/** Runway takes images as data URIs up to 5 MB; larger ones go through its upload API. */
const MAX_DATA_URI_BYTES = 5 * 1024 * 1024;

const UNKNOWN_MODEL = /"path":\["model"\]|\b(?:unknown|invalid|unsupported) model\b/i;

const STATUSES: Readonly<Record<string, PredictionStatus>> = {
  PENDING: 'starting',
  THROTTLED: 'starting',
  RUNNING: 'processing',
  SUCCEEDED: 'succeeded',
  FAILED: 'failed',
  CANCELLED: 'canceled',
};

interface RunwayTask {
  id: string;
  status?: string;
  output?: string[];
  failure?: string;
  failureCode?: string;
}

/**
 * Video generation on Runway through the official `@runwayml/sdk`. The client's own retries are
 * off (maxRetries 0): Temporal retries, honouring Retry-After. A task is one prediction: its id is
 * what the activity heartbeats, and cancelling it is `DELETE /v1/tasks/{id}`.
 */
export function createRunwayProvider(options: RunwayProviderOptions): VideoProvider {
  const transport = options.fetch ?? globalThis.fetch;
  const client = new RunwayML({
    apiKey: options.apiSecret,
    baseURL: options.baseUrl,
    maxRetries: 0,
    timeout: options.requestTimeoutMs ?? 30_000,
    fetch: transport,
  });
  const ctx = { api: 'runway', mask: (text: string) => maskSecret(text, options.apiSecret), maxRetryAfterS: options.maxRetryAfterS };

  function fail(operation: Operation, err: unknown): ClipflowError {
    if (err instanceof ClipflowError) return err;
    if (!(err instanceof RunwayML.APIError) || err.status === undefined) return transportFailure(operation, err, ctx);
    const answer = { status: err.status, retryAfter: err.headers?.get('retry-after'), ...answerDetail(err.error) };
    // Runway answers an unknown model with a 400 whose issue's path is `model`: the fallback model may be known.
    if (operation === 'create' && err.status === 400 && UNKNOWN_MODEL.test(answer.text) && !CONTENT_POLICY.test(answer.text)) {
      return new ClipflowError(FailureType.ModelUnavailable, ctx.mask(`runway create failed: HTTP 400: ${answer.detail.slice(0, 500)}`));
    }
    return failureForAnswer(operation, answer, ctx);
  }

  async function promptImage(imagePath: string): Promise<string> {
    const file = await readImage(imagePath);
    if ((file.size * 4) / 3 <= MAX_DATA_URI_BYTES) {
      return `data:${file.type};base64,${Buffer.from(await file.arrayBuffer()).toString('base64')}`;
    }
    try {
      return (await client.uploads.createEphemeral({ file })).uri;
    } catch (err) {
      throw fail('upload', err);
    }
  }

  function toPrediction(task: RunwayTask, model = 'unknown'): Prediction {
    const status = STATUSES[task.status ?? ''] ?? 'starting';
    const prediction: Prediction = { id: task.id, model, status };
    const output = task.output?.[0];
    if (output) prediction.output = output;
    if (status === 'failed') {
      prediction.error = ctx.mask(`${task.failureCode ?? 'FAILED'}: ${task.failure ?? 'no reason given'}`.slice(0, 500));
      const errorType = failureOfTask(task.failureCode);
      if (errorType) prediction.errorType = errorType;
    }
    return prediction;
  }

  return {
    name: 'runway',

    async start(request) {
      const known = RUNWAY_MODELS[request.model];
      const ratio = known?.ratios[request.aspectRatio] ?? `${request.width}:${request.height}`;
      const common = { model: request.model, promptText: request.prompt, ratio, duration: Math.round(request.durationS) };
      if (!request.imagePath && known && !known.textToVideo) {
        throw new ClipflowError(
          FailureType.ProviderRefused,
          `runway model ${request.model} makes video only from an image, and this clip has none`,
        );
      }
      const image = request.imagePath ? await promptImage(request.imagePath) : undefined;
      let task: { id: string };
      try {
        // The body's type is a union per model; clipflow checks the values against RUNWAY_MODELS instead.
        task = image
          ? await client.imageToVideo.create({ ...common, promptImage: image } as RunwayML.ImageToVideoCreateParams)
          : await client.textToVideo.create(common as RunwayML.TextToVideoCreateParams);
      } catch (err) {
        throw fail('create', err);
      }
      return { id: task.id, model: request.model, status: 'starting' };
    },

    async get(predictionId) {
      try {
        return toPrediction((await client.tasks.retrieve(predictionId)) as RunwayTask);
      } catch (err) {
        throw fail('get', err);
      }
    },

    async cancel(predictionId) {
      try {
        await client.tasks.delete(predictionId);
      } catch (err) {
        // Gone already: nothing left to stop.
        if (err instanceof RunwayML.APIError && err.status === 404) return;
        throw fail('cancel', err);
      }
    },

    async saveOutput(prediction, destination, maxBytes) {
      await downloadOutput(transport, prediction.output, destination, maxBytes, { api: 'runway', id: prediction.id });
    },
  };
}

/**
 * A failed task's failureCode → the failure of the table: moderation (`SAFETY.*`, also under
 * `INPUT_PREPROCESSING.SAFETY.*`) is a content rejection, an input asset Runway cannot use is refused
 * for good; anything else (INTERNAL.*) is an ordinary, retried failure.
 */
export function failureOfTask(code: string | undefined): FailureType | undefined {
  if (!code) return undefined;
  if (/(^|\.)SAFETY(\.|$)/.test(code)) return FailureType.ContentRejected;
  if (/^ASSET\.INVALID|^INPUT_PREPROCESSING\.(?!INTERNAL)/.test(code)) return FailureType.ProviderRefused;
  return undefined;
}
