import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mediaBinaries } from '../src/media/binaries.js';
import {
  createImageDecoder,
  DEFAULT_IMAGE_DECODE_LIMITS,
  ImageContentError,
  imageFormat,
  type ImageFormat,
} from '../src/media/image-check.js';
import { corruptPng, makeImage } from './support/images.js';

const media = mediaBinaries();
const decode = createImageDecoder(media.ffprobe);

let scratch: string;
const file = (name: string) => path.join(scratch, name);

const FORMATS: [ImageFormat, string][] = [
  ['png', 'png'],
  ['jpeg', 'jpg'],
  ['gif', 'gif'],
  ['webp', 'webp'],
  ['bmp', 'bmp'],
];

beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'clipflow-image-check-'));
  await Promise.all(FORMATS.map(([, ext]) => makeImage(media.ffmpeg, file(`image.${ext}`), '64x48')));
  await makeImage(media.ffmpeg, file('large.png'), '2000x1000');
  await writeFile(file('corrupt.png'), corruptPng());
  await writeFile(file('hanging-ffprobe'), '#!/bin/sh\nexec sleep 30\n');
  await chmod(file('hanging-ffprobe'), 0o755);
});

afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

async function refusal(promise: Promise<unknown>): Promise<ImageContentError> {
  const err = await promise.then(
    () => {
      throw new Error('expected the image to be refused');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ImageContentError);
  return err as ImageContentError;
}

describe('imageFormat (file-type)', () => {
  it.each(FORMATS)('tells %s from its bytes', async (format, ext) => {
    expect(await imageFormat(await readFile(file(`image.${ext}`)))).toBe(format);
  });

  it.each([
    ['an empty body', Buffer.alloc(0), 'content is not an image: the body is empty'],
    ['HTML', Buffer.from('<!doctype html><html><body>hi</body></html>'), 'its first bytes match no known file type'],
    ['a PDF', Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n', 'latin1'), 'it is application/pdf'],
    // A PNG signature followed by filler: the chunk structure file-type reads is not there.
    ['a PNG signature and filler', Buffer.concat([corruptPng().subarray(0, 8), Buffer.alloc(92, 7)]), 'match no known file type'],
  ])('refuses %s, saying what it is', async (_name, bytes, words) => {
    const err = await refusal(imageFormat(bytes));
    expect(err.message).toContain(words);
  });
});

describe('createImageDecoder (ffprobe)', () => {
  it.each(FORMATS)('decodes a real %s and reports its size', async (format, ext) => {
    expect(await decode(file(`image.${ext}`), format)).toEqual({ width: 64, height: 48 });
  });

  it('refuses the 100-byte PNG whose structure file-type accepts but which holds no image data, at once', async () => {
    expect(await imageFormat(corruptPng())).toBe('png'); // the bytes alone let it through
    const began = Date.now();
    const err = await refusal(decode(file('corrupt.png'), 'png'));
    expect(err.message).toBe('png data could not be decoded: inflate returned error -3');
    expect(Date.now() - began).toBeLessThan(5_000);
  });

  it('refuses a file whose bytes say one format but which decodes as another', async () => {
    const err = await refusal(decode(file('image.jpg'), 'png'));
    expect(err.message).toBe('its bytes say png but it decodes as mjpeg');
  });

  it('refuses an image over the pixel limit, naming its size', async () => {
    const small = createImageDecoder(media.ffprobe, { ...DEFAULT_IMAGE_DECODE_LIMITS, maxPixels: 1_000_000 });
    const err = await refusal(small(file('large.png'), 'png'));
    expect(err.message).toBe('2000x1000 is 2000000 pixels, over the limit of 1000000');
  });

  it('cannot be made to allocate a frame over its allocation cap (a decompression bomb)', async () => {
    const capped = createImageDecoder(media.ffprobe, { ...DEFAULT_IMAGE_DECODE_LIMITS, maxAllocBytes: 1024 ** 2 });
    const err = await refusal(capped(file('large.png'), 'png'));
    expect(err.message).toBe('png data could not be decoded: get_buffer() failed');
  });

  it('kills a hanging ffprobe at its time limit and refuses the image', async () => {
    const hanging = createImageDecoder(file('hanging-ffprobe'), { ...DEFAULT_IMAGE_DECODE_LIMITS, timeoutMs: 300 });
    const began = Date.now();
    const err = await refusal(hanging(file('image.png'), 'png'));
    expect(err.message).toBe('could not be decoded: hanging-ffprobe was killed after running for 300 ms (its time limit)');
    expect(Date.now() - began).toBeLessThan(5_000);
  });

  it('stops when the caller aborts, with the caller’s reason', async () => {
    const hanging = createImageDecoder(file('hanging-ffprobe'));
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('download cancelled')), 100);
    const err = await hanging(file('image.png'), 'png', controller.signal).catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(ImageContentError);
    expect((err as Error).message).toBe('download cancelled');
  });
});
