import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowFailedError } from '@temporalio/client';
import type { ApplicationFailure } from '@temporalio/common';
import { parseJob } from '../src/client.js';
import type { DevServer } from '../src/dev-server/start-dev-server.js';
import { ClipflowError } from '../src/shared/failures.js';
import { WORKFLOW_TYPE } from '../src/shared/names.js';
import { clipPrompts, startTestServer, uniqueName } from './support/env.js';
import { harness, recordClipStarts, type Harness } from './support/job-runner.js';

let server: DevServer;
let h: Harness;
/** A worker on Replicate's minimax/hailuo-02 (6 or 10 s clips), whose API is never reached. */
let hailuo: Harness;
/** A local worker rendering 480 px frames where validation wants 720 px: no clip can ever pass. */
let small: Harness;
let running: Promise<void>[] = [];
beforeAll(async () => {
  server = await startTestServer();
  h = await harness(server);
  hailuo = await harness(server, {
    VIDEO_PROVIDER: 'replicate',
    VIDEO_MODEL: 'minimax/hailuo-02',
    VIDEO_FALLBACK_MODEL: '',
    REPLICATE_API_TOKEN: 'r8_never_used',
    REPLICATE_BASE_URL: 'http://127.0.0.1:9/v1',
  });
  small = await harness(server, { VIDEO_SHORT_SIDE: '480' });
  running = [h.worker.run(), hailuo.worker.run(), small.worker.run()];
});
afterAll(async () => {
  h?.worker.shutdown();
  hailuo?.worker.shutdown();
  small?.worker.shutdown();
  await Promise.all(running);
  await Promise.all([h?.deps.close(), hailuo?.deps.close(), small?.deps.close()]);
  await server?.stop();
});

/** Runs a job straight on Temporal, past the client's own check, as any other caller could; returns its failure. */
async function failureOf(on: Harness, input: unknown, workflowExecutionTimeout?: string): Promise<ApplicationFailure> {
  const jobId = (input as { jobId?: string }).jobId ?? uniqueName('bad');
  const err = await server.env.client.workflow
    .execute(WORKFLOW_TYPE, {
      taskQueue: on.taskQueue,
      workflowId: `clipflow-${jobId}`,
      args: [input],
      ...(workflowExecutionTimeout ? { workflowExecutionTimeout } : {}),
    })
    .catch((e: unknown) => e);
  expect(err).toBeInstanceOf(WorkflowFailedError);
  return (err as WorkflowFailedError).cause as ApplicationFailure;
}

