import { createHash, randomUUID } from 'node:crypto';
import { copyFile, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { filterValue } from '../media/filter-value.js';
import { findFont } from '../media/fonts.js';
import { DEFAULT_MEDIA_LIMITS, runMedia, type MediaLimits } from '../media/run-media.js';
import { ClipflowError, FailureType } from '../shared/failures.js';
import type { ContentFault, FaultPlan } from './faults.js';

export { filterValue };
import type { Prediction, PredictionRequest, VideoProvider } from './provider.js';

export interface LocalProviderOptions {
  ffmpeg: string;
  faults?: FaultPlan;
  /** Added to every render, to stand in for a real provider's latency. */
  delayMs?: number;
  workDir?: string;
  /** Bounds on each ffmpeg render; its time limit is the request's deadline unless this sets one. */
  limits?: Partial<MediaLimits>;
}

interface Render {
  prediction: Prediction;
  /** Resolves once the render has ended, however it ended. */
  ended: Promise<void>;
  file: string;
  /** Stops the render: its added delay or its ffmpeg. */
  stop: AbortController;
}

/** How much of the prompt the caption shows, in characters. */
const CAPTION_CHARS = 48;

/**
 * Offline provider: ffmpeg renders a real H.264 MP4 whose colours and motion follow from the
 * prompt (and pan over the reference image when there is one). It costs nothing and can inject
 * faults, so the whole pipeline runs without an API key.
 */
export function createLocalProvider(options: LocalProviderOptions): VideoProvider {
  const renders = new Map<string, Render>();
  const workDir = options.workDir ?? path.join(os.tmpdir(), 'clipflow-local');
  // A font for the prompt caption; without one the clip carries no text.
  const fontFile = findFont();

  /** Throws the fault's failure, or says how the render goes: extra delay, a picture fault. */
  function injectFault(request: PredictionRequest): { delayMs: number; picture?: ContentFault } {
    const fault = options.faults?.[request.clipIndex];
    if (!fault) return { delayMs: 0 };
    const where = `clip ${request.clipIndex}, attempt ${request.attempt}`;
    switch (fault.kind) {
      case 'transient':
        if (request.attempt <= fault.times) {
          throw new ClipflowError(FailureType.ProviderFailed, `injected transient failure (${where})`);
        }
        return { delayMs: 0 };
      case 'permanent':
        throw new ClipflowError(FailureType.ProviderFailed, `injected permanent failure (${where})`);
      case 'auth':
        throw new ClipflowError(FailureType.Auth, `injected authentication failure (${where})`);
      case 'content':
        throw new ClipflowError(FailureType.ContentRejected, `injected content rejection (${where})`);
      case 'slow':
        return { delayMs: fault.delayMs };
      case 'black':
      case 'frozen':
        return fault.times === undefined || request.attempt <= fault.times ? { delayMs: 0, picture: fault.kind } : { delayMs: 0 };
    }
  }

  async function render(entry: Omit<Render, 'ended'>, request: PredictionRequest, delayMs: number, picture?: ContentFault): Promise<void> {
    const started = Date.now();
    const { signal } = entry.stop;
    // The caption reaches ffmpeg only as the contents of a file: prompt text is never filter syntax.
    const textFile = fontFile ? `${entry.file.slice(0, -path.extname(entry.file).length)}.caption.txt` : undefined;
    try {
      if (delayMs > 0) await sleep(delayMs, undefined, { signal });
      await mkdir(workDir, { recursive: true });
      if (fontFile && textFile) await writeFile(textFile, captionText(request.prompt), { signal });
      const args = ffmpegArgs(request, entry.file, fontFile && textFile ? { fontFile, textFile } : undefined, picture);
      const deadlineMs = Number.isFinite(request.deadlineS) && request.deadlineS > 0 ? request.deadlineS * 1000 : undefined;
      const limits = { ...DEFAULT_MEDIA_LIMITS, ...(deadlineMs ? { timeoutMs: deadlineMs } : {}), ...options.limits };
      await runMedia(options.ffmpeg, args, limits, { signal });
      if (entry.prediction.status === 'canceled') return;
      entry.prediction = {
        ...entry.prediction,
        status: 'succeeded',
        output: entry.file,
        predictTimeS: (Date.now() - started) / 1000,
      };
    } catch (err) {
      if (entry.prediction.status === 'canceled') return;
      entry.prediction = { ...entry.prediction, status: 'failed', error: (err as Error).message };
      await rm(entry.file, { force: true });
    } finally {
      if (textFile) await rm(textFile, { force: true });
    }
  }

  return {
    name: 'local',
    async start(request) {
      const fault = injectFault(request);
      const id = randomUUID();
      const prediction: Prediction = { id, model: request.model, status: 'processing' };
      const entry = { prediction, file: path.join(workDir, `${id}.mp4`), stop: new AbortController() } as Render;
      entry.ended = render(entry, request, (options.delayMs ?? 0) + fault.delayMs, fault.picture);
      renders.set(id, entry);
      return prediction;
    },
    async get(id) {
      const entry = renders.get(id);
      if (!entry) {
        // This process never started it (a worker restarted): the caller starts a new one.
        throw new ClipflowError(FailureType.PredictionNotFound, `prediction ${id} is unknown to this worker`);
      }
      return entry.prediction;
    },
    async settled(id) {
      const entry = renders.get(id);
      if (!entry) throw new ClipflowError(FailureType.PredictionNotFound, `prediction ${id} is unknown to this worker`);
      await entry.ended;
      return entry.prediction;
    },
    async cancel(id) {
      const entry = renders.get(id);
      if (entry?.prediction.status !== 'processing') return;
      entry.prediction = { ...entry.prediction, status: 'canceled' };
      entry.stop.abort();
      await entry.ended;
      await rm(entry.file, { force: true });
    },
    async saveOutput(prediction, destination, maxBytes) {
      const entry = renders.get(prediction.id);
      if (!entry || !prediction.output) throw new Error(`local prediction ${prediction.id} has no output`);
      const { size } = await stat(prediction.output);
      if (size > maxBytes) throw new ClipflowError(FailureType.ValidationFailed, `output is ${size} B, over the cap of ${maxBytes} B`);
      await copyFile(prediction.output, destination);
      await rm(prediction.output, { force: true });
      renders.delete(prediction.id);
    },
  };
}

/** Picks colours, pattern and motion from the prompt so that different prompts look different. */
export function promptLook(prompt: string): { seed: number; base: string; life: string; death: string; rule: number } {
  const digest = createHash('sha256').update(prompt).digest();
  const hex = (offset: number) => `0x${digest.subarray(offset, offset + 3).toString('hex')}`;
  return {
    seed: digest.readUInt32BE(9) % 2_000_000_000,
    base: hex(0),
    life: hex(3),
    death: hex(6),
    rule: digest.readUInt8(13),
  };
}

/** What the caption file holds: the start of the prompt, cut between characters (not inside an emoji). */
export function captionText(prompt: string): string {
  return Array.from(prompt).slice(0, CAPTION_CHARS).join('');
}

/** The font and the file holding the caption's text, for drawtext. */
export interface Caption {
  fontFile: string;
  textFile: string;
}

export function ffmpegArgs(request: PredictionRequest, output: string, caption?: Caption, picture?: ContentFault): string[] {
  const { width, height, fps, durationS } = request;
  const look = promptLook(request.prompt);
  const frames = Math.max(1, Math.round(durationS * fps));
  const inputs: string[] = [];
  let background: string;
  if (request.imagePath) {
    // Slow zoom over the reference image.
    inputs.push('-loop', '1', '-framerate', String(fps), '-i', request.imagePath);
    background =
      `[0:v]scale=${width * 2}:${height * 2}:force_original_aspect_ratio=increase,crop=${width * 2}:${height * 2},` +
      `zoompan=z='min(zoom+0.0015,1.4)':d=${frames}:x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)':s=${width}x${height}:fps=${fps}[bg]`;
  } else {
    inputs.push('-f', 'lavfi', '-i', `color=c=${look.base}:s=${width}x${height}:r=${fps}`);
    background = '[0:v]null[bg]';
  }
  const cell = 8;
  inputs.push(
    '-f',
    'lavfi',
    '-i',
    `life=s=${Math.ceil(width / cell)}x${Math.ceil(height / cell)}:mold=10:r=${fps}:seed=${look.seed}:ratio=0.3:life_color=${look.life}:death_color=${look.death}`,
  );
  // expansion=none: the file's text is drawn as it is, no %{...} in it is evaluated.
  const drawtext = caption
    ? `,drawtext=fontfile=${filterValue(caption.fontFile)}:textfile=${filterValue(caption.textFile)}:expansion=none:` +
      `x=(w-text_w)/2:y=h-2*text_h:fontsize=${Math.round(Math.min(width, height) / 26)}:fontcolor=white:box=1:boxcolor=black@0.5`
    : '';
  const filter =
    `${background};[1:v]scale=${width}:${height}:flags=neighbor[pattern];` +
    `[bg][pattern]blend=all_mode=${request.imagePath ? 'overlay' : 'average'}:all_opacity=${request.imagePath ? 0.35 : 1},` +
    `noise=alls=6:allf=t${drawtext}${pictureFault(picture, durationS, fps)},format=yuv420p[out]`;
  return [
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    ...inputs,
    '-filter_complex',
    filter,
    '-map',
    '[out]',
    '-t',
    String(durationS),
    '-r',
    String(fps),
    // A frozen picture costs almost nothing between keyframes: all-intra keeps it over validation's minimum size.
    ...(picture === 'frozen' ? ['-g', '1'] : []),
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-crf',
    '23',
    '-movflags',
    '+faststart',
    output,
  ];
}

/**
 * The filters that spoil the picture from a third of the way in: black (with faint noise, as a
 * camera's black is, so that the clip keeps its size) or one frame held to the end.
 */
export function pictureFault(picture: ContentFault | undefined, durationS: number, fps: number): string {
  const fromS = durationS / 3;
  if (picture === 'black') return `,drawbox=x=0:y=0:w=iw:h=ih:color=black:t=fill:enable='gte(t,${fromS.toFixed(3)})',noise=alls=4:allf=t`;
  if (picture === 'frozen') return `,loop=loop=-1:size=1:start=${Math.round(fromS * fps)}`;
  return '';
}
