import { mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../src/activities/write-report.js';
import type { DevServer } from '../src/dev-server/start-dev-server.js';
import type { GenerateClipsResult } from '../src/shared/model.js';
import { clipPrompts, startTestServer, uniqueName } from './support/env.js';
import { launchChromium } from './support/browser.js';
import { harness, recordClipStarts } from './support/job-runner.js';

/**
 * One job on the real dev server with the local provider: clip 1 goes black and clip 2 freezes on
 * their first generation only, clip 3 goes black on every one, and clip 0's prompt carries markup.
 */
const SCRIPT_PROMPT = '<script>window.pwned = true</script> a <b>bold</b> neon city & "quotes"';

let server: DevServer;
let result: GenerateClipsResult;
let report: Report;
let html: string;
let starts: number[];

beforeAll(async () => {
  server = await startTestServer();
  const h = await harness(server, { LOCAL_PROVIDER_FAULTS: '1:black*1,2:frozen*1,3:black', RETRY_INITIAL_INTERVAL_S: '0.1' });
  starts = recordClipStarts(h);
  const prompts = clipPrompts(5, 2, (i) => (i === 0 ? { prompt: SCRIPT_PROMPT } : {}));
  result = await h.worker.runUntil(h.clipflow.start({ jobId: uniqueName('look'), clipPrompts: prompts }).then((j) => j.result()));
  report = JSON.parse(await readFile(result.reportPath!, 'utf8')) as Report;
  html = await readFile(result.reportHtmlPath!, 'utf8');
});
afterAll(async () => {
  await server?.stop();
});

/** What the test uses of a <video> element (the project's TypeScript has no DOM library). */
interface VideoElement {
  muted: boolean;
  currentTime: number;
  duration: number;
  error: { message: string } | null;
  play(): Promise<void>;
  pause(): void;
}

const count = (list: number[], value: number) => list.filter((v) => v === value).length;

describe('content checks in a job', () => {
  it('rejects a black clip and a frozen clip, retries each, and keeps the clip that passes', () => {
    expect(result.clips.map((c) => c.clipIndex)).toEqual([0, 1, 2, 4]);
    expect([count(starts, 0), count(starts, 1), count(starts, 2), count(starts, 3), count(starts, 4)]).toEqual([1, 2, 2, 3, 1]);
    const black = result.clips.find((c) => c.clipIndex === 1)!;
    expect(black.attempts).toBe(2);
    expect(black.failedAttempts).toEqual([
      expect.objectContaining({ generation: 1, errorType: 'ValidationFailed', findings: [expect.objectContaining({ kind: 'black' })] }),
    ]);
    // The fault blacks the picture out from a third of the way in: 0.67 s of a 2 s clip.
    const finding = black.failedAttempts![0]!.findings![0]!;
    expect(finding.startS).toBeCloseTo(0.67, 1);
    expect(finding.endS).toBeCloseTo(2, 1);
    expect(black.failedAttempts![0]!.message).toMatch(/clip_001\.mp4 failed its content check: black from 0\.[67]\d s to 2\.00 s/);
    expect(black.contentCheck).toMatchObject({ decodedFrames: 48, decodeErrors: 0, findings: [] });

    const frozen = result.clips.find((c) => c.clipIndex === 2)!;
    expect(frozen.attempts).toBe(2);
    expect(frozen.failedAttempts![0]!.findings!.map((f) => f.kind)).toEqual(['frozen']);
    expect(frozen.failedAttempts![0]!.message).toMatch(/failed its content check: frozen from 0\.[6-7]\d s to 2\.00 s/);
  });

  it('fails a clip that is black on every generation, with the finding in its error', () => {
    expect(result.failures).toEqual([expect.objectContaining({ clipIndex: 3, errorType: 'ValidationFailed', attempts: 3 })]);
    const failure = result.failures[0]!;
    expect(failure.message).toMatch(
      /^clipflow\/local-ffmpeg: clip .*clip_003\.mp4 failed its content check: black from 0\.[67]\d s to 2\.00 s/,
    );
    expect(failure.failedAttempts?.map((a) => [a.generation, a.findings?.map((f) => f.kind)])).toEqual([
      [1, ['black']],
      [2, ['black']],
      [3, ['black']],
    ]);
  });

  it('lists every finding in production_report.json, earlier attempts included', () => {
    const row = (i: number) => report.clips.find((r) => r.clipIndex === i)!;
    expect(row(1).findings.map((f) => [f.generation, f.kind])).toEqual([[1, 'black']]);
    expect(row(2).findings.map((f) => [f.generation, f.kind])).toEqual([[1, 'frozen']]);
    expect(row(3).findings.map((f) => [f.generation, f.kind])).toEqual([
      [1, 'black'],
      [2, 'black'],
      [3, 'black'],
    ]);
    expect(row(4).findings).toEqual([]);
    expect(row(0).prompt).toBe(SCRIPT_PROMPT);
    expect(row(0).contentCheck).toMatchObject({ decodedFrames: 48, findings: [] });
    expect(report.webUiUrl).toBe(`http://localhost:8233/namespaces/default/workflows/${report.workflowId}`);
  });
});

describe('report.html', () => {
  it('is made from the same data as the JSON, beside it, with a contact sheet and posters in the store', async () => {
    expect(path.dirname(result.reportHtmlPath!)).toBe(path.dirname(result.reportPath!));
    expect(result.contactSheetUri).toBe(report.contactSheetUri);
    const dir = path.dirname(result.reportPath!);
    expect((await stat(path.join(dir, 'contact_sheet.jpg'))).size).toBeGreaterThan(5_000);
    for (const clip of result.clips) {
      expect(clip.posterUri).toBe(pathToFileURL(path.join(dir, 'posters', `clip_00${clip.clipIndex}.jpg`)).href);
      expect(html.includes(`src="clip_00${clip.clipIndex}.mp4"`), `clip ${clip.clipIndex}'s video`).toBe(true);
    }
    for (const row of report.clips.filter((r) => r.findings.length)) {
      for (const f of row.findings) expect(html.includes(f.detail), f.detail).toBe(true);
    }
    expect(html.includes(`href="${report.webUiUrl}"`)).toBe(true);
    // Nothing it shows comes from the network; its one link off the machine is the Web UI's.
    expect(html.replace(`href="${report.webUiUrl}"`, '').match(/(src|href)="https?:[^"]*"/g)).toBeNull();
  });

  it('shows a prompt holding markup as text', () => {
    expect(html.includes('<script')).toBe(false);
    expect(html.includes('<b>bold</b>')).toBe(false);
    expect(
      html.includes('&#60;script&#62;window.pwned = true&#60;/script&#62; a &#60;b&#62;bold&#60;/b&#62; neon city &#38; &#34;quotes&#34;'),
    ).toBe(true);
  });

  it('shows every clip in headless Chromium, plays a video, and is saved as a screenshot', async (ctx) => {
    const browser = await launchChromium('report.html browser test', ['--autoplay-policy=no-user-gesture-required']);
    if (!browser) {
      ctx.skip();
      return;
    }
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      // Offline, as a person opens it from the job's folder: any request off this machine fails the test.
      const remote: string[] = [];
      page.on('request', (r) => {
        if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) remote.push(r.url());
      });
      await page.goto(pathToFileURL(result.reportHtmlPath!).href);

      const cards = page.locator('article.clip');
      expect(await cards.count()).toBe(5);
      expect(await cards.evaluateAll((els) => els.map((e) => [e.getAttribute('data-clip-index'), e.getAttribute('data-outcome')]))).toEqual(
        [
          ['0', 'succeeded'],
          ['1', 'succeeded'],
          ['2', 'succeeded'],
          ['3', 'failed'],
          ['4', 'succeeded'],
        ],
      );
      // The prompt is shown as the text it is, and its script never ran.
      await page.getByText('<script>window.pwned = true</script> a <b>bold</b>', { exact: false }).waitFor();
      expect(await page.evaluate(() => (globalThis as { pwned?: boolean }).pwned)).toBeUndefined();
      await page
        .getByText(/black from 0\.[67]\d s to 2\.00 s/)
        .first()
        .waitFor();
      // Every poster (data: URI) and the contact sheet decoded to an image.
      const images = await page
        .locator('img')
        .evaluateAll((els) => (els as unknown as { naturalWidth: number }[]).map((img) => img.naturalWidth));
      expect(images.length).toBe(1 + 4);
      for (const width of images) expect(width).toBeGreaterThan(0);

      const video = page.locator('article.clip[data-clip-index="1"] video');
      const playing = await video.evaluate(async (node) => {
        const el = node as unknown as VideoElement;
        el.muted = true;
        await el.play();
        const began = el.currentTime;
        await new Promise((resolve) => setTimeout(resolve, 800));
        return { began, now: el.currentTime, duration: el.duration, error: el.error?.message ?? null };
      });
      expect(playing.error).toBeNull();
      expect(playing.duration).toBeCloseTo(2, 1);
      expect(playing.now).toBeGreaterThan(playing.began);
      await video.evaluate((node) => (node as unknown as VideoElement).pause());

      await mkdir('test-artifacts', { recursive: true });
      await page.screenshot({ path: 'test-artifacts/report-html.png', fullPage: true });
      expect(remote).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
