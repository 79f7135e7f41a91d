import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type ContentCheckResult, type ContentFinding, stretchDetail } from '../shared/content.js';
import { ClipflowError, FailureType } from '../shared/failures.js';
import { filterValue } from './filter-value.js';
import { DEFAULT_MEDIA_LIMITS, MediaLimitError, runMedia } from './run-media.js';

/** What a clip's content must be to pass; per environment (src/config/content-checks.ts). */
export interface ContentCheckSettings {
  /** A black stretch at least this long fails the clip. */
  blackMinS: number;
  /** A pixel is black at or below this luma (0–255; blackframe's threshold). */
  blackPixelMax: number;
  /** A frame is black when at least this share of its pixels is (0–1). */
  blackRatio: number;
  /** A frozen stretch at least this long fails the clip. */
  freezeMinS: number;
  /** Frames closer than this (freezedetect's noise, in dB) count as the same picture. */
  freezeNoiseDb: number;
  /** More decoder errors than this fail the clip. */
  maxDecodeErrors: number;
  /** The decode is killed after this long. */
  timeoutMs: number;
}

export type ContentCheck = (file: string, expectedDurationS: number) => Promise<ContentCheckResult>;

/**
 * Decodes the clip to its end once (ffmpeg -f null), counting decoder errors and comparing how far
 * it got with the container's duration, while blackframe and freezedetect look at every frame.
 * blackframe stands in for blackdetect: the bundled ffmpeg's blackdetect reports nothing of a black
 * stretch that runs to the end of the clip, and only on stderr; both filters' per-frame metadata
 * go to a file instead, so no finding is lost to a cut-off log.
 */
