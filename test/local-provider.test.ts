import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mediaBinaries } from '../src/media/binaries.js';
import { createProbe } from '../src/media/probe.js';
import { captionText, createLocalProvider, ffmpegArgs, filterValue } from '../src/providers/local.js';
import type { Prediction, PredictionRequest, VideoProvider } from '../src/providers/provider.js';

const media = mediaBinaries();
const probe = createProbe(media.ffprobe);

const PRINTABLE_ASCII = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i)).join('');

/** Every printable ASCII character, each within the part of a prompt the caption shows, plus text that was syntax. */
const PROMPTS = [
  ...[0, 32, 64].map((start) => PRINTABLE_ASCII.slice(start, start + 32)),
  "it's a cat",
  "'",
  '\\',
  "a cat\\'; rm -rf / #",
  "x':fontsize=400:text='y",
  '[out];[0:v]null[pwned]',
  'the 100% cat %{pts} %{eif:1/0:d} %{localtime}',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: shell syntax in a prompt, meant literally
  '$(touch /tmp/pwned) `id` "quoted" ${HOME}',
  '猫がピアノを弾いている、夜の東京',
  'قطة تعزف على البيانو في الليل',
  '🐱🎹✨ 👩‍👩‍👧 a cat at the piano 🇯🇵',
  // An emoji across the caption's cut: cut between characters, never inside one.
  `${'a'.repeat(47)}🐱 and more`,
  'line one\nline two',
];

let scratch: string;
/** A work directory whose path is itself full of filter-graph syntax. */
let workDir: string;

beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'clipflow-local-'));
  workDir = path.join(scratch, "renders 'quoted' [a];b,c:d\\e %f");
});

afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

function request(prompt: string, extra: Partial<PredictionRequest> = {}): PredictionRequest {
  return {
    jobId: 'local-test',
    clipIndex: 0,
    attempt: 1,
    model: 'clipflow/local-ffmpeg',
    prompt,
    durationS: 1,
    aspectRatio: '16:9',
    width: 320,
    height: 180,
    fps: 12,
    deadlineS: 60,
    ...extra,
  };
}

async function settle(provider: VideoProvider, prediction: Prediction): Promise<Prediction> {
  const settled = await provider.settled?.(prediction.id);
  if (!settled) throw new Error('the local provider settles its renders');
  return settled;
}

describe('local provider captions', () => {
  it('renders a valid clip for prompts with every printable ASCII character and non-Latin text', async () => {
    const provider = createLocalProvider({ ffmpeg: media.ffmpeg, workDir });
    const outcomes: { prompt: string; status: string; error?: string }[] = [];
    for (const prompt of PROMPTS) {
      const done = await settle(provider, await provider.start(request(prompt)));
      outcomes.push({ prompt, status: done.status, ...(done.error ? { error: done.error } : {}) });
      if (done.status !== 'succeeded') continue;
      const saved = path.join(scratch, `clip-${outcomes.length}.mp4`);
      await provider.saveOutput(done, saved, 1e9);
      const facts = await probe(saved);
      expect(facts, prompt).toMatchObject({ width: 320, height: 180, codec: 'h264' });
      expect(facts.durationS, prompt).toBeCloseTo(1, 1);
    }
    expect(outcomes.filter((o) => o.status !== 'succeeded')).toEqual([]);
    // The caption files are gone with their renders.
    expect(await readdir(workDir)).toEqual([]);
  });

  it('passes no prompt text in the arguments: the caption comes from a file', () => {
    const caption = { fontFile: '/fonts/a.ttf', textFile: '/work/1.caption.txt' };
    for (const prompt of ['a lighthouse in a storm', "it's a cat", '猫がピアノを弾いている']) {
      const args = ffmpegArgs(request(prompt), '/work/1.mp4', caption);
      expect(args.join('\n')).not.toContain(prompt);
      expect(args.join('\n')).toContain('drawtext=fontfile=/fonts/a.ttf:textfile=/work/1.caption.txt:expansion=none:');
    }
  });

  it('cuts the caption at 48 characters, never inside one', () => {
    expect(captionText(`${'a'.repeat(47)}🐱🐱`)).toBe(`${'a'.repeat(47)}🐱`);
    expect(captionText("it's")).toBe("it's");
  });

  it('escapes a path for the option parser, then for the graph parser', () => {
    expect(filterValue('/plain/path.txt')).toBe('/plain/path.txt');
    expect(filterValue("/a'b")).toBe("/a\\\\\\'b");
    expect(filterValue('/a:b')).toBe('/a\\\\:b');
    expect(filterValue('/a[b],c;d')).toBe('/a\\[b\\]\\,c\\;d');
  });
});

describe('local provider limits', () => {
  it("kills a render at the request's deadline", async () => {
    const provider = createLocalProvider({ ffmpeg: media.ffmpeg, workDir: path.join(scratch, 'deadline') });
    const began = Date.now();
    // Ten minutes of 1080p would take far longer than the half second it is given.
    const started = await provider.start(request('a long clip', { durationS: 600, width: 1920, height: 1080, fps: 30, deadlineS: 0.5 }));
    const done = await settle(provider, started);
    expect(done.status).toBe('failed');
    expect(done.error).toBe('ffmpeg was killed after running for 500 ms (its time limit)');
    expect(Date.now() - began).toBeLessThan(10_000);
    expect(await readdir(path.join(scratch, 'deadline'))).toEqual([]);
  });

  it('cancel kills the render and waits for it to end', async () => {
    const dir = path.join(scratch, 'cancel');
    const provider = createLocalProvider({ ffmpeg: media.ffmpeg, workDir: dir });
    const started = await provider.start(request('a long clip', { durationS: 600, width: 1280, height: 720 }));
    await sleep(300);
    const began = Date.now();
    await provider.cancel(started.id);
    expect(Date.now() - began).toBeLessThan(5_000);
    expect((await provider.get(started.id)).status).toBe('canceled');
    expect(await readdir(dir)).toEqual([]);
  });
});
