import { fileTypeFromBuffer } from 'file-type';
import { DEFAULT_MEDIA_LIMITS, MediaLimitError, runMedia, type MediaLimits } from './run-media.js';

/**
 * Whether a file a user pointed at is an image clipflow can use, judged by its content: its bytes
 * (file-type) say which format it is, then ffprobe decodes its first frame within limits. An image
 * that passes both renders; one that fails would make ffmpeg spin later, on every attempt.
 */

export type ImageFormat = 'png' | 'jpeg' | 'gif' | 'webp' | 'bmp';

/** file-type's own sample size: enough of the start of a file to tell every format it knows. */
export const SNIFF_BYTES = 4100;

const FORMATS: Readonly<Record<string, ImageFormat>> = {
  'image/png': 'png',
  'image/apng': 'png',
  'image/jpeg': 'jpeg',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'image/bmp': 'bmp',
};

/** The codec ffprobe must find for each format: a file that decodes as something else is refused. */
const CODECS: Readonly<Record<ImageFormat, readonly string[]>> = {
  png: ['png', 'apng'],
  jpeg: ['mjpeg'],
  gif: ['gif'],
  webp: ['webp'],
  bmp: ['bmp'],
};

const ACCEPTED = 'PNG, JPEG, GIF, WEBP, BMP';

/** A file's content is not a usable image; the message says why. */
export class ImageContentError extends Error {
  override readonly name = 'ImageContentError';
}

/** The format of an image from its first bytes (up to SNIFF_BYTES); throws ImageContentError otherwise. */
export async function imageFormat(head: Uint8Array): Promise<ImageFormat> {
  if (head.length === 0) throw new ImageContentError('content is not an image: the body is empty');
  const type = await fileTypeFromBuffer(head);
  const format = type ? FORMATS[type.mime] : undefined;
  if (format) return format;
  const what = type ? `it is ${type.mime}` : 'its first bytes match no known file type';
  throw new ImageContentError(`content is not an image clipflow accepts (${ACCEPTED}): ${what}`);
}

export interface ImageDecodeLimits extends MediaLimits {
  /** Width times height above which an image is refused (its frames would crowd a render). */
  maxPixels: number;
}

export const DEFAULT_IMAGE_DECODE_LIMITS: ImageDecodeLimits = {
  // A 50-megapixel JPEG decodes in about a second; a file that takes this long is not one to render.
  timeoutMs: 10_000,
  maxRssBytes: 1024 ** 3,
  maxAllocBytes: DEFAULT_MEDIA_LIMITS.maxAllocBytes,
  maxPixels: 50_000_000,
};

export interface DecodedImage {
  width: number;
  height: number;
}

/** Decodes an image's first frame; throws ImageContentError when it cannot within the limits. */
export type ImageDecoder = (file: string, format: ImageFormat, signal?: AbortSignal) => Promise<DecodedImage>;

export function createImageDecoder(ffprobe: string, limits: ImageDecodeLimits = DEFAULT_IMAGE_DECODE_LIMITS): ImageDecoder {
  return async function decodeImage(file, format, signal) {
    // -show_entries frame=... decodes (stream=... alone would only read the header); one frame is enough.
    const args = ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name:frame=width,height'];
    args.push('-read_intervals', '%+#1', '-of', 'json', file);
    let stdout: string;
    let stderr: string;
    try {
      ({ stdout, stderr } = await runMedia(ffprobe, args, limits, signal ? { signal } : {}));
    } catch (err) {
      if (err instanceof MediaLimitError) throw new ImageContentError(`could not be decoded: ${err.message}`);
      throw signal?.aborted ? err : new ImageContentError(`could not be decoded: ${(err as Error).message}`);
    }
    const parsed = JSON.parse(stdout) as { streams?: { codec_name?: string }[]; frames?: { width?: number; height?: number }[] };
    const codec = parsed.streams?.[0]?.codec_name;
    if (!codec || !CODECS[format].includes(codec)) {
      throw new ImageContentError(`its bytes say ${format} but it decodes as ${codec ?? 'nothing'}`);
    }
    const frame = parsed.frames?.[0];
    if (!frame?.width || !frame.height) {
      const why = firstLine(stderr);
      throw new ImageContentError(`${format} data could not be decoded${why ? `: ${why}` : ''}`);
    }
    if (frame.width * frame.height > limits.maxPixels) {
      throw new ImageContentError(
        `${frame.width}x${frame.height} is ${frame.width * frame.height} pixels, over the limit of ${limits.maxPixels}`,
      );
    }
    return { width: frame.width, height: frame.height };
  };
}

/** ffmpeg's first complaint, without its "[png @ 0x...]" prefix. */
function firstLine(stderr: string): string {
  const line = stderr.split('\n').find((l) => l.trim()) ?? '';
  return line
    .replace(/^\[[^\]]*\]\s*/, '')
    .trim()
    .slice(0, 200);
}
