import type { FailureType } from '../shared/failures.js';
import type { AspectRatio } from '../shared/model.js';

/**
 * What every video provider offers, shaped after asynchronous prediction APIs: start a
 * prediction, poll it, cancel it, then fetch its output and read its cost. A new provider is one
 * new file implementing this.
 */
export interface PredictionRequest {
  jobId: string;
  clipIndex: number;
  attempt: number;
  model: string;
  prompt: string;
  negativePrompt?: string;
  durationS: number;
  aspectRatio: AspectRatio;
  width: number;
  height: number;
  fps: number;
  /** Local path of a prepared reference image. */
  imagePath?: string;
  /** Seconds after which the provider should give up by itself. */
  deadlineS: number;
}

/** What identifies a request's prediction among others: the request, with or without its image. */
export type StartedQuery = Omit<PredictionRequest, 'imagePath' | 'attempt'> & { withImage: boolean };

export type PredictionStatus = 'starting' | 'processing' | 'succeeded' | 'failed' | 'canceled' | 'aborted';

export const TERMINAL_STATUSES: ReadonlySet<PredictionStatus> = new Set(['succeeded', 'failed', 'canceled', 'aborted']);

export interface Prediction {
  id: string;
  model: string;
  status: PredictionStatus;
  /** Where the finished video can be fetched from (URL or local path). */
  output?: string;
  error?: string;
  /** For a failed prediction, the failure type when it is not an ordinary (retryable) one. */
  errorType?: FailureType;
  /** Seconds of provider hardware time, when the provider reports it. */
  predictTimeS?: number;
}

/**
 * What one model makes, as far as is known before paying for it: the durations and aspect
 * ratios it accepts and the short side of its frames. Absent fields are not known to be limited.
 */
export interface ModelLimits {
  /** The only durations it makes, in seconds. */
  durationsS?: number[];
  maxDurationS?: number;
  aspectRatios?: AspectRatio[];
  /** The short side of the frames it makes, in pixels. */
  shortSidePx?: number;
}

export interface VideoProvider {
  readonly name: string;
  start(request: PredictionRequest): Promise<Prediction>;
  get(predictionId: string): Promise<Prediction>;
  cancel(predictionId: string): Promise<void>;
  /**
   * Resolves when the prediction has reached a terminal status, for providers that learn it
   * without asking (a local render, a push). Others are polled with get().
   */
  settled?(predictionId: string): Promise<Prediction>;
  /**
   * The prediction an earlier attempt of `request` started but did not live to record: one created
   * at or after `sinceMs` (epoch ms) with the same model and input, not in `exclude`. Undefined
   * when there is none, or more than one and no telling which. Providers that cannot list their
   * predictions leave it out.
   */
  findStarted?(request: StartedQuery, sinceMs: number, exclude: ReadonlySet<string>): Promise<Prediction | undefined>;
  /** Copies the finished output to `destination`, refusing more than `maxBytes`. */
  saveOutput(prediction: Prediction, destination: string, maxBytes: number): Promise<void>;
}
