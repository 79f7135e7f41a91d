import { copyFile, stat } from 'node:fs/promises';
import type { Info } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import type { CostEntry, CostTracker } from '../../src/cost/tracker.js';
import type { Prediction, PredictionRequest, PredictionStatus, VideoProvider } from '../../src/providers/provider.js';

/** Every call a provider received, in order. */
export interface ProviderCalls {
  start: PredictionRequest[];
  get: string[];
  cancel: string[];
  saveOutput: { predictionId: string; destination: string; maxBytes: number }[];
}

export interface FakeProviderOptions {
  name?: string;
  /** Answers start(); `n` counts earlier starts. Defaults to a new 'processing' prediction `new-<n+1>`. */
  start?: (request: PredictionRequest, n: number) => Prediction | Promise<Prediction>;
  /** Answers get(); `n` counts earlier gets of the same id. Defaults to 'succeeded' with `output`. */
  get?: (id: string, n: number) => Prediction | Promise<Prediction>;
  /** The file saveOutput copies to its destination. */
  output?: string;
}

export const FAKE_MODEL = 'fake/model';

export function prediction(id: string, status: PredictionStatus, extra: Partial<Prediction> = {}): Prediction {
  return { id, model: FAKE_MODEL, status, ...extra };
}

/** A provider driven by the test, recording every call. */
export class FakeProvider implements VideoProvider {
  readonly name: string;
  readonly calls: ProviderCalls = { start: [], get: [], cancel: [], saveOutput: [] };

  constructor(private readonly options: FakeProviderOptions = {}) {
    this.name = options.name ?? 'fake';
  }

  async start(request: PredictionRequest): Promise<Prediction> {
    const n = this.calls.start.length;
    this.calls.start.push(request);
    return this.options.start ? this.options.start(request, n) : { id: `new-${n + 1}`, model: request.model, status: 'processing' };
  }

  async get(id: string): Promise<Prediction> {
    const n = this.calls.get.filter((g) => g === id).length;
    this.calls.get.push(id);
    if (this.options.get) return this.options.get(id, n);
    const model = this.calls.start.at(-1)?.model ?? FAKE_MODEL;
    return { id, model, status: 'succeeded', ...(this.options.output ? { output: this.options.output } : {}) };
  }

  async cancel(id: string): Promise<void> {
    this.calls.cancel.push(id);
  }

  async saveOutput(p: Prediction, destination: string, maxBytes: number): Promise<void> {
    this.calls.saveOutput.push({ predictionId: p.id, destination, maxBytes });
    const source = p.output ?? this.options.output;
    if (!source) throw new Error(`fake prediction ${p.id} has no output`);
    const { size } = await stat(source);
    if (size > maxBytes) throw new Error(`output is ${size} B, over ${maxBytes} B`);
    await copyFile(source, destination);
  }
}

/** Wraps a real provider, recording what was asked of it. */
export function recordingProvider(inner: VideoProvider): VideoProvider & { calls: ProviderCalls } {
  const calls: ProviderCalls = { start: [], get: [], cancel: [], saveOutput: [] };
  return {
    name: inner.name,
    calls,
    start(request) {
      calls.start.push(request);
      return inner.start(request);
    },
    get(id) {
      calls.get.push(id);
      return inner.get(id);
    },
    cancel(id) {
      calls.cancel.push(id);
      return inner.cancel(id);
    },
    saveOutput(p, destination, maxBytes) {
      calls.saveOutput.push({ predictionId: p.id, destination, maxBytes });
      return inner.saveOutput(p, destination, maxBytes);
    },
  };
}

/** A cost tracker in memory, with the same record-once rule as the real ones. */
export function memoryCostTracker(initial: CostEntry[] = []): CostTracker & { all: CostEntry[] } {
  const all: CostEntry[] = [...initial];
  const identity = (e: CostEntry) => JSON.stringify([e.jobId, e.stage, e.clipIndex, e.key]);
  return {
    all,
    async getTotalCost(jobId) {
      return all.filter((e) => e.jobId === jobId).reduce((sum, e) => sum + e.amountMicroUsd, 0);
    },
    async record(entry) {
      if (all.some((e) => identity(e) === identity(entry))) return false;
      all.push({ ...entry });
      return true;
    },
    async entries(jobId) {
      return all.filter((e) => e.jobId === jobId);
    },
    async close() {},
  };
}

/**
 * A MockActivityEnvironment that collects heartbeats, keeps the SDK's logs quiet and types run()
 * by the activity it runs.
 */
export class TestActivityEnvironment extends MockActivityEnvironment {
  readonly heartbeats: unknown[] = [];

  constructor(info: Partial<Info> = {}) {
    super(info, { logger: new DefaultLogger('ERROR', () => undefined) });
    this.on('heartbeat', (details: unknown) => this.heartbeats.push(details));
  }

  override run<A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R> {
    return super.run(fn, ...args) as Promise<R>;
  }
}

export function activityEnv(info: Partial<Info> = {}): TestActivityEnvironment {
  return new TestActivityEnvironment(info);
}

/** What `promise` rejected with; throws if it resolved instead. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection, but the promise resolved');
}
