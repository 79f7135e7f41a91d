import { expect } from 'vitest';
import type { GenerateClipProgress } from '../../src/activities/generate-clip.js';
import { mediaBinaries } from '../../src/media/binaries.js';
import { createProbe } from '../../src/media/probe.js';
import type { GenerateClipsResult } from '../../src/shared/model.js';
import type { Harness } from './job-runner.js';

/** What the provider workflow tests check about a job, whichever provider made it. */

const probe = createProbe(mediaBinaries().ffprobe);

/** Predictions each running generateClip activity has heartbeated, as the server holds them. */
export async function heartbeatedPredictions(h: Harness, jobId: string): Promise<string[]> {
  const description = await h.clipflow.handle(jobId).raw.describe();
  return (description.raw.pendingActivities ?? [])
    .filter((a) => a.activityType?.name === 'generateClip')
    .map((a) => a.heartbeatDetails?.payloads?.[0]?.data)
    .filter((data): data is Uint8Array => data instanceof Uint8Array)
    .map((data) => (JSON.parse(Buffer.from(data).toString('utf8')) as GenerateClipProgress).predictionId)
    .filter((id): id is string => id !== undefined);
}

/** Every clip of the result is a real H.264 1280x720 MP4 of at least 1 s and 100 KB. */
export async function expectValidClips(result: GenerateClipsResult): Promise<void> {
  for (const clip of result.clips) {
    const facts = await probe(clip.path!);
    expect(facts.codec).toBe('h264');
    expect([facts.width, facts.height]).toEqual([1280, 720]);
    expect(facts.durationS).toBeGreaterThanOrEqual(1);
    expect(facts.sizeBytes).toBeGreaterThan(100_000);
  }
}

export function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not end within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Every string in a value, byte arrays (payload data, metadata) decoded as UTF-8. */
export function allText(value: unknown, out: string[] = [], seen = new Set<object>()): string[] {
  if (typeof value === 'string') out.push(value);
  else if (value instanceof Uint8Array) out.push(Buffer.from(value).toString('utf8'));
  else if (value && typeof value === 'object') {
    if (seen.has(value)) return out;
    seen.add(value);
    for (const item of Array.isArray(value) ? value : Object.values(value)) allText(item, out, seen);
  }
  return out;
}
