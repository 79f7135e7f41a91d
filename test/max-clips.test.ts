/** The sanity limit on a job's clips is a setting (CLIPFLOW_MAX_CLIPS), not a cap in the code; refusals name it. */
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { parseJob } from '../src/client.js';
import { loadConfig } from '../src/config/index.js';
import { ClipflowError } from '../src/shared/failures.js';
import { DEFAULT_MAX_CLIPS } from '../src/shared/model.js';
import { validateJob, validateJobLimits } from '../src/workflows/validate.js';
import { clipPrompts } from './support/env.js';
import { rejection } from './support/fakes.js';

const job = (clips: number) => ({ jobId: 'many', clipPrompts: clipPrompts(clips) });

describe('the sanity limit on a job’s clips', () => {
  it('is 100,000 clips unless CLIPFLOW_MAX_CLIPS says otherwise, and never past 200,000', () => {
    expect(loadConfig({}).job.maxClips).toBe(DEFAULT_MAX_CLIPS);
    expect(DEFAULT_MAX_CLIPS).toBe(100_000);
    expect(loadConfig({ CLIPFLOW_MAX_CLIPS: '10' }).job.maxClips).toBe(10);
    expect(() => loadConfig({ CLIPFLOW_MAX_CLIPS: '200001' })).toThrow(/CLIPFLOW_MAX_CLIPS/);
  });

  it('lets a job past the old 5,000-clip cap through', () => {
    const input = job(6_000);
    expect(() => validateJob(input)).not.toThrow();
    expect(() => validateJobLimits(input, { maxClips: DEFAULT_MAX_CLIPS })).not.toThrow();
    expect(parseJob(input, DEFAULT_MAX_CLIPS).clipPrompts).toHaveLength(6_000);
  });

  it('is checked by the client before the job is sent, naming the limit and the setting', () => {
    expect(() => parseJob(job(11), 10)).toThrow(ClipflowError);
    expect(() => parseJob(job(11), 10)).toThrow('clipPrompts: must contain at most 10 clip prompts (CLIPFLOW_MAX_CLIPS)');
    expect(parseJob(job(10), 10).clipPrompts).toHaveLength(10);
  });

  it('is checked by the workflow with the worker’s setting, for clips sent whole and for a stored clip list', async () => {
    for (const input of [job(11), { jobId: 'stored', clipList: { uri: 'file:///store/stored/input/clips-0.json', clips: 11 } }]) {
      const err = await rejection(Promise.resolve().then(() => validateJobLimits(input, { maxClips: 10 })));
      expect(err).toBeInstanceOf(ApplicationFailure);
      expect((err as ApplicationFailure).type).toBe('InvalidInput');
      expect((err as ApplicationFailure).nonRetryable).toBe(true);
      expect((err as ApplicationFailure).message).toMatch(/must contain at most 10 clip prompts \(CLIPFLOW_MAX_CLIPS\)$/);
    }
  });
});