export function createContentCheck(ffmpeg: string, settings: ContentCheckSettings): ContentCheck {
  return async function checkContent(file, expectedDurationS) {
    const scratch = await mkdtemp(path.join(os.tmpdir(), 'clipflow-check-'));
    const metadataFile = path.join(scratch, 'frames.txt');
    const filters = [
      `blackframe=amount=${Math.round(settings.blackRatio * 100)}:threshold=${settings.blackPixelMax}`,
      `freezedetect=n=${settings.freezeNoiseDb}dB:d=${settings.freezeMinS}`,
      `metadata=mode=print:file=${filterValue(metadataFile)}`,
    ];
    const args = ['-nostdin', '-hide_banner', '-v', 'error', '-i', file, '-map', '0:v:0', '-vf', filters.join(','), '-f', 'null', '-'];
    try {
      const { stdout, stderr } = await runMedia(ffmpeg, [...args, '-progress', 'pipe:1'], {
        ...DEFAULT_MEDIA_LIMITS,
        timeoutMs: settings.timeoutMs,
      });
      const progress = lastProgress(stdout);
      const frames = parseFrameMetadata(await readFile(metadataFile, 'utf8').catch(() => ''));
      const errors = stderr.split('\n').filter((line) => line.trim());
      return judge({ ...progress, errors, frames, expectedDurationS }, settings);
    } catch (err) {
      if (err instanceof MediaLimitError && err.limit === 'time') {
        throw new ClipflowError(FailureType.ValidationFailed, `decoding did not finish within ${settings.timeoutMs} ms`);
      }
      if (err instanceof MediaLimitError) throw new ClipflowError(FailureType.ValidationFailed, `decoding stopped: ${err.message}`);
      throw new ClipflowError(FailureType.ValidationFailed, `cannot be decoded: ${lastLine((err as Error).message)}`);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  };
}

interface Decoded {
  decodedFrames: number;
  decodedS: number;
  errors: string[];
  frames: FrameMetadata[];
  expectedDurationS: number;
}

/** Turns what the decode saw into findings, each saying what and where. */
export function judge(d: Decoded, settings: ContentCheckSettings): ContentCheckResult {
  const findings: ContentFinding[] = [];
  // Timestamps of a clip's last frames round; a clip that decodes this close to its end is whole.
  const tolerance = Math.max(0.25, d.expectedDurationS * 0.05);
  if (d.decodedS < d.expectedDurationS - tolerance) {
    findings.push({
      kind: 'truncated',
      startS: d.decodedS,
      endS: d.expectedDurationS,
      detail: `decoding stopped at ${d.decodedS.toFixed(2)} s of ${d.expectedDurationS.toFixed(2)} s (${d.decodedFrames} frames decoded)`,
    });
  }
  if (d.errors.length > settings.maxDecodeErrors) {
    findings.push({
      kind: 'decode-errors',
      detail: `${d.errors.length} decoder error${d.errors.length === 1 ? '' : 's'} (first: ${d.errors[0]?.trim().slice(0, 160)})`,
    });
  }
  const frameS = d.decodedFrames > 0 ? d.decodedS / d.decodedFrames : 0;
  const black = blackStretches(d.frames, frameS).filter(([startS, endS]) => endS - startS >= settings.blackMinS - frameS / 2);
  for (const [startS, endS] of black) findings.push({ kind: 'black', startS, endS, detail: stretchDetail('black', startS, endS) });
  // A black picture is a still one too: a freeze inside a black stretch is the same finding.
  const insideBlack = ([startS, endS]: [number, number]) => black.some(([b0, b1]) => startS >= b0 - frameS && endS <= b1 + frameS);
  for (const [startS, endS] of frozenStretches(d.frames, d.decodedS).filter((f) => !insideBlack(f))) {
    findings.push({ kind: 'frozen', startS, endS, detail: stretchDetail('frozen', startS, endS) });
  }
  return { decodedFrames: d.decodedFrames, decodedS: d.decodedS, decodeErrors: d.errors.length, findings };
}

export interface FrameMetadata {
  frame: number;
  timeS: number;
  values: Record<string, string>;
}

/** The metadata filter's file: a `frame:N pts:P pts_time:T` line, then `key=value` lines, per frame that has any. */
export function parseFrameMetadata(text: string): FrameMetadata[] {
  const frames: FrameMetadata[] = [];
  for (const line of text.split('\n')) {
    const head = /^frame:(\d+)\s+pts:\S+\s+pts_time:(\S+)/.exec(line);
    if (head) {
      frames.push({ frame: Number(head[1]), timeS: Number(head[2]), values: {} });
      continue;
    }
    const kv = /^([\w.]+)=(.*)$/.exec(line.trim());
    const current = frames.at(-1);
    if (kv && current) current.values[kv[1]!] = kv[2]!;
  }
  return frames;
}

/** Runs of consecutive frames blackframe marked, each as [start, end) in seconds. */
function blackStretches(frames: FrameMetadata[], frameS: number): [number, number][] {
  const stretches: [number, number][] = [];
  let run: { first: FrameMetadata; last: FrameMetadata } | undefined;
  const close = () => run && stretches.push([run.first.timeS, run.last.timeS + frameS]);
  for (const f of frames.filter((f) => 'lavfi.blackframe.pblack' in f.values)) {
    if (run && f.frame === run.last.frame + 1) run.last = f;
    else {
      close();
      run = { first: f, last: f };
    }
  }
  close();
  return stretches;
}

/** freezedetect's stretches; one still frozen when the clip ends runs to its end. */
function frozenStretches(frames: FrameMetadata[], endOfClipS: number): [number, number][] {
  const stretches: [number, number][] = [];
  let start: number | undefined;
  for (const f of frames) {
    const began = f.values['lavfi.freezedetect.freeze_start'];
    const ended = f.values['lavfi.freezedetect.freeze_end'];
    if (began !== undefined && start === undefined) start = Number(began);
    if (ended !== undefined && start !== undefined) {
      stretches.push([start, Number(ended)]);
      start = undefined;
    }
  }
  if (start !== undefined) stretches.push([start, endOfClipS]);
  return stretches;
}

/** The last block of `-progress` output: frames decoded and how far in time. */
function lastProgress(stdout: string): { decodedFrames: number; decodedS: number } {
  const frame = [...stdout.matchAll(/^frame=(\d+)/gm)].at(-1)?.[1];
  const time = [...stdout.matchAll(/^out_time=(\d+):(\d+):([\d.]+)/gm)].at(-1);
  const decodedS = time ? Number(time[1]) * 3600 + Number(time[2]) * 60 + Number(time[3]) : 0;
  return { decodedFrames: Number(frame ?? 0), decodedS };
}

function lastLine(message: string): string {
  return (
    message
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .at(-1) ?? message
  ).slice(0, 300);
}
