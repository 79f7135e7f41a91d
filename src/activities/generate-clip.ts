import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Span } from '@opentelemetry/api';
import { CancelledFailure, Context } from '@temporalio/activity';
import { actualClipCost, priceFor } from '../cost/prices.js';
import { VIDEO_STAGE } from '../cost/tracker.js';
import { frameSize } from '../media/dimensions.js';
import { checkClip } from '../media/probe.js';
import type { Prediction, PredictionRequest, StartedQuery } from '../providers/provider.js';
import { TERMINAL_STATUSES } from '../providers/provider.js';
import { MAX_ATTEMPT_MESSAGE_CHARS, describeFindings, type AttemptRecord, type ContentFinding } from '../shared/content.js';
import { ClipflowError, FailureType, failureType, toApplicationFailure, type ClipAttempts } from '../shared/failures.js';
import type { Clip } from '../shared/model.js';
import { microsToUsd } from '../shared/money.js';
import type { ActivityDeps } from './deps.js';
import { clipKey, posterKey, stripKey } from '../store/keys.js';
import type { GenerateClipInput } from '../shared/activity-io.js';
import { activityTelemetry } from '../telemetry/activity-telemetry.js';
import { inSpan } from '../telemetry/spans.js';

/**
 * What the activity heartbeats: the clip's attempts so far and, while a generation runs, its
 * prediction, so that an attempt after a crash takes that prediction up instead of paying again.
 */
export interface GenerateClipProgress extends ClipAttempts {
  model: string;
  /** The running generation's prediction; absent once that generation has ended. */
  predictionId?: string;
  /**
   * Epoch ms from which a prediction of this clip may exist that no attempt recorded (its worker
   * died between the create and the heartbeat carrying the id): set just before each create, and
   * when a generation ends.
   */
  creatingSince?: number;
  /** Predictions of this clip whose generations have ended, never to be taken up again. */
  ended?: string[];
}

/** Leeway for the provider's clock against the worker's when looking for an unrecorded prediction. */
const CLOCK_SKEW_MS = 30_000;

/** Ended predictions remembered per clip: more than its generations on one model. */
const MAX_ENDED = 10;
/** Generated outputs larger than this are refused rather than filling the disk. */
const MAX_OUTPUT_BYTES = 2_000_000_000;

/** What one generation came to, whichever way the attempt ends. */
interface GenerationState {
  ended: boolean;
  /** What its content check found, when the clip failed it. */
  findings?: ContentFinding[];
}

type GenerateClipDeps = Pick<
  ActivityDeps,
  'provider' | 'probe' | 'contentCheck' | 'frames' | 'costTracker' | 'store' | 'config' | 'pollIntervalMs' | 'telemetry'
>;

/**
 * The generateClip activity: on the provider its input names, among the worker's providers (the
 * primary when it names none, as in histories recorded before fallbacks across providers).
 */
export function createGenerateClip(deps: GenerateClipDeps & Pick<ActivityDeps, 'providers'>) {
  const primary = createGenerateOn(deps);
  const others = new Map(
    Object.entries(deps.providers ?? {}).map(([name, { provider, pollIntervalMs, account }]) => {
      // Its in-flight gauge counts against its own account, on the same metrics.
      const telemetry = deps.telemetry && account ? { ...deps.telemetry, account } : deps.telemetry;
      return [name, createGenerateOn({ ...deps, provider, pollIntervalMs, ...(telemetry ? { telemetry } : {}) })] as const;
    }),
  );
  return async function generateClip(input: GenerateClipInput): Promise<Clip> {
    const named = input.provider ?? deps.provider.name;
    // The primary answers to its configured name as well as its own (a test's fake is named otherwise).
    const isPrimary = named === deps.provider.name || named === deps.config.generation.provider;
    const generate = others.get(named) ?? (isPrimary ? primary : undefined);
    if (!generate) {
      const served = [deps.provider.name, ...others.keys()].join(', ');
      throw toApplicationFailure(
        new ClipflowError(FailureType.Misconfigured, `provider ${named} is not configured on this worker (it serves ${served})`),
      );
    }
    return generate(input);
  };
}

