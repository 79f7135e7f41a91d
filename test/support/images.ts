import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import zlib from 'node:zlib';

const run = promisify(execFile);

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(body));
  return Buffer.concat([length, body, crc]);
}

/**
 * 100 bytes that start like a 640x480 PNG (signature, a valid IHDR, an IDAT chunk with correct
 * length and CRC) but hold no deflate stream: by its bytes a PNG, by a decoder nothing.
 */
export function corruptPng(): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(640, 0);
  header.writeUInt32BE(480, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // truecolour
  const start = Buffer.concat([PNG_SIGNATURE, pngChunk('IHDR', header)]);
  return Buffer.concat([start, pngChunk('IDAT', Buffer.alloc(100 - start.length - 12, 0x5a))]);
}

/** A real image from ffmpeg's test pattern; the file's extension picks the format. */
export async function makeImage(ffmpeg: string, file: string, size = '8x8'): Promise<void> {
  await run(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc=size=${size}`, '-frames:v', '1', file]);
}
