import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mediaBinaries } from '../src/media/binaries.js';
import { createProbe } from '../src/media/probe.js';
import { ClipflowError, FailureType } from '../src/shared/failures.js';

const run = promisify(execFile);
const media = mediaBinaries();
const probe = createProbe(media.ffprobe);

let scratch: string;
const file = (name: string) => path.join(scratch, name);

async function ffmpeg(...args: string[]): Promise<void> {
  await run(media.ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', ...args]);
}

const testsrc = (size: string, seconds: number) => ['-f', 'lavfi', '-i', `testsrc=size=${size}:rate=24`, '-t', String(seconds)];
const H264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'];

beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'clipflow-probe-'));
  await Promise.all([
    ffmpeg(...testsrc('1280x720', 2), ...H264, '-movflags', '+faststart', file('clip.mp4')),
    ffmpeg(...testsrc('640x360', 1), ...H264, file('clip.mkv')),
    ffmpeg('-f', 'lavfi', '-i', 'sine=frequency=440:duration=1', '-c:a', 'aac', file('audio-only.m4a')),
  ]);
  // Stands in for an ffprobe that hangs.
  await writeFile(file('hanging-ffprobe'), '#!/bin/sh\nexec sleep 30\n');
  await chmod(file('hanging-ffprobe'), 0o755);
});

afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('createProbe (ffprobe)', () => {
  it('reads an MP4: size, frame, codec and duration', async () => {
    const facts = await probe(file('clip.mp4'));
    expect(facts).toMatchObject({ width: 1280, height: 720, codec: 'h264' });
    expect(facts.durationS).toBeCloseTo(2, 1);
    expect(facts.sizeBytes).toBeGreaterThan(0);
  });

  it('reads other containers the same way', async () => {
    const facts = await probe(file('clip.mkv'));
    expect(facts).toMatchObject({ width: 640, height: 360, codec: 'h264' });
    expect(facts.durationS).toBeCloseTo(1, 1);
  });

  it('rejects a file without a video stream as ValidationFailed', async () => {
    const err = await probe(file('audio-only.m4a')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClipflowError);
    expect((err as ClipflowError).type).toBe(FailureType.ValidationFailed);
    expect((err as ClipflowError).message).toContain('has no video stream');
  });

  it('rejects a missing file', async () => {
    await expect(probe(file('does-not-exist.mp4'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('kills an ffprobe run that outlasts its time limit and says so', async () => {
    const hanging = createProbe(file('hanging-ffprobe'), { timeoutMs: 300 });
    const began = Date.now();
    const err = await hanging(file('clip.mp4')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClipflowError);
    expect((err as ClipflowError).type).toBe('ValidationFailed');
    expect((err as ClipflowError).message).toBe(`ffprobe did not finish reading ${file('clip.mp4')} within 300 ms`);
    expect(Date.now() - began).toBeLessThan(10_000);
  });
});
