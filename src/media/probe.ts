import { stat } from 'node:fs/promises';
import { ClipflowError, FailureType } from '../shared/failures.js';
import { DEFAULT_MEDIA_LIMITS, MediaLimitError, runMedia } from './run-media.js';

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

/** ffprobe reads a clip's header in well under a second; one that runs this long is killed. */
export const DEFAULT_PROBE_TIMEOUT_MS = 30_000;

/** Every clip fact comes from ffprobe: the first video stream and the container duration. */
export function createProbe(ffprobe: string, options: { timeoutMs?: number } = {}): Probe {
  const timeoutMs = options.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  return async function probe(file) {
    const { size } = await stat(file);
    const args = [
      '-v',
      'error',
      '-select_streams',
      'v:0',
      '-show_entries',
      'stream=width,height,codec_name:format=duration',
      '-of',
      'json',
      file,
    ];
    let stdout: string;
    try {
      ({ stdout } = await runMedia(ffprobe, args, { ...DEFAULT_MEDIA_LIMITS, timeoutMs }));
    } catch (err) {
      // Killed at its limit: an overloaded machine, or a file it cannot get through. A retry makes
      // (or reads) the clip again; the failure table says how.
      if (err instanceof MediaLimitError && err.limit === 'time') {
        throw new ClipflowError(FailureType.ValidationFailed, `ffprobe did not finish reading ${file} within ${timeoutMs} ms`);
      }
      if (err instanceof MediaLimitError || (err as NodeJS.ErrnoException).code) throw err;
      // ffprobe refused the file: whatever the provider sent, it is not a clip a retry cannot remake.
      throw new ClipflowError(FailureType.ValidationFailed, `${file} is not a readable video: ${unreadableReason((err as Error).message)}`);
    }
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

/** ffprobe's last complaint in words a person can act on (its raw line stays at the end). */
export function unreadableReason(ffprobeMessage: string): string {
  const said =
    ffprobeMessage
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .at(-1) ?? ffprobeMessage;
  const raw = said.replace(/^ffprobe exited with \S+: /, '').slice(0, 200);
  if (/moov atom not found/i.test(ffprobeMessage))
    return `the MP4 has no moov box (its index): the file is cut short or was never finished (ffprobe: ${raw})`;
  if (/Invalid data found when processing input/i.test(ffprobeMessage))
    return `ffprobe does not recognise it as a video file (ffprobe: ${raw})`;
  return `ffprobe could not read it (${raw})`;
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
