/** Renders, once, the real MP4 every fixed-latency prediction hands out, and checks it passes validation. */
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../src/config/index.js';
import { mediaBinaries } from '../src/media/binaries.js';
import { checkClip, createProbe, type VideoFacts } from '../src/media/probe.js';
import { createLocalProvider } from '../src/providers/local.js';

export async function renderSampleClip(dir: string, generation: Config['generation']): Promise<{ file: string; facts: VideoFacts }> {
  await mkdir(dir, { recursive: true });
  const media = mediaBinaries();
  const local = createLocalProvider({ ffmpeg: media.ffmpeg, workDir: path.join(dir, 'render') });
  const prediction = await local.start({
    jobId: 'bench-sample',
    clipIndex: 0,
    attempt: 1,
    model: generation.model,
    prompt: 'clipflow benchmark sample: a slow pan over a neon city',
    durationS: 1,
    aspectRatio: '16:9',
    width: 1280,
    height: 720,
    fps: generation.fps,
    deadlineS: 60,
  });
  let current = prediction;
  while (current.status === 'processing' || current.status === 'starting') {
    await sleep(50);
    current = await local.get(prediction.id);
  }
  if (current.status !== 'succeeded') throw new Error(`sample render ${current.status}: ${current.error ?? ''}`);
  const file = path.join(dir, 'sample-1280x720-1s.mp4');
  await local.saveOutput(current, file, 2_000_000_000);
  await rm(path.join(dir, 'render'), { recursive: true, force: true });
  const facts = await createProbe(media.ffprobe)(file);
  checkClip(file, facts, generation);
  return { file, facts };
}