/** generateClip on one provider. */
function createGenerateOn(deps: GenerateClipDeps) {
  const { provider, probe, contentCheck, costTracker, store, config } = deps;
  const telemetry = deps.telemetry ?? activityTelemetry();
  const { metrics, tracer } = telemetry;

  /** One provider call, timed into the latency histogram whether it answers or throws. */
  async function timed<T>(operation: 'create' | 'poll' | 'find' | 'download', model: string, call: () => Promise<T>): Promise<T> {
    const end = metrics.providerRequestSeconds.startTimer({ provider: provider.name, model, operation });
    try {
      return await call();
    } finally {
      end();
    }
  }

  /** A span below the activity's own, named for the step (provider.create, clip.validate, store.put, …). */
  function step<T>(name: string, model: string, fn: (span: Span) => Promise<T>): Promise<T> {
    return inSpan(tracer, name, { 'clipflow.provider': provider.name, 'clipflow.model': model }, fn);
  }

  /** The reference image as a file this attempt's provider client can read. */
  async function imageFile(uri: string, scratch: string): Promise<string> {
    const local = store.pathOf(uri);
    if (local) return local;
    const file = path.join(scratch, `reference${path.extname(uri)}`);
    await store.download(uri, file);
    return file;
  }

  /** A prediction still running or already paid for is taken up again; anything else starts anew. */
  const worthResuming = (found: Prediction) => found.status === 'succeeded' || !TERMINAL_STATUSES.has(found.status);

  async function resume(progress: GenerateClipProgress, query: StartedQuery): Promise<Prediction | undefined> {
    const { predictionId, model } = progress;
    if (predictionId) {
      try {
        const found = await step('provider.resume', model, () => timed('poll', model, () => provider.get(predictionId)));
        if (worthResuming(found)) return found;
        progress.ended = [...(progress.ended ?? []), found.id].slice(-MAX_ENDED);
        return undefined;
      } catch (err) {
        // Only a prediction the provider does not know is replaced; on any other error (rate limit,
        // outage) this attempt fails and the next one looks again, rather than paying twice.
        if (err instanceof ClipflowError && err.type === FailureType.PredictionNotFound) return undefined;
        throw err;
      }
    }
    // No id recorded, but an earlier attempt may have died between its create and the heartbeat
    // carrying the id: look for that prediction before paying for another.
    const ctx = Context.current();
    const since = progress.creatingSince ?? (ctx.info.attempt > 1 ? ctx.info.scheduledTimestampMs : undefined);
    const findStarted = provider.findStarted?.bind(provider);
    if (since === undefined || !findStarted) return undefined;
    const found = await step('provider.find', model, () =>
      timed('find', model, () => findStarted(query, since - CLOCK_SKEW_MS, new Set(progress.ended))),
    );
    if (found) ctx.log.warn('adopting a prediction an earlier attempt started but did not record', { predictionId: found.id });
    return found && worthResuming(found) ? found : undefined;
  }

  async function waitFor(prediction: Prediction, model: string, beat: (id: string) => void): Promise<Prediction> {
    const ctx = Context.current();
    let current = prediction;
    try {
      while (!TERMINAL_STATUSES.has(current.status)) {
        beat(current.id);
        // A provider that knows when the prediction ends answers at once; the sleep keeps the
        // heartbeat (and so cancellation) going while it runs. Others are polled.
        const wait = ctx.sleep(deps.pollIntervalMs);
        const ended = provider.settled ? await Promise.race([provider.settled(current.id), wait.then(() => undefined)]) : await wait;
        const id = current.id;
        current = ended ?? (await timed('poll', model, () => provider.get(id)));
      }
      return current;
    } catch (err) {
      if (err instanceof CancelledFailure || ctx.cancellationSignal.aborted) {
        // Stop the provider's meter before giving up.
        await provider.cancel(current.id).catch(() => undefined);
      }
      throw err;
    }
  }

  async function recordCost(jobId: string, clipIndex: number, prediction: Prediction, outputDurationS: number) {
    const amountMicroUsd = actualClipCost(priceFor(config.prices, prediction.model), {
      outputDurationS,
      ...(prediction.predictTimeS !== undefined ? { predictTimeS: prediction.predictTimeS } : {}),
    });
    const recorded = await costTracker.record({
      jobId,
      stage: VIDEO_STAGE,
      clipIndex,
      key: prediction.id,
      amountMicroUsd,
      model: prediction.model,
    });
    // Counted where the ledger first records it, so a retried record never counts twice.
    if (recorded) metrics.spendUsd.inc({ provider: provider.name, model: prediction.model }, microsToUsd(amountMicroUsd));
    return amountMicroUsd;
  }

  /** Waits for the prediction in a provider.poll span, counted in flight for the provider account meanwhile. */
  async function waitUntilEnded(prediction: Prediction, model: string, beat: (id: string) => void): Promise<Prediction> {
    const inFlight = { provider: provider.name, account: telemetry.account };
    const ended = metrics.predictionSeconds.startTimer({ provider: provider.name, model });
    metrics.predictionsInFlight.inc(inFlight);
    try {
      const finished = await step('provider.poll', model, async (span) => {
        span.setAttribute('clipflow.prediction_id', prediction.id);
        return waitFor(prediction, model, beat);
      });
      ended({ status: finished.status });
      return finished;
    } finally {
      metrics.predictionsInFlight.dec(inFlight);
    }
  }

  /**
   * One attempt: resume the running generation or start a new one, wait for it, then save, price
   * and validate its output. `clip` carries what the clip has come to; the caller reads it back
   * whichever way the attempt ends.
   */
  async function produce(
    input: GenerateClipInput,
    clip: GenerateClipProgress,
    generation: GenerationState,
    scratch: string,
  ): Promise<Clip> {
    const ctx = Context.current();
    const { jobId, model } = input;
    const prompt = input.clip;
    const started = Date.now();
    const beat = () => ctx.heartbeat({ ...clip });

    const { width, height } = frameSize(prompt.aspectRatio, config.generation.shortSide);
    const query: StartedQuery = {
      jobId,
      clipIndex: prompt.clipIndex,
      model,
      prompt: prompt.prompt,
      ...(prompt.negativePrompt ? { negativePrompt: prompt.negativePrompt } : {}),
      durationS: prompt.durationS,
      aspectRatio: prompt.aspectRatio,
      width,
      height,
      fps: config.generation.fps,
      deadlineS: config.job.clipTimeoutS,
      withImage: Boolean(input.imageUri),
    };
    let prediction = await resume(clip, query);
    if (prediction) {
      ctx.log.info('resuming prediction', { predictionId: prediction.id });
    } else {
      delete clip.predictionId; // that one has ended: this is a new generation
      const { withImage: _, ...asked } = query;
      const request: PredictionRequest = {
        ...asked,
        attempt: clip.generations + 1,
        ...(input.imageUri ? { imagePath: await imageFile(input.imageUri, scratch) } : {}),
      };
      if (provider.findStarted) {
        // The intent goes first, so that a death before the id is recorded leaves a trail to it.
        clip.creatingSince = Date.now();
        beat();
      }
      prediction = await step('provider.create', model, async (span) => {
        const created = await timed('create', model, () => provider.start(request));
        span.setAttribute('clipflow.prediction_id', created.id);
        return created;
      });
      ctx.log.info('prediction created', { predictionId: prediction.id });
    }
    // Recorded at once: a crash from here on resumes this prediction instead of paying for another.
    clip.predictionId = prediction.id;
    beat();

    // Priced by the model as this clip asked for it (a provider may report it spelled otherwise).
    const finished = { ...(await waitUntilEnded(prediction, model, beat)), model };
    // From here on this generation has ended, however the attempt ends.
    generation.ended = true;
    if (finished.status !== 'succeeded') {
      throw new ClipflowError(
        finished.errorType ?? FailureType.ProviderFailed,
        `prediction ${finished.id} ended ${finished.status}${finished.error ? `: ${finished.error}` : ''}`,
      );
    }

    const key = clipKey(jobId, prompt.clipIndex);
    const partial = path.join(scratch, 'output.mp4');
    let paidMicroUsd: number | undefined;
    // Fetching, decoding to the end and making posters take seconds (more on a busy machine): the
    // heartbeat goes on meanwhile, or the server would take the attempt for a dead worker's.
    const beating = setInterval(beat, 1000);
    try {
      await step('provider.download', model, () =>
        timed('download', model, () => provider.saveOutput(finished, partial, MAX_OUTPUT_BYTES)),
      );
      // Messages name the clip by its key, not by this attempt's scratch file.
      const asClip = (err: unknown) => {
        throw err instanceof ClipflowError ? new ClipflowError(err.type, err.message.replaceAll(partial, `clip ${key}`)) : err;
      };
      const { facts, check, paid } = await step('clip.validate', model, async () => {
        const facts = await probe(partial).catch(asClip);
        // Paid for once the prediction succeeded, whether or not the clip passes validation.
        paidMicroUsd = await recordCost(jobId, prompt.clipIndex, finished, facts.durationS);
        checkClip(key, facts, config.generation);
        const check = await contentCheck(partial, facts.durationS).catch((err: unknown) =>
          asClip(err instanceof ClipflowError ? new ClipflowError(err.type, `${partial} ${err.message}`) : err),
        );
        if (check.findings.length > 0) {
          generation.findings = check.findings;
          throw new ClipflowError(
            FailureType.ValidationFailed,
            `clip ${key} failed its content check: ${describeFindings(check.findings)}`,
          );
        }
        return { facts, check, paid: paidMicroUsd };
      });
      // Only a clip that passed goes to the store, where any worker (and the report) finds it.
      const uri = await step('store.put', model, () => store.putFile(key, partial, 'video/mp4'));
      const file = store.pathOf(uri);
      const pictures = await storePictures(jobId, prompt.clipIndex, partial, facts.durationS, scratch);
      clip.spentMicroUsd += paid;
      return {
        clipIndex: prompt.clipIndex,
        uri,
        ...(file ? { path: file } : {}),
        durationS: facts.durationS,
        width: facts.width,
        height: facts.height,
        sizeBytes: facts.sizeBytes,
        provider: provider.name,
        model: finished.model,
        costMicroUsd: clip.spentMicroUsd,
        costUsd: microsToUsd(clip.spentMicroUsd),
        attempts: clip.generations + 1,
        generationTimeS: (Date.now() - started) / 1000,
        ...(input.imageNote ? { imageNote: input.imageNote } : {}),
        contentCheck: check,
        ...(clip.failedAttempts?.length ? { failedAttempts: clip.failedAttempts } : {}),
        ...pictures,
      };
    } catch (err) {
      // An output refused before its cost was read (too large, unreadable) was still paid for.
      paidMicroUsd ??= await recordCost(jobId, prompt.clipIndex, finished, prompt.durationS).catch(() => 0);
      clip.spentMicroUsd += paidMicroUsd;
      throw err;
    } finally {
      clearInterval(beating);
    }
  }

  /**
   * The clip's poster and strip, in the store beside it. A clip that passed is kept even when these
   * cannot be made (it is paid for and good); the report then shows it without a picture.
   */
  async function storePictures(jobId: string, clipIndex: number, file: string, durationS: number, scratch: string) {
    const poster = path.join(scratch, 'poster.jpg');
    const strip = path.join(scratch, 'strip.jpg');
    try {
      await deps.frames.posters(file, durationS, { poster, strip });
      return {
        posterUri: await store.putFile(posterKey(jobId, clipIndex), poster, 'image/jpeg'),
        stripUri: await store.putFile(stripKey(jobId, clipIndex), strip, 'image/jpeg'),
      };
    } catch (err) {
      Context.current().log.warn('poster not made', { clipIndex, error: (err as Error).message });
      return {};
    }
  }

  return async function generateOn(input: GenerateClipInput): Promise<Clip> {
    const ctx = Context.current();
    const previous = ctx.info.heartbeatDetails as Partial<GenerateClipProgress> | undefined;
    // What the clip has come to: from this model's earlier attempts, else from earlier models.
    const failedAttempts = previous?.failedAttempts ?? input.failedAttempts ?? [];
    const clip: GenerateClipProgress = {
      model: input.model,
      generations: previous?.generations ?? 0,
      spentMicroUsd: previous?.spentMicroUsd ?? input.spentMicroUsd ?? 0,
      ...(failedAttempts.length ? { failedAttempts } : {}),
      ...(previous?.model === input.model
        ? {
            ...(previous.predictionId ? { predictionId: previous.predictionId } : {}),
            ...(previous.creatingSince !== undefined ? { creatingSince: previous.creatingSince } : {}),
            ...(previous.ended ? { ended: previous.ended } : {}),
          }
        : {}),
    };
    const scope = { jobId: input.jobId, clipIndex: input.clip.clipIndex, generation: clip.generations + 1, model: input.model };
    ctx.log.info('generating clip', scope);
    // A generation ends once its prediction has (or could not be made): a failure while the
    // prediction may still run (a crash, an outage asking about it) leaves it to be taken up again.
    const generation: GenerationState = { ended: false };
    // This attempt's own files (a downloaded reference image, the output before it is checked).
    const scratch = await mkdtemp(path.join(os.tmpdir(), 'clipflow-clip-'));
    try {
      const made = await produce(input, clip, generation, scratch);
      metrics.attempts.inc({ provider: provider.name, model: input.model, result: 'succeeded' });
      ctx.log.info('clip ready', { ...scope, uri: made.uri, costUsd: made.costUsd });
      return made;
    } catch (err) {
      const attempts = (): ClipAttempts => ({
        generations: clip.generations,
        spentMicroUsd: clip.spentMicroUsd,
        ...(clip.failedAttempts ? { failedAttempts: clip.failedAttempts } : {}),
      });
      // Still a cancellation, now telling the workflow what the clip had cost.
      if (err instanceof CancelledFailure) {
        metrics.attempts.inc({ provider: provider.name, model: input.model, result: FailureType.Cancelled });
        throw new CancelledFailure(err.message, [attempts()]);
      }
      if (generation.ended || !clip.predictionId) {
        // The next attempt starts a new generation; the count says when the clip is done for on this model.
        clip.generations += 1;
        if (clip.predictionId) clip.ended = [...(clip.ended ?? []), clip.predictionId].slice(-MAX_ENDED);
        delete clip.predictionId;
        clip.creatingSince = Date.now();
        clip.failedAttempts = [...(clip.failedAttempts ?? []), attemptRecord(clip.generations, input.model, err, generation.findings)];
        ctx.heartbeat({ ...clip });
      }
      const failure = toApplicationFailure(err, { details: [attempts()], exhausted: clip.generations >= input.maxGenerations });
      metrics.attempts.inc({ provider: provider.name, model: input.model, result: failureType(failure.type) });
      ctx.log.warn('clip generation failed', { ...scope, type: failure.type, error: failure.message, final: failure.nonRetryable });
      throw failure;
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  };
}

/** A failed generation as the report lists it: its type and message as Temporal will see them. */
function attemptRecord(generation: number, model: string, err: unknown, findings: ContentFinding[] | undefined): AttemptRecord {
  const failure = toApplicationFailure(err);
  return {
    generation,
    model,
    errorType: failure.type ?? FailureType.Error,
    message: failure.message.slice(0, MAX_ATTEMPT_MESSAGE_CHARS),
    ...(findings ? { findings } : {}),
  };
}
