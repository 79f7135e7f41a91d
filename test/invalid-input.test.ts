import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkflowFailedError } from '@temporalio/client';
import type { ApplicationFailure } from '@temporalio/common';
import { parseJob } from '../src/client.js';
import type { DevServer } from '../src/dev-server/start-dev-server.js';
import { ClipflowError } from '../src/shared/failures.js';
import { WORKFLOW_TYPE } from '../src/shared/names.js';
import { clipPrompts, startTestServer, uniqueName } from './support/env.js';
import { harness, type Harness } from './support/job-runner.js';

let server: DevServer;
let h: Harness;
let running: Promise<void>[] = [];
beforeAll(async () => {
  server = await startTestServer();
  h = await harness(server);
  running = [h.worker.run()];
});
afterAll(async () => {
  h?.worker.shutdown();
  await Promise.all(running);
  await h?.deps.close();
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
