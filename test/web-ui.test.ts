import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevServer } from '../src/dev-server/start-dev-server.js';
import { startDevServer } from '../src/dev-server/start-dev-server.js';
import { freePort } from '../src/dev-server/ports.js';
import { clipPrompts, quietRuntime, uniqueName } from './support/env.js';
import { launchChromium } from './support/browser.js';
import { harness } from './support/job-runner.js';
import { until } from './support/wait.js';

const run = promisify(execFile);
let server: DevServer;
let uiPort: number;

beforeAll(async () => {
  quietRuntime();
  uiPort = await freePort();
  server = await startDevServer({ uiPort });
});
afterAll(async () => {
  await server?.stop();
});

describe('what a person sees of a job', () => {
  let jobId: string;
  let workflowId: string;
  let currentDetails: string | undefined;

  beforeAll(async () => {
    const h = await harness(server, { LOCAL_PROVIDER_FAULTS: '2:auth' });
    jobId = uniqueName('visible');
    workflowId = await h.worker.runUntil(async () => {
      const job = await h.clipflow.start({ jobId, clipPrompts: clipPrompts(4, 1.5) });
      await job.result();
      // Queries need a worker, so the details are read while this one runs.
      currentDetails = ((await job.raw.query('__temporal_workflow_metadata')) as { currentDetails?: string }).currentDetails;
      return job.workflowId;
    });
  });

  it('finds the job by its id with `npm run temporal -- workflow list --query`, with its counts and spend', async () => {
    const listed = await until(
      'the job in visibility',
      async () => {
        const { stdout } = await run('npm', [
          'run',
          '--silent',
          'temporal',
          '--',
          'workflow',
          'list',
          '--address',
          server.address,
          '--query',
          `ClipflowJobId='${jobId}'`,
          '--output',
          'json',
        ]);
        const rows = stdout.trim() ? (JSON.parse(stdout) as { execution: { workflowId: string } }[]) : [];
        return rows.length > 0 ? rows : undefined;
      },
      20_000,
      250,
    );
    expect(listed.map((r) => r.execution.workflowId)).toEqual([workflowId]);

    const described = await server.env.client.workflow.getHandle(workflowId).describe();
    const attrs = described.typedSearchAttributes;
    expect(attrs.get({ name: 'ClipflowJobId', type: 'KEYWORD' } as never)).toBe(jobId);
    expect(attrs.get({ name: 'ClipflowClipsSucceeded', type: 'INT' } as never)).toBe(3);
    expect(attrs.get({ name: 'ClipflowClipsFailed', type: 'INT' } as never)).toBe(1);
    expect(attrs.get({ name: 'ClipflowSpendUsd', type: 'DOUBLE' } as never)).toBe(0);
    expect(described.memo).toMatchObject({ jobId, summary: { clips: '3/4', failed: ['2:Auth'] } });
  });

  it('gives every activity a summary a person can read, and the workflow its current details', async () => {
    const handle = server.env.client.workflow.getHandle(workflowId);
    const history = await handle.fetchHistory();
    // Activities and local-activity markers alike.
    const summaries = (history.events ?? [])
      .filter((e) => e.userMetadata?.summary)
      .map((e) => {
        const data = e.userMetadata?.summary?.data;
        return data ? (JSON.parse(Buffer.from(data).toString()) as string) : undefined;
      });
    expect(summaries).toContain('budget check');
    expect(summaries).toContain('production report');
    for (const i of [0, 1, 2, 3]) expect(summaries).toContain(`clip ${i} · clipflow/local-ffmpeg · generate`);
    expect(currentDetails).toContain('3/4 clips done');
  });

  it('shows the job and its clip activities in the Web UI (headless Chromium)', async (ctx) => {
    const browser = await launchChromium('web UI test');
    if (!browser) {
      ctx.skip();
      return;
    }
    try {
      const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
      await page.goto(`http://localhost:${uiPort}/namespaces/default/workflows/${workflowId}`);
      await page.getByText(workflowId).first().waitFor({ timeout: 30_000 });
      await page.getByText('clip 0 · clipflow/local-ffmpeg · generate').first().waitFor({ timeout: 30_000 });
      expect(await page.getByText(/clip \d · clipflow\/local-ffmpeg · generate/).count()).toBeGreaterThanOrEqual(1);
      await mkdir('test-artifacts', { recursive: true });
      await page.screenshot({ path: 'test-artifacts/web-ui-job.png', fullPage: true });
      // The workflow's summary and details, set at start, say what the job is (the UI renders their
      // markdown in frames of their own, so the text is looked for in every frame).
      await page.getByText('User Metadata').first().click();
      const summary = `${jobId}: 4 clips · development · local/clipflow/local-ffmpeg · budget $2.00 · min 3`;
      const shown = () =>
        Promise.all(
          page.frames().map((frame) =>
            frame
              .locator('body')
              .textContent()
              .catch(() => ''),
          ),
        );
      const texts = await until(
        'the summary and details in the Web UI',
        async () => {
          const all = (await shown()).join('\n').replace(/\s+/g, ' ');
          return all.includes(summary) && all.includes('provider / model: local/clipflow/local-ffmpeg') ? all : undefined;
        },
        30_000,
        500,
      );
      expect(texts).toContain('min clips: 3 of 4');
      await page.screenshot({ path: 'test-artifacts/web-ui-summary.png', fullPage: true });
    } finally {
      await browser.close();
    }
  });
});
