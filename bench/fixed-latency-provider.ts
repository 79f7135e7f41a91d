/**
 * A VideoProvider whose every prediction takes exactly `latencyMs` (a setTimeout), whose output is
 * one real MP4 rendered once (see sample-clip.ts), and which counts creates per (jobId, clipIndex).
 * Like every real provider it is only asked (get), never tells: the activity learns a prediction
 * has ended by polling, at the interval the bench sets, and the lag of each poll is recorded.
 *
 * With `stateFile`, predictions are also kept in a JSON file keyed by id with their start time, so
 * another process (a replacement worker) can look them up and resume them, as it would with a
 * remote API. With `createsLog`, every create is appended to a JSONL file so the creates of a
 * child-process worker are counted too.
 */
import { appendFileSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { copyFile, stat } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { ClipflowError, FailureType } from '../src/shared/failures.js';
import type { Prediction, PredictionRequest, PredictionStatus, VideoProvider } from '../src/providers/provider.js';

export interface FixedLatencyOptions {
  latencyMs: number;
  /** The MP4 every succeeded prediction's output is a copy of. */
  sampleFile: string;
  /** Predictions keyed by id with their start time, shared between processes. */
  stateFile?: string;
  /** One JSON line per create: { jobId, clipIndex, id, pid, at }. */
  createsLog?: string;
}

interface Entry {
  id: string;
  jobId: string;
  clipIndex: number;
  model: string;
  startedAt: number;
  /** When it became 'succeeded' (startedAt + latency, as the timer fired). */
  readyAt?: number;
  /** When a get() first saw it succeeded: readyAt → seenAt is the polling lag. */
  seenAt?: number;
  status: PredictionStatus;
  timer?: NodeJS.Timeout;
}

export interface CreateLine {
  jobId: string;
  clipIndex: number;
  id: string;
  pid: number;
  at: number;
}

export interface ProviderTimings {
  /** Time from a prediction being ready to a poll noticing it, per prediction (ms). */
  pollLagMs: number[];
  /** saveOutput durations (ms). */
  saveMs: number[];
}

export interface FixedLatencyProvider extends VideoProvider {
  /** Creates seen by this process, keyed `${jobId}#${clipIndex}`. */
  readonly creates: Map<string, number>;
  readonly timings: ProviderTimings;
  createCount(jobId: string, clipIndex: number): number;
  /** Clears the timings (between measured runs). */
  resetTimings(): void;
}

export const createKey = (jobId: string, clipIndex: number) => `${jobId}#${clipIndex}`;

type Stored = Pick<Entry, 'id' | 'jobId' | 'clipIndex' | 'model' | 'startedAt' | 'status'>;

function readState(file: string): Record<string, Stored> {
  if (!existsSync(file)) return {};
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, Stored>;
  } catch {
    return {};
  }
}

export function createFixedLatencyProvider(options: FixedLatencyOptions): FixedLatencyProvider {
  const { latencyMs, sampleFile, stateFile, createsLog } = options;
  const entries = new Map<string, Entry>();
  const creates = new Map<string, number>();
  const timings: ProviderTimings = { pollLagMs: [], saveMs: [] };

  function persist(entry: Entry): void {
    if (!stateFile) return;
    // Read-modify-write, atomically replaced: another process may have added its own predictions.
    const state = readState(stateFile);
    const { id, jobId, clipIndex, model, startedAt, status } = entry;
    state[id] = { id, jobId, clipIndex, model, startedAt, status };
    const temp = `${stateFile}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify(state));
    renameSync(temp, stateFile);
  }

  /** Makes the entry succeed `latencyMs` after it started (at once if that time has passed). */
  function arm(entry: Entry): void {
    const remaining = entry.startedAt + latencyMs - Date.now();
    const finish = () => {
      if (entry.status !== 'processing') return;
      entry.status = 'succeeded';
      entry.readyAt = Date.now();
    };
    if (remaining <= 0) finish();
    else entry.timer = setTimeout(finish, remaining);
  }

  function view(entry: Entry): Prediction {
    return {
      id: entry.id,
      model: entry.model,
      status: entry.status,
      ...(entry.status === 'succeeded' ? { output: sampleFile, predictTimeS: latencyMs / 1000 } : {}),
    };
  }

  return {
    name: 'fixed-latency',
    creates,
    timings,
    createCount: (jobId, clipIndex) => creates.get(createKey(jobId, clipIndex)) ?? 0,
    resetTimings() {
      timings.pollLagMs.length = 0;
      timings.saveMs.length = 0;
    },

    async start(request: PredictionRequest) {
      const entry: Entry = {
        id: randomUUID(),
        jobId: request.jobId,
        clipIndex: request.clipIndex,
        model: request.model,
        startedAt: Date.now(),
        status: 'processing',
      };
      entries.set(entry.id, entry);
      const key = createKey(request.jobId, request.clipIndex);
      creates.set(key, (creates.get(key) ?? 0) + 1);
      if (createsLog) {
        const line: CreateLine = {
          jobId: request.jobId,
          clipIndex: request.clipIndex,
          id: entry.id,
          pid: process.pid,
          at: entry.startedAt,
        };
        appendFileSync(createsLog, `${JSON.stringify(line)}\n`);
      }
      // Zero latency: the prediction is done as soon as it is created (no poll needed).
      if (latencyMs <= 0) {
        entry.status = 'succeeded';
        entry.readyAt = entry.seenAt = entry.startedAt;
      } else {
        arm(entry);
      }
      persist(entry);
      return view(entry);
    },

    async get(id) {
      let entry = entries.get(id);
      if (!entry && stateFile) {
        // Started by another (perhaps dead) process: the "remote API" still knows it.
        const stored = readState(stateFile)[id];
        if (stored) {
          entry = { ...stored };
          entries.set(id, entry);
          if (entry.status === 'processing') arm(entry);
        }
      }
      if (!entry) throw new ClipflowError(FailureType.PredictionNotFound, `prediction ${id} is unknown to the fixed-latency provider`);
      if (entry.status === 'succeeded' && entry.seenAt === undefined) {
        entry.seenAt = Date.now();
        if (entry.readyAt !== undefined) timings.pollLagMs.push(entry.seenAt - entry.readyAt);
      }
      return view(entry);
    },

    async cancel(id) {
      const entry = entries.get(id);
      if (entry?.status !== 'processing') return;
      clearTimeout(entry.timer);
      entry.status = 'canceled';
      persist(entry);
    },

    async saveOutput(prediction, destination, maxBytes) {
      const began = performance.now();
      if (prediction.status !== 'succeeded') throw new Error(`prediction ${prediction.id} has no output`);
      const { size } = await stat(sampleFile);
      if (size > maxBytes) throw new ClipflowError(FailureType.ValidationFailed, `output is ${size} B, over the cap of ${maxBytes} B`);
      await copyFile(sampleFile, destination);
      timings.saveMs.push(performance.now() - began);
    },
  };
}

/** Creates per (jobId, clipIndex) from one or more JSONL create logs. */
export function readCreates(...files: string[]): { lines: CreateLine[]; counts: Map<string, number> } {
  const lines: CreateLine[] = [];
  for (const file of files) {
    if (!existsSync(file)) continue;
    for (const text of readFileSync(file, 'utf8').split('\n')) {
      if (text.trim()) lines.push(JSON.parse(text) as CreateLine);
    }
  }
  const counts = new Map<string, number>();
  for (const line of lines) {
    const key = createKey(line.jobId, line.clipIndex);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return { lines, counts };
}
