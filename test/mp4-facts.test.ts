import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mediaBinaries } from '../src/media/binaries.js';
import { readMp4Facts } from '../src/media/mp4-facts.js';
import { createFfprobeProbe, createProbe, type VideoFacts } from '../src/media/probe.js';
import { ClipflowError, FailureType } from '../src/shared/failures.js';

const run = promisify(execFile);
const media = mediaBinaries();
const ffprobeOnly = createFfprobeProbe(media.ffprobe);
const probe = createProbe(media.ffprobe);

const encoders = (await run(media.ffmpeg, ['-hide_banner', '-encoders'])).stdout;
const hasX265 = /\blibx265\b/.test(encoders);

let scratch: string;
const file = (name: string) => path.join(scratch, name);

async function ffmpeg(...args: string[]): Promise<void> {
  await run(media.ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', ...args]);
}

function testsrc(size: string, seconds: number, rate = 24): string[] {
  return ['-f', 'lavfi', '-i', `testsrc=size=${size}:rate=${rate}`, '-t', String(seconds)];
}

const H264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'];
const HEVC = ['-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'log-level=error', '-pix_fmt', 'yuv420p'];

/** Top-level boxes of an MP4 held in memory (32-bit sizes only, which is what ffmpeg writes here). */
function topLevelBoxes(buf: Buffer): { type: string; at: number; size: number }[] {
  const boxes: { type: string; at: number; size: number }[] = [];
  for (let at = 0; at < buf.length; ) {
    const size = buf.readUInt32BE(at);
    boxes.push({ type: buf.toString('latin1', at + 4, at + 8), at, size });
    if (size < 8) throw new Error(`unexpected box size ${size} at ${at}`);
    at += size;
  }
  return boxes;
}

beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'clipflow-mp4-facts-'));
  await Promise.all([
    ffmpeg(...testsrc('1280x720', 2), ...H264, '-movflags', '+faststart', file('faststart.mp4')),
    ffmpeg(...testsrc('720x1280', 1.5, 30), ...H264, file('moov-at-end.mp4')),
    ffmpeg(...testsrc('320x240', 0.5), ...H264, file('small.mp4')),
    ffmpeg(
      '-f', 'lavfi', '-i', 'sine=frequency=440:duration=1.2',
      ...testsrc('640x480', 1.2, 25),
      '-map', '0:a', '-map', '1:v', '-c:a', 'aac', ...H264,
      file('audio-first.mp4'),
    ),
    ffmpeg(...testsrc('640x360', 1), ...H264, '-movflags', 'frag_keyframe+empty_moov', file('fragmented.mp4')),
    ffmpeg(...testsrc('640x360', 1), ...H264, file('matroska.mkv')),
    ffmpeg(...testsrc('640x360', 1), '-frames:v', '1', file('image.png')),
    ffmpeg('-f', 'lavfi', '-i', 'sine=frequency=440:duration=1', '-c:a', 'aac', file('audio-only.m4a')),
    ...(hasX265
      ? [
          ffmpeg(...testsrc('640x360', 1), ...HEVC, file('hevc-hev1.mp4')),
          ffmpeg(...testsrc('640x360', 1), ...HEVC, '-tag:v', 'hvc1', '-movflags', '+faststart', file('hevc-hvc1.mp4')),
        ]
      : []),
  ]);
  await writeFile(file('random.bin'), randomBytes(64 * 1024));

  // Truncated downloads: the first 1000 bytes of a moov-at-end file (no moov at all), and a
  // faststart file cut in the middle of its mdat (moov complete, media data missing).
  const atEnd = await readFile(file('moov-at-end.mp4'));
  await writeFile(file('truncated-head.mp4'), atEnd.subarray(0, 1000));
  const faststart = await readFile(file('faststart.mp4'));
  await writeFile(file('truncated-mdat.mp4'), faststart.subarray(0, faststart.length - 5000));

  // A 64-bit largesize mdat: ffmpeg leaves an 8-byte 'free' box before mdat for exactly this;
  // folding it into the mdat header keeps every sample offset where it was.
  const boxes = topLevelBoxes(atEnd);
  expect(boxes.map((b) => b.type)).toEqual(['ftyp', 'free', 'mdat', 'moov']);
  const [, free, mdat] = boxes as [unknown, { at: number; size: number }, { at: number; size: number }];
  expect(free.size).toBe(8);
  const large = Buffer.from(atEnd);
  large.writeUInt32BE(1, free.at);
  large.write('mdat', free.at + 4, 'latin1');
  large.writeBigUInt64BE(BigInt(mdat.size + 8), free.at + 8);
  await writeFile(file('largesize.mp4'), large);

  // Size 0 ("to the end of the file") on the last box: mdat in a faststart file.
  const fastBoxes = topLevelBoxes(faststart);
  expect(fastBoxes.map((b) => b.type)).toEqual(['ftyp', 'moov', 'free', 'mdat']);
  const toEnd = Buffer.from(faststart);
  toEnd.writeUInt32BE(0, fastBoxes[3]!.at);
  await writeFile(file('size-zero.mp4'), toEnd);
});

afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

function expectSameFacts(actual: VideoFacts | undefined, reference: VideoFacts): void {
  expect(actual).toBeDefined();
  const { durationS, ...rest } = actual!;
  const { durationS: referenceDurationS, ...referenceRest } = reference;
  expect(rest).toEqual(referenceRest);
  expect(Math.abs(durationS - referenceDurationS)).toBeLessThanOrEqual(0.05);
}

describe('readMp4Facts agrees with ffprobe', () => {
  const cases: { name: string; expected: Omit<VideoFacts, 'sizeBytes'>; skip?: boolean }[] = [
    { name: 'faststart.mp4', expected: { width: 1280, height: 720, durationS: 2, codec: 'h264' } },
    { name: 'moov-at-end.mp4', expected: { width: 720, height: 1280, durationS: 1.5, codec: 'h264' } },
    { name: 'small.mp4', expected: { width: 320, height: 240, durationS: 0.5, codec: 'h264' } },
    { name: 'audio-first.mp4', expected: { width: 640, height: 480, durationS: 1.2, codec: 'h264' } },
    { name: 'largesize.mp4', expected: { width: 720, height: 1280, durationS: 1.5, codec: 'h264' } },
    { name: 'size-zero.mp4', expected: { width: 1280, height: 720, durationS: 2, codec: 'h264' } },
    { name: 'hevc-hev1.mp4', expected: { width: 640, height: 360, durationS: 1, codec: 'hevc' }, skip: !hasX265 },
    { name: 'hevc-hvc1.mp4', expected: { width: 640, height: 360, durationS: 1, codec: 'hevc' }, skip: !hasX265 },
  ];
  for (const { name, expected, skip } of cases) {
    it.skipIf(skip)(name, async () => {
      const reference = await ffprobeOnly(file(name));
      expect(reference).toMatchObject({ width: expected.width, height: expected.height, codec: expected.codec });
      expect(reference.durationS).toBeCloseTo(expected.durationS, 1);

      const facts = await readMp4Facts(file(name));
      expectSameFacts(facts, reference);
      // And the probe the worker uses answers the same (from the in-process path).
      expect(await probe(file(name))).toEqual(facts);
    });
  }

  it('reports the audio+video file by its presented length, as ffprobe does, not the primed AAC media length', async () => {
    const reference = await ffprobeOnly(file('audio-first.mp4'));
    const facts = await readMp4Facts(file('audio-first.mp4'));
    expect(facts?.durationS).toBeCloseTo(reference.durationS, 3);
  });
});

describe('readMp4Facts gives up (undefined) on what it cannot parse', () => {
  it.each([
    ['random bytes', 'random.bin'],
    ['a PNG', 'image.png'],
    ['a Matroska file', 'matroska.mkv'],
    ['a truncated MP4 (first 1000 bytes, moov at the end)', 'truncated-head.mp4'],
    ['a faststart MP4 cut inside its mdat', 'truncated-mdat.mp4'],
    ['a fragmented MP4', 'fragmented.mp4'],
    ['an MP4 without a video track', 'audio-only.m4a'],
    ['a missing file', 'does-not-exist.mp4'],
  ])('%s', async (_label, name) => {
    await expect(readMp4Facts(file(name))).resolves.toBeUndefined();
  });

  it('an empty file', async () => {
    await writeFile(file('empty.mp4'), '');
    await expect(readMp4Facts(file('empty.mp4'))).resolves.toBeUndefined();
  });
});

describe('createProbe falls back to ffprobe', () => {
  it.each(['matroska.mkv', 'fragmented.mp4'])('answers for %s', async (name) => {
    const facts = await probe(file(name));
    expect(facts).toEqual(await ffprobeOnly(file(name)));
    expect(facts).toMatchObject({ width: 640, height: 360, codec: 'h264' });
    expect(facts.durationS).toBeCloseTo(1, 1);
  });

  it('still rejects a file without a video stream as ValidationFailed', async () => {
    const err = await probe(file('audio-only.m4a')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ClipflowError);
    expect((err as ClipflowError).type).toBe(FailureType.ValidationFailed);
    expect((err as ClipflowError).message).toContain('has no video stream');
  });

  it('still rejects a missing file', async () => {
    await expect(probe(file('does-not-exist.mp4'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
