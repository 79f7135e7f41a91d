/** A job's workflow carries a static summary and details (Temporal's user metadata), so the Web UI's "Summary" says what it is. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClipflowClient, parseJob } from '../src/client.js';
import type { DevServer } from '../src/dev-server/start-dev-server.js';
import { jobMetadata, jobMetadataSettings } from '../src/job-metadata.js';
import { clipPrompts, startTestServer, testConfig, uniqueName } from './support/env.js';

let server: DevServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

describe('the Web UI summary of a job', () => {
  it('is set at start: clips, environment, provider/model, budget and min clips', async () => {
    const config = await testConfig({ CLIPFLOW_ENV: 'development', VIDEO_GENERATOR_MIN_CLIPS: '2' });
    // No worker polls this task queue: the metadata is there before the job has run a step.
    const taskQueue = uniqueName('metadata');
    const clipflow = createClipflowClient(server.env.client, { taskQueue, jobDefaults: jobMetadataSettings(config) });
    const jobId = uniqueName('summary');
    const job = await clipflow.start({ jobId, clipPrompts: clipPrompts(4, 2), options: { budgetUsd: 1.5 } });
    try {
      const described = await job.raw.describe();
      expect(await described.staticSummary()).toBe(`${jobId}: 4 clips · development · local/clipflow/local-ffmpeg · budget $1.50 · min 2`);
      const details = await described.staticDetails();
      expect(details).toContain(`**clipflow job** \`${jobId}\``);
      expect(details).toContain('- **clips**: 4 (8.0 s of video in all; 0 with a reference image)');
      expect(details).toContain('- **environment**: development');
      expect(details).toContain('- **provider / model**: `local/clipflow/local-ffmpeg`');
      expect(details).toContain('- **budget**: $1.50 (set by the job)');
      expect(details).toContain('- **min clips**: 2 of 4');
      expect(details).toContain('- **concurrency**: 3');
    } finally {
      await job.raw.terminate('test over');
    }
  });
});

describe('jobMetadata', () => {
  const settings = {
    environment: 'production',
    provider: 'replicate',
    model: 'minimax/video-01',
    fallbackModel: 'wavespeedai/wan-2.1-t2v-720p',
    budgetLimitMicroUsd: 50_000_000,
    minClips: 3,
    concurrency: 3,
  };

  it('takes what the job leaves out from the defaults, min clips capped at the job size as the worker does', () => {
    const job = parseJob({ jobId: 'two', clipPrompts: clipPrompts(2, 6) });
    const { staticSummary, staticDetails } = jobMetadata(job, settings);
    expect(staticSummary).toBe('two: 2 clips · production · replicate/minimax/video-01 · budget $50.00 · min 2');
    expect(staticDetails).toContain('- **provider / model**: `replicate/minimax/video-01` (fallback `wavespeedai/wan-2.1-t2v-720p`)');
    expect(staticDetails).toContain('- **budget**: $50.00\n');
    expect(staticDetails).toContain('- **min clips**: 2 of 2');
  });

  it('says which values the worker decides when the client has no defaults', () => {
    const job = parseJob({ jobId: 'one', clipPrompts: clipPrompts(1, 2) });
    const { staticSummary, staticDetails } = jobMetadata(job);
    expect(staticSummary).toBe("one: 1 clip · budget the worker's default");
    expect(staticDetails).toContain("- **provider / model**: the worker's default");
  });

  it('keeps the summary one short line for a long job id', () => {
    const job = parseJob({ jobId: 'x'.repeat(128), clipPrompts: clipPrompts(1, 2) });
    const { staticSummary } = jobMetadata(job, settings);
    expect(staticSummary).not.toContain('\n');
    expect(staticSummary.startsWith(`${'x'.repeat(60)}…: 1 clip`)).toBe(true);
  });
});
