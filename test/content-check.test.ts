import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/index.js';
import { mediaBinaries } from '../src/media/binaries.js';
import { createContentCheck } from '../src/media/content-check.js';
import { createProbe } from '../src/media/probe.js';
import { parseFaultPlan } from '../src/providers/faults.js';
import { createLocalProvider } from '../src/providers/local.js';
import { ClipflowError, FailureType } from '../src/shared/failures.js';
import { rejection } from './support/fakes.js';

const run = promisify(execFile);
const media = mediaBinaries();
const probe = createProbe(media.ffprobe);
const settings = loadConfig({ CLIPFLOW_ENV: 'development' }).contentChecks;
const check = createContentCheck(media.ffmpeg, settings);

let scratch: string;
const file = (name: string) => path.join(scratch, name);

/** Renders clip 0 with the local provider as the worker would, with `fault` injected. */
async function render(name: string, fault: string, durationS = 3): Promise<string> {
  const provider = createLocalProvider({ ffmpeg: media.ffmpeg, faults: parseFaultPlan(fault), workDir: file(`render-${name}`) });
  const request = { jobId: 'check', clipIndex: 0, attempt: 1, model: 'clipflow/local-ffmpeg', prompt: `content check: ${name}` };
  const started = await provider.start({ ...request, durationS, aspectRatio: '16:9', width: 1280, height: 720, fps: 24, deadlineS: 120 });
  let current = started;
  while (!['succeeded', 'failed'].includes(current.status)) {
    await sleep(50);
    current = await provider.get(started.id);
  }
  expect(current.status).toBe('succeeded');
  await provider.saveOutput(current, file(`${name}.mp4`), 1e9);
  return file(`${name}.mp4`);
}

let good: string;
let black: string;
let frozen: string;

beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'clipflow-content-'));
  [good, black, frozen] = await Promise.all([render('good', ''), render('black', '0:black'), render('frozen', '0:frozen')]);
  // The same clip with its index (moov) at the end, as an encoder writes it before faststart.
  await run(media.ffmpeg, ['-hide_banner', '-v', 'error', '-y', '-i', good, '-c', 'copy', file('moov-last.mp4')]);
});

afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('createContentCheck', () => {
  it('passes a clip rendered by the local provider, decoded to its end', async () => {
    const facts = await probe(good);
    const result = await check(good, facts.durationS);
    expect(result.findings).toEqual([]);
    expect(result.decodeErrors).toBe(0);
    expect(result.decodedFrames).toBe(72);
    expect(result.decodedS).toBeCloseTo(3, 1);
  });

  it('finds a black stretch and says where it is', async () => {
    // The fault blacks the picture out from a third of the way in: 1 s to 3 s.
    expect((await probe(black)).sizeBytes).toBeGreaterThan(100_000);
    const result = await check(black, 3);
    expect(result.findings).toHaveLength(1);
    const [finding] = result.findings;
    expect(finding).toMatchObject({ kind: 'black' });
    expect(finding!.startS).toBeCloseTo(1, 1);
    expect(finding!.endS).toBeCloseTo(3, 1);
    expect(finding!.detail).toMatch(/^black from 1\.0\d s to 3\.0\d s \(2\.0\d s\)$/);
  });

  it('finds a frozen stretch running to the end of the clip', async () => {
    expect((await probe(frozen)).sizeBytes).toBeGreaterThan(100_000);
    const result = await check(frozen, 3);
    expect(result.findings.map((f) => f.kind)).toEqual(['frozen']);
    expect(result.findings[0]!.startS).toBeCloseTo(1, 1);
    expect(result.findings[0]!.endS).toBeCloseTo(3, 1);
    expect(result.findings[0]!.detail).toMatch(/^frozen from (0\.9|1\.0)\d s to 3\.00 s/);
  });

  it('lets a shorter stretch than the threshold pass', async () => {
    const lenient = createContentCheck(media.ffmpeg, { ...settings, blackMinS: 2.5, freezeMinS: 2.5 });
    expect((await lenient(black, 3)).findings).toEqual([]);
    expect((await lenient(frozen, 3)).findings).toEqual([]);
  });

  it('fails a truncated MP4 whose header is intact: it decodes only part of the way', async () => {
    const whole = await readFile(good);
    await writeFile(file('truncated.mp4'), whole.subarray(0, Math.floor(whole.length / 4)));
    // ffprobe reads the header alone and sees the whole clip.
    const facts = await probe(file('truncated.mp4'));
    expect(facts.durationS).toBeCloseTo(3, 1);
    const result = await check(file('truncated.mp4'), facts.durationS);
    const kinds = result.findings.map((f) => f.kind);
    expect(kinds).toContain('truncated');
    expect(result.decodedS).toBeLessThan(2);
    expect(result.findings.find((f) => f.kind === 'truncated')?.detail).toMatch(
      /^decoding stopped at \d\.\d\d s of 3\.00 s \(\d+ frames decoded\)$/,
    );
  });

  it('refuses a file with no moov box as ValidationFailed with a clear message', async () => {
    const whole = await readFile(file('moov-last.mp4'));
    const cut = whole.subarray(0, Math.floor(whole.length / 2));
    await writeFile(file('no-moov.mp4'), cut);
    expect(cut.includes('moov')).toBe(false);
    const err = await rejection(probe(file('no-moov.mp4')));
    expect(err).toBeInstanceOf(ClipflowError);
    expect((err as ClipflowError).type).toBe(FailureType.ValidationFailed);
    expect((err as ClipflowError).message).toMatch(/is not a readable video: the MP4 has no moov box \(its index\)/);
    const decode = await rejection(check(file('no-moov.mp4'), 3));
    expect(decode).toMatchObject({ type: FailureType.ValidationFailed });
    expect((decode as Error).message).toMatch(/^cannot be decoded: /);
  });

  it('kills a decode that outlasts its time limit', async () => {
    await writeFile(file('hanging-ffmpeg'), '#!/bin/sh\nexec sleep 30\n', { mode: 0o755 });
    const hanging = createContentCheck(file('hanging-ffmpeg'), { ...settings, timeoutMs: 300 });
    const began = Date.now();
    const err = await rejection(hanging(good, 3));
    expect(err).toMatchObject({ type: FailureType.ValidationFailed, message: 'decoding did not finish within 300 ms' });
    expect(Date.now() - began).toBeLessThan(10_000);
    expect((await stat(good)).size).toBeGreaterThan(0);
  });
});
