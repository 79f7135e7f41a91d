import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowFailedError } from '@temporalio/client';
import type { ApplicationFailure } from '@temporalio/common';
import type { DevServer } from '../src/dev-server/start-dev-server.js';
import { createProbe } from '../src/media/probe.js';
import { mediaBinaries } from '../src/media/binaries.js';
import { clipPrompts, startTestServer, uniqueName } from './support/env.js';
import { activityRuns, maxOverlap } from './support/history.js';
import { harness } from './support/job-runner.js';

let server: DevServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

const probe = createProbe(mediaBinaries().ffprobe);

describe('generateClips', () => {
  it('makes 6 valid clips with never more than 3 generating at once, and writes the report', async () => {
    const h = await harness(server);
    const jobId = uniqueName('happy');
    const { result, history } = await h.worker.runUntil(async () => {
      const job = await h.clipflow.start({ jobId, clipPrompts: clipPrompts(6), options: { concurrency: 3 } });
      const result = await job.result();
      return { result, history: await job.raw.fetchHistory() };
    });

    expect(result.successfulClips).toBe(6);
    expect(result.failures).toEqual([]);
    for (const clip of result.clips) {
      expect(clip.path).toMatch(new RegExp(`${jobId}/clip_00${clip.clipIndex}\\.mp4$`));
      const facts = await probe(clip.path!);
      expect(facts.codec).toBe('h264');
      expect(Math.min(facts.width, facts.height)).toBeGreaterThanOrEqual(720);
      expect(facts.durationS).toBeGreaterThanOrEqual(1);
      expect(facts.sizeBytes).toBeGreaterThan(100_000);
    }
    const report = JSON.parse(await readFile(result.reportPath!, 'utf8'));
    expect(report.totalClips).toBe(6);
    expect(report.successfulClips).toBe(6);
    expect(report.clips).toHaveLength(6);

    const runs = activityRuns(history, 'generateClip');
    expect(runs).toHaveLength(6);
    const peak = maxOverlap(runs);
    expect(peak).toBeLessThanOrEqual(3);
    expect(peak).toBeGreaterThanOrEqual(2);
  });

  it('retries a transient failure at about 2 s then 4 s, and succeeds on the third attempt', async () => {
    const h = await harness(server, { LOCAL_PROVIDER_FAULTS: '1:transient*2' });
    const starts: number[] = [];
    const provider = h.deps.provider;
    const original = provider.start.bind(provider);
    provider.start = async (request) => {
      if (request.clipIndex === 1) starts.push(Date.now());
      return original(request);
    };
    const result = await h.worker.runUntil(
      h.clipflow.start({ jobId: uniqueName('transient'), clipPrompts: clipPrompts(3) }).then((j) => j.result()),
    );
    const clip = result.clips.find((c) => c.clipIndex === 1);
    expect(clip?.attempts).toBe(3);
    expect(starts).toHaveLength(3);
    const gaps = [starts[1]! - starts[0]!, starts[2]! - starts[1]!];
    expect(gaps[0]).toBeGreaterThanOrEqual(1800);
    expect(gaps[0]).toBeLessThan(3500);
    expect(gaps[1]).toBeGreaterThanOrEqual(3800);
    expect(gaps[1]).toBeLessThan(6000);
  });

  it('does not retry an Auth failure', async () => {
    const h = await harness(server, { LOCAL_PROVIDER_FAULTS: '2:auth' });
    const result = await h.worker.runUntil(
      h.clipflow.start({ jobId: uniqueName('auth'), clipPrompts: clipPrompts(4) }).then((j) => j.result()),
    );
    expect(result.failures).toEqual([expect.objectContaining({ clipIndex: 2, errorType: 'Auth', attempts: 1 })]);
    expect(result.successfulClips).toBe(3);
  });

  it('succeeds with 4 of 6 clips and reports the 2 that failed', async () => {
    const h = await harness(server, { LOCAL_PROVIDER_FAULTS: '1:permanent,4:permanent', RETRY_INITIAL_INTERVAL_S: '0.1' });
    const result = await h.worker.runUntil(
      h.clipflow.start({ jobId: uniqueName('partial'), clipPrompts: clipPrompts(6) }).then((j) => j.result()),
    );
    expect(result.successfulClips).toBe(4);
    expect(result.failedClips).toBe(2);
    expect(result.failures.map((f) => [f.clipIndex, f.errorType, f.attempts])).toEqual([
      [1, 'ProviderFailed', 3],
      [4, 'ProviderFailed', 3],
    ]);
    const report = JSON.parse(await readFile(result.reportPath!, 'utf8'));
    expect(report.failedClips).toBe(2);
    expect(report.clips.filter((r: { success: boolean }) => !r.success).map((r: { clipIndex: number }) => r.clipIndex)).toEqual([1, 4]);
  });

  it('fails with InsufficientClips when 4 of 6 fail, and still writes the report', async () => {
    const h = await harness(server, {
      LOCAL_PROVIDER_FAULTS: '0:permanent,1:permanent,3:permanent,5:permanent',
      RETRY_INITIAL_INTERVAL_S: '0.1',
    });
    const jobId = uniqueName('insufficient');
    const err = await h.worker.runUntil(
      h.clipflow
        .start({ jobId, clipPrompts: clipPrompts(6) })
        .then((j) => j.result())
        .catch((e: unknown) => e),
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause.type).toBe('InsufficientClips');
    expect(cause.message).toContain('only 2 of 6 clips succeeded');
    expect(cause.message).toContain('at least 3');
    const reportFile = `${h.config.outputDir}/${jobId}/production_report.json`;
    expect(existsSync(reportFile)).toBe(true);
    const report = JSON.parse(await readFile(reportFile, 'utf8'));
    expect(report.successfulClips).toBe(2);
    expect(report.meetsMinimum).toBe(false);
  });

  it('fails with BudgetExceeded before any clip is generated', async () => {
    const h = await harness(server, { CLIPFLOW_PRICES: JSON.stringify({ 'clipflow/local-ffmpeg': { usdPerOutputSecond: 0.5 } }) });
    let starts = 0;
    const original = h.deps.provider.start.bind(h.deps.provider);
    h.deps.provider.start = async (request) => {
      starts++;
      return original(request);
    };
    const err = await h.worker.runUntil(
      h.clipflow
        .start({ jobId: uniqueName('budget'), clipPrompts: clipPrompts(3) })
        .then((j) => j.result())
        .catch((e: unknown) => e),
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause as ApplicationFailure;
    expect(cause.type).toBe('BudgetExceeded');
    expect(cause.message).toMatch(/estimated cost \$3\.00 .* \$0\.00 already spent .* budget limit \$2\.00/);
    expect(starts).toBe(0);
  });
});
