import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import { ClipflowError, FailureType } from '../shared/failures.js';
import { readMp4Facts } from './mp4-facts.js';

const run = promisify(execFile);

export interface VideoFacts {
  durationS: number;
  width: number;
  height: number;
  sizeBytes: number;
  codec: string;
}

export interface ClipRequirements {
  minSizeBytes: number;
  minDurationS: number;
  minShortSide: number;
}

export type Probe = (path: string) => Promise<VideoFacts>;

/**
 * Reads the facts in-process from the MP4 box structure (readMp4Facts) when it can, which
 * saves an ffprobe spawn per clip; anything it cannot parse goes to ffprobe.
 */
export function createProbe(ffprobe: string): Probe {
  const viaFfprobe = createFfprobeProbe(ffprobe);
  return async function probe(file) {
    return (await readMp4Facts(file)) ?? viaFfprobe(file);
  };
}

/** The ffprobe path alone: spawns ffprobe for the first video stream and the container duration. */
export function createFfprobeProbe(ffprobe: string): Probe {
  return async function ffprobeProbe(file) {
    const { size } = await stat(file);
    const { stdout } = await run(ffprobe, [
      '-v', 'error',
      '-select_streams', 'v:0',
      '-show_entries', 'stream=width,height,codec_name:format=duration',
      '-of', 'json',
      file,
    ]);
    const parsed = JSON.parse(stdout) as {
      streams?: { width?: number; height?: number; codec_name?: string }[];
      format?: { duration?: string };
    };
    const stream = parsed.streams?.[0];
    if (!stream?.width || !stream.height) {
      throw new ClipflowError(FailureType.ValidationFailed, `${file} has no video stream`);
    }
    return {
      durationS: Number(parsed.format?.duration ?? 0),
      width: stream.width,
      height: stream.height,
      sizeBytes: size,
      codec: stream.codec_name ?? 'unknown',
    };
  };
}

/** Throws ValidationFailed (retryable: a new generation may well pass) naming what fell short. */
export function checkClip(file: string, facts: VideoFacts, req: ClipRequirements): void {
  const problems: string[] = [];
  if (facts.sizeBytes < req.minSizeBytes) problems.push(`size ${facts.sizeBytes} B is under ${req.minSizeBytes} B`);
  if (!(facts.durationS >= req.minDurationS)) problems.push(`duration ${facts.durationS} s is under ${req.minDurationS} s`);
  const shortSide = Math.min(facts.width, facts.height);
  if (shortSide < req.minShortSide) {
    problems.push(`short side ${shortSide} px (${facts.width}x${facts.height}) is under ${req.minShortSide} px`);
  }
  if (problems.length > 0) {
    throw new ClipflowError(FailureType.ValidationFailed, `clip ${file} failed validation: ${problems.join('; ')}`);
  }
}
