import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mediaBinaries } from '../src/media/binaries.js';
import { DEFAULT_MEDIA_LIMITS, MediaLimitError, runMedia } from '../src/media/run-media.js';
import { corruptPng, makeImage } from './support/images.js';

const media = mediaBinaries();
let scratch: string;
const file = (name: string) => path.join(scratch, name);

beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'clipflow-run-media-'));
  await writeFile(file('corrupt.png'), corruptPng());
  await makeImage(media.ffmpeg, file('large.jpg'), '4000x3000');
  // Stands in for an ffprobe that hangs (and, like ffmpeg mid-decode, shrugs off SIGTERM).
  await writeFile(file('hanging-ffprobe'), "#!/bin/sh\ntrap '' TERM\nsleep 30\n");
  await chmod(file('hanging-ffprobe'), 0o755);
});

afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

/** Awaits a rejection and returns it. */
async function failure(promise: Promise<unknown>): Promise<Error> {
  return promise.then(
    () => {
      throw new Error('expected the run to fail');
    },
    (err: unknown) => err as Error,
  );
}

describe('runMedia', () => {
  it("resolves with ffprobe's output", async () => {
    const { stdout } = await runMedia(
      media.ffprobe,
      ['-v', 'error', '-of', 'json', '-show_entries', 'format=format_name', file('corrupt.png')],
      {
        ...DEFAULT_MEDIA_LIMITS,
        timeoutMs: 10_000,
      },
    );
    expect(JSON.parse(stdout)).toEqual({ format: { format_name: 'png_pipe' } });
  });

  it('kills an ffmpeg that would run for ever at its time limit (SIGKILL: ffmpeg ignores SIGTERM mid-decode)', async () => {
    const began = Date.now();
    const err = await failure(
      runMedia(media.ffmpeg, ['-v', 'error', '-re', '-f', 'lavfi', '-i', 'nullsrc=s=64x64', '-f', 'null', '-'], {
        ...DEFAULT_MEDIA_LIMITS,
        timeoutMs: 500,
      }),
    );
    expect(err).toBeInstanceOf(MediaLimitError);
    expect(err).toMatchObject({ tool: 'ffmpeg', limit: 'time', message: 'ffmpeg was killed after running for 500 ms (its time limit)' });
    expect(Date.now() - began).toBeLessThan(5_000);
  });

  it('kills a hanging ffprobe that ignores SIGTERM at its time limit', async () => {
    const began = Date.now();
    const err = await failure(runMedia(file('hanging-ffprobe'), ['x.png'], { ...DEFAULT_MEDIA_LIMITS, timeoutMs: 300 }));
    expect(err).toMatchObject({ limit: 'time', message: 'hanging-ffprobe was killed after running for 300 ms (its time limit)' });
    expect(Date.now() - began).toBeLessThan(5_000);
  });

  it.runIf(process.platform === 'linux')(
    'kills the runaway render of a corrupt PNG (the 1.5 GB one) once it passes its memory limit',
    async () => {
      // The filter graph of the local provider before images were checked: the looped input never
      // yields a frame, the other input's frames queue up without end.
      const args = ['-v', 'error', '-loop', '1', '-framerate', '24', '-i', file('corrupt.png')];
      args.push('-f', 'lavfi', '-i', 'life=s=160x90:r=24', '-filter_complex', '[0:v]scale=1280:720[bg];[bg][1:v]overlay[out]');
      args.push('-map', '[out]', '-t', '5', '-f', 'null', '-');
      const began = Date.now();
      const err = await failure(runMedia(media.ffmpeg, args, { ...DEFAULT_MEDIA_LIMITS, timeoutMs: 60_000, maxRssBytes: 200 * 1024 ** 2 }));
      expect(err).toBeInstanceOf(MediaLimitError);
      expect(err).toMatchObject({ limit: 'memory' });
      expect(err.message).toMatch(/^ffmpeg was killed using \d+ MiB of memory, over its limit of 200 MiB$/);
      expect(Date.now() - began).toBeLessThan(30_000);
    },
  );

  it('kills the run when its signal aborts, rejecting with the reason', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('render cancelled')), 200);
    const began = Date.now();
    const err = await failure(
      runMedia(file('hanging-ffprobe'), [], { ...DEFAULT_MEDIA_LIMITS, timeoutMs: 60_000 }, { signal: controller.signal }),
    );
    expect(err.message).toBe('render cancelled');
    expect(Date.now() - began).toBeLessThan(5_000);
  });

  it("rejects a run that exits non-zero with ffmpeg's words", async () => {
    const err = await failure(runMedia(media.ffprobe, ['-v', 'error', file('missing.png')], DEFAULT_MEDIA_LIMITS));
    expect(err.message).toMatch(/^ffprobe exited with 1: .*missing\.png: No such file or directory$/);
  });

  it("caps every allocation with ffmpeg's -max_alloc", async () => {
    const decode = ['-v', 'error', '-i', file('large.jpg'), '-f', 'null', '-'];
    const err = await failure(runMedia(media.ffmpeg, decode, { ...DEFAULT_MEDIA_LIMITS, maxAllocBytes: 1024 ** 2 }));
    expect(err.message).toMatch(/^ffmpeg exited with \d+: .*get_buffer\(\) failed/s);
    // The same run under the default cap decodes it.
    await runMedia(media.ffmpeg, decode, DEFAULT_MEDIA_LIMITS);
  });
});
