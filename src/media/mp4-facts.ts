import { open, type FileHandle } from 'node:fs/promises';
import type { VideoFacts } from './probe.js';

/**
 * Reads the facts validation needs (duration, first video track's size and codec, file size)
 * straight from an MP4's ISO-BMFF box structure, without spawning ffprobe.
 *
 * Only the top-level box headers are read (positional reads), then the `moov` box, wherever it
 * sits (start for faststart files, end otherwise). Returns undefined — never throws — whenever it
 * cannot give a trustworthy answer, so that the caller falls back to ffprobe: not an MP4, a
 * truncated file or a top-level box running past the end of the file, a fragmented MP4 (`mvex`),
 * no or zero duration, no video track, no usable dimensions.
 */
export async function readMp4Facts(file: string): Promise<VideoFacts | undefined> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(file, 'r');
    const { size } = await handle.stat();
    const moov = await readMoov(handle, size);
    if (!moov) return undefined;
    const facts = parseMoov(moov);
    return facts && { ...facts, sizeBytes: size };
  } catch {
    return undefined;
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/** moov is metadata only (sample tables); even hours of video stay far below this. */
const MAX_MOOV_BYTES = 64 * 1024 * 1024;
const MAX_TOP_LEVEL_BOXES = 4096;
/** Top-level box types an MP4 starts with; anything else is not an ISO-BMFF file we handle. */
const FIRST_BOX_TYPES = new Set(['ftyp', 'styp', 'moov', 'free', 'skip', 'wide', 'mdat', 'pdin']);

/**
 * Walks the top-level boxes by their headers and returns the moov payload. Every top-level box
 * must fit inside the file and the boxes must tile it exactly: anything else (truncated
 * download, trailing garbage, not an MP4) gives undefined.
 */
async function readMoov(handle: FileHandle, fileSize: number): Promise<Buffer | undefined> {
  const header = Buffer.alloc(16);
  let position = 0;
  let moov: Buffer | undefined;
  for (let index = 0; position < fileSize; index++) {
    if (index >= MAX_TOP_LEVEL_BOXES) return undefined;
    const { bytesRead } = await handle.read(header, 0, 16, position);
    if (bytesRead < 8) return undefined;
    const type = header.toString('latin1', 4, 8);
    if (index === 0 && !FIRST_BOX_TYPES.has(type)) return undefined;
    if (!/^[\x20-\x7e]{4}$/.test(type)) return undefined;
    let boxSize = header.readUInt32BE(0);
    let headerSize = 8;
    if (boxSize === 1) {
      if (bytesRead < 16) return undefined;
      const large = header.readBigUInt64BE(8);
      if (large > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
      boxSize = Number(large);
      headerSize = 16;
    } else if (boxSize === 0) {
      boxSize = fileSize - position; // extends to the end of the file
    }
    if (boxSize < headerSize || position + boxSize > fileSize) return undefined;
    if (type === 'moov') {
      if (moov) return undefined; // two moov boxes: leave it to ffprobe
      const length = boxSize - headerSize;
      if (length > MAX_MOOV_BYTES) return undefined;
      moov = Buffer.alloc(length);
      const read = await handle.read(moov, 0, length, position + headerSize);
      if (read.bytesRead !== length) return undefined;
    }
    position += boxSize;
  }
  return moov;
}

interface Box {
  type: string;
  /** Payload start and end (exclusive) in the buffer. */
  start: number;
  end: number;
}

class ParseError extends Error {}

/** The child boxes of the region [start, end) of buf. Throws ParseError on malformed sizes. */
function children(buf: Buffer, start: number, end: number): Box[] {
  const boxes: Box[] = [];
  let position = start;
  while (position < end) {
    if (end - position < 8) throw new ParseError('box header past its parent');
    let size = buf.readUInt32BE(position);
    const type = buf.toString('latin1', position + 4, position + 8);
    let headerSize = 8;
    if (size === 1) {
      if (end - position < 16) throw new ParseError('largesize header past its parent');
      const large = buf.readBigUInt64BE(position + 8);
      if (large > BigInt(end - position)) throw new ParseError('box past its parent');
      size = Number(large);
      headerSize = 16;
    } else if (size === 0) {
      size = end - position;
    }
    if (size < headerSize || position + size > end) throw new ParseError('box past its parent');
    boxes.push({ type, start: position + headerSize, end: position + size });
    position += size;
  }
  return boxes;
}

function child(buf: Buffer, parent: Box, type: string): Box | undefined {
  return children(buf, parent.start, parent.end).find((box) => box.type === type);
}

/** Follows a path of box types, taking the first match at each level. */
function descend(buf: Buffer, parent: Box, ...path: string[]): Box | undefined {
  let current: Box | undefined = parent;
  for (const type of path) {
    if (!current) return undefined;
    current = child(buf, current, type);
  }
  return current;
}

function need(box: Box, bytes: number): void {
  if (box.end - box.start < bytes) throw new ParseError(`${box.type} too short`);
}

/** Reads a 64-bit unsigned field as a number; undefined when it is not exactly representable. */
function readUInt64(buf: Buffer, offset: number): number | undefined {
  const value = buf.readBigUInt64BE(offset);
  return value > BigInt(Number.MAX_SAFE_INTEGER) ? undefined : Number(value);
}

/** mvhd: timescale and duration (in that timescale); version 0 has 32-bit times, version 1 64-bit. */
function readMvhd(buf: Buffer, box: Box): { timescale: number; duration: number | undefined } {
  const version = buf.readUInt8(box.start);
  if (version === 1) {
    need(box, 32);
    return { timescale: buf.readUInt32BE(box.start + 20), duration: readUInt64(buf, box.start + 24) };
  }
  need(box, 20);
  const duration = buf.readUInt32BE(box.start + 16);
  return { timescale: buf.readUInt32BE(box.start + 12), duration: duration === 0xffffffff ? undefined : duration };
}

/**
 * Total presentation length of an edit list, in the movie timescale: the sum of its segment
 * durations (empty edits included, they delay the track). Undefined when the track has none.
 */
function editListDuration(buf: Buffer, trak: Box): number | undefined {
  const elst = descend(buf, trak, 'edts', 'elst');
  if (!elst) return undefined;
  need(elst, 8);
  const version = buf.readUInt8(elst.start);
  const count = buf.readUInt32BE(elst.start + 4);
  const entrySize = version === 1 ? 20 : 12;
  need(elst, 8 + count * entrySize);
  let total = 0;
  for (let i = 0; i < count; i++) {
    const at = elst.start + 8 + i * entrySize;
    const segment = version === 1 ? readUInt64(buf, at) : buf.readUInt32BE(at);
    if (segment === undefined) return undefined;
    total += segment;
  }
  return total;
}

/** tkhd width/height: 16.16 fixed point after the matrix; version 1 has 64-bit times. */
function readTkhdSize(buf: Buffer, box: Box): { width: number; height: number } {
  const at = box.start + (buf.readUInt8(box.start) === 1 ? 88 : 76);
  need(box, at - box.start + 8);
  return { width: buf.readUInt32BE(at) >>> 16, height: buf.readUInt32BE(at + 4) >>> 16 };
}

/**
 * The first sample entry of stsd: its 4cc, and for a visual sample entry the 16-bit width and
 * height, 24 and 26 bytes after the entry's 8-byte header (6 reserved, data_reference_index,
 * pre_defined, reserved, 3 × pre_defined).
 */
function readSampleEntry(buf: Buffer, stsd: Box): { format: string; width: number; height: number } | undefined {
  need(stsd, 8);
  if (buf.readUInt32BE(stsd.start + 4) < 1) return undefined;
  const [entry] = children(buf, stsd.start + 8, stsd.end);
  if (!entry) return undefined;
  const visual = entry.end - entry.start >= 28;
  return {
    format: entry.type,
    width: visual ? buf.readUInt16BE(entry.start + 24) : 0,
    height: visual ? buf.readUInt16BE(entry.start + 26) : 0,
  };
}

/** Sample-entry 4cc → the codec name ffprobe reports. */
const CODECS: Record<string, string> = {
  avc1: 'h264',
  avc3: 'h264',
  hvc1: 'hevc',
  hev1: 'hevc',
  av01: 'av1',
  vp09: 'vp9',
};

function parseMoov(buf: Buffer): Omit<VideoFacts, 'sizeBytes'> | undefined {
  try {
    const moov: Box = { type: 'moov', start: 0, end: buf.length };
    const boxes = children(buf, moov.start, moov.end);
    // Fragmented: samples (and duration) live in moof boxes that mvhd does not cover.
    if (boxes.some((box) => box.type === 'mvex')) return undefined;
    const mvhdBox = boxes.find((box) => box.type === 'mvhd');
    if (!mvhdBox) return undefined;
    const mvhd = readMvhd(buf, mvhdBox);
    if (!mvhd.timescale || !mvhd.duration) return undefined;

    const traks = boxes.filter((box) => box.type === 'trak');
    let video: { codec: string; width: number; height: number } | undefined;
    const edited: number[] = [];
    for (const trak of traks) {
      const edits = editListDuration(buf, trak);
      if (edits !== undefined) edited.push(edits);
      if (video) continue;
      const hdlr = descend(buf, trak, 'mdia', 'hdlr');
      if (!hdlr) continue;
      need(hdlr, 12);
      if (buf.toString('latin1', hdlr.start + 8, hdlr.start + 12) !== 'vide') continue;
      const stsd = descend(buf, trak, 'mdia', 'minf', 'stbl', 'stsd');
      const entry = stsd && readSampleEntry(buf, stsd);
      if (!entry) return undefined;
      let { width, height } = entry;
      if (!width || !height) {
        const tkhd = descend(buf, trak, 'tkhd');
        if (tkhd) ({ width, height } = readTkhdSize(buf, tkhd));
      }
      if (!width || !height) return undefined;
      video = { codec: CODECS[entry.format] ?? entry.format, width, height };
    }
    if (!video) return undefined;

    // mvhd covers every track's full media, which some muxers (older ffmpeg with AAC) make longer
    // than what is presented; when every track has an edit list, its presented length is what
    // ffprobe and players report.
    let duration = mvhd.duration;
    if (edited.length > 0 && edited.length === traks.length) {
      const presented = Math.max(...edited);
      if (presented > 0) duration = Math.min(duration, presented);
    }
    return { durationS: duration / mvhd.timescale, ...video };
  } catch {
    return undefined;
  }
}