const good = clipPrompts(3);
const cases: { name: string; clipPrompts: unknown[]; field: string; says: RegExp }[] = [
  { name: 'an empty prompt list', clipPrompts: [], field: 'clipPrompts', says: /at least one clip prompt/ },
  {
    name: 'a duplicate clipIndex',
    clipPrompts: [good[0], { ...good[1], clipIndex: 0 }],
    field: 'clipPrompts[1].clipIndex',
    says: /duplicate clipIndex 0/,
  },
  { name: 'a zero duration', clipPrompts: [{ ...good[0], durationS: 0 }], field: 'clipPrompts[0].durationS', says: /greater than 0/ },
  { name: 'a negative duration', clipPrompts: [{ ...good[0], durationS: -2 }], field: 'clipPrompts[0].durationS', says: /greater than 0/ },
  {
    name: 'a non-http reference URL',
    clipPrompts: [{ ...good[0], sceneReferenceUrl: 'file:///etc/passwd' }],
    field: 'clipPrompts[0].sceneReferenceUrl',
    says: /http or https/,
  },
  {
    name: 'an over-long prompt',
    clipPrompts: [{ ...good[0], prompt: 'x'.repeat(2001) }],
    field: 'clipPrompts[0].prompt',
    says: /at most 2000 characters/,
  },
  {
    name: 'a NUL byte in a prompt',
    clipPrompts: [{ ...good[0], prompt: 'a cat\u0000 on a mat' }],
    field: 'clipPrompts[0].prompt',
    says: /control characters \(found U\+0000 at character 6\)/,
  },
  {
    name: 'an escape sequence in a negative prompt',
    clipPrompts: [{ ...good[0], negativePrompt: 'blur\u001b[2J' }],
    field: 'clipPrompts[0].negativePrompt',
    says: /control characters \(found U\+001B/,
  },
  {
    name: 'a prompt with nothing visible',
    clipPrompts: [{ ...good[0], prompt: '\u200b\u3164\u2060' }],
    field: 'clipPrompts[0].prompt',
    says: /must have a visible character/,
  },
  {
    name: 'a misspelled reference-image key',
    clipPrompts: [{ ...good[0], SceneReferenceURL: 'https://example.com/a.png' }],
    field: 'clipPrompts[0]',
    says: /unknown key "SceneReferenceURL" \(did you mean "sceneReferenceUrl"\?\)/,
  },
];

describe('bad input', () => {
  it.each(cases)('the workflow fails $name with InvalidInput naming $field', async ({ clipPrompts, field, says }) => {
    const cause = await failureOf(h, { jobId: uniqueName('bad'), clipPrompts });
    expect(cause.type).toBe('InvalidInput');
    expect(cause.nonRetryable).toBe(true);
    expect(cause.message).toContain(`${field}:`);
    expect(cause.message).toMatch(says);
    expect((cause.details?.[0] as { fields: string[] } | undefined)?.fields).toContain(field);
  });

  it.each(cases)('the client refuses $name before starting anything', ({ clipPrompts, field, says }) => {
    let caught: unknown;
    try {
      parseJob({ jobId: 'j1', clipPrompts });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ClipflowError);
    expect((caught as ClipflowError).type).toBe('InvalidInput');
    expect((caught as Error).message).toContain(field);
    expect((caught as Error).message).toMatch(says);
  });

  it('keeps serving other jobs after bad ones', async () => {
    const result = await (async () => {
      const bad = server.env.client.workflow
        .execute(WORKFLOW_TYPE, { taskQueue: h.taskQueue, workflowId: uniqueName('bad'), args: [{ jobId: 'x', clipPrompts: [] }] })
        .catch((e: unknown) => e);
      const job = await h.clipflow.start({ jobId: uniqueName('good'), clipPrompts: clipPrompts(3, 1.5) });
      const [badOutcome, goodResult] = await Promise.all([bad, job.result()]);
      expect(badOutcome).toBeInstanceOf(WorkflowFailedError);
      return goodResult;
    })();
    expect(result.successfulClips).toBe(3);
  });

  it('names a minClips larger than the job', () => {
    expect(() => parseJob({ jobId: 'j2', clipPrompts: good, options: { minClips: 5 } })).toThrow(
      /options\.minClips: is 5 but the job has only 3 clip prompts/,
    );
  });

  it('starting the same job twice runs it once', async () => {
    const jobId = uniqueName('twice');
    const [a, b] = await (async () => {
      const first = await h.clipflow.start({ jobId, clipPrompts: clipPrompts(3, 1) });
      const second = await h.clipflow.start({ jobId, clipPrompts: clipPrompts(3, 1) });
      const results = await Promise.all([first.result(), second.result()]);
      const again = await h.clipflow.start({ jobId, clipPrompts: clipPrompts(3, 1) });
      expect(await again.result()).toEqual(results[0]);
      return results;
    })();
    expect(a).toEqual(b);
    const runs: string[] = [];
    for await (const wf of server.env.client.workflow.list({ query: `WorkflowId = 'clipflow-${jobId}'` })) runs.push(wf.runId);
    expect(runs).toHaveLength(1);
  });
});

describe('what can be known before paying is checked before paying', () => {
  it("a clip shorter than the environment's minimum fails the job at once as InvalidInput, naming the allowed durations", async () => {
    const cause = await failureOf(h, { jobId: uniqueName('short'), clipPrompts: [good[0], { ...good[1], durationS: 0.5 }] });
    expect(cause.type).toBe('InvalidInput');
    expect(cause.nonRetryable).toBe(true);
    expect(cause.message).toContain('clipPrompts[1].durationS: is 0.5 s');
    expect(cause.message).toContain('allowed: 1 to 60 s');
    expect(cause.details?.[0]).toEqual({ fields: ['clipPrompts[1].durationS'], problems: 1 });
  });

  it('a duration the model does not make fails the job before the provider is called', async () => {
    const starts = recordClipStarts(hailuo);
    const cause = await failureOf(hailuo, {
      jobId: uniqueName('hailuo'),
      clipPrompts: [
        { ...good[0], durationS: 6 },
        { ...good[1], durationS: 4 },
      ],
    });
    expect(cause.type).toBe('InvalidInput');
    expect(cause.message).toContain(
      'clipPrompts[1].durationS: is 4 s but replicate model minimax/hailuo-02 makes only 6 or 10 s clips (allowed: 6, 10)',
    );
    expect(cause.message).not.toContain('clipPrompts[0]');
    expect(starts).toEqual([]);
  });

  it('an environment whose frames can never pass validation fails every job as Misconfigured before the provider is called', async () => {
    const starts = recordClipStarts(small);
    const cause = await failureOf(small, { jobId: uniqueName('small'), clipPrompts: good });
    expect(cause.type).toBe('Misconfigured');
    expect(cause.nonRetryable).toBe(true);
    expect(cause.message).toContain(
      'makes frames with a 480 px short side, under the 720 px that validation requires (VIDEO_MIN_SHORT_SIDE)',
    );
    expect(starts).toEqual([]);
  });

  it('a refused job costs $0, starts no provider call and leaves no partial outputs', async () => {
    const starts = recordClipStarts(h);
    const jobId = uniqueName('refused');
    // Two clips that would render, one that can never pass validation.
    const clips = [good[0], { ...good[1], durationS: 0.5 }, good[2]];
    const cause = await failureOf(h, { jobId, clipPrompts: clips, options: { concurrency: 3, minClips: 1 } });
    expect(cause.type).toBe('InvalidInput');
    expect(starts).toEqual([]);
    expect(await h.deps.costTracker.getTotalCost(jobId)).toBe(0);
    const outputs = existsSync(h.config.outputDir) ? await readdir(h.config.outputDir) : [];
    expect(outputs).not.toContain(jobId);
    // Nothing but the local jobSettings marker ran: no activity was ever scheduled.
    const history = await server.env.client.workflow.getHandle(`clipflow-${jobId}`).fetchHistory();
    const scheduled = (history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes);
    expect(scheduled).toEqual([]);
  });
});

describe('a huge bad job', () => {
  it('5,000 clips with several wrong fields each fail as InvalidInput with a bounded message that names the first and counts the rest', async () => {
    const clipPrompts = Array.from({ length: 5000 }, (_, i) => ({
      clipIndex: -i - 1,
      prompt: '',
      durationS: 0,
      aspectRatio: '5:4',
      sceneReferenceUrl: `ftp://example.com/${i}.png`,
    }));
    // Before messages were bounded, this failure was too large for Temporal and the workflow task was retried until the timeout.
    const cause = await failureOf(h, { jobId: uniqueName('huge'), clipPrompts }, '90 seconds');
    expect(cause.type).toBe('InvalidInput');
    expect(cause.nonRetryable).toBe(true);
    expect(cause.message.length).toBeLessThan(5000);
    expect(cause.message).toContain('clipPrompts[0].clipIndex: must be 0 or more');
    expect(cause.message).toContain('and 24990 more problems (25000 in all)');
    const details = cause.details?.[0] as { fields: string[]; problems: number };
    expect(details.fields.length).toBeLessThanOrEqual(10);
    expect(details.fields).toContain('clipPrompts[0].clipIndex');
    expect(details.problems).toBe(25000);
  }, 150_000);
});
