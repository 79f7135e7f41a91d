/**
 * Property: for any JSON value the workflow is handed, its validation either accepts it, and the
 * job then holds everything the workflow relies on, or refuses it as a non-retryable InvalidInput
 * with a bounded, printable message naming the fields; nothing else is ever thrown. The job files
 * the CLI reads obey the same: any bytes give a job or problems, never an exception.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { checkJobFile } from '../src/cli/job-file.js';
import type { ClipLimits } from '../src/shared/clip-limits.js';
import {
  AspectRatio,
  JOB_ID_PATTERN,
  MAX_CLIP_DURATION_S,
  MAX_CLIPS_CEILING,
  MAX_PROMPT_CHARS,
  type ValidJob,
} from '../src/shared/model.js';
import { findControlCharacter, hasVisibleText } from '../src/shared/text.js';
import { validateJob, validateJobLimits } from '../src/workflows/validate.js';

/** Cases per property of the workflow's validation (CI runs them all in `npm test`). */
const RUNS = 2500;
/** The longest a refusal may be, whatever the input. */
const MAX_MESSAGE_CHARS = 5000;

// biome-ignore lint/suspicious/noControlCharactersInRegex: what must never be echoed raw
const RAW_CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

const LIMITS: (ClipLimits | undefined)[] = [
  undefined,
  { acceptedBy: 'the local provider (clipflow/local-ffmpeg)', minDurationS: 1, maxDurationS: 60 },
  { acceptedBy: 'replicate model minimax/hailuo-02', minDurationS: 1, maxDurationS: 60, durationsS: [6, 10] },
  { acceptedBy: 'replicate model wavespeedai/wan-2.1-t2v-720p', minDurationS: 1, maxDurationS: 60, aspectRatios: ['16:9', '9:16'] },
];

const anyJson = fc.jsonValue({ maxDepth: 3 });
const nastyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.constantFrom(
    '',
    ' \t\n',
    '\u200b\u3164',
    'a\u0000b',
    '\u001b[2J',
    'x\ud800',
    'x'.repeat(2001),
    'file:///etc/passwd',
    'http://x/\u0000',
  ),
);
const nastyNumber = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0, -1, 0.5, 0.99, 61, 1e308, 100_001, 1.5, 4),
);
const key = fc.oneof(
  fc.constantFrom('SceneReferenceURL', 'duration', 'aspect_ratio', '__proto__', 'constructor', 'prompt ', 'k'.repeat(5000)),
  fc.string({ unit: 'binary', maxLength: 12 }),
);

/** A clip that the schema accepts (the limits may not). */
const goodClip = fc.record(
  {
    prompt: fc.oneof(
      fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 40 }),
      fc.constantFrom("it's a cat", '  padded  ', 'a\tb\nc', '猫が走る'),
    ),
    negativePrompt: fc.string({ unit: 'grapheme-ascii', maxLength: 20 }),
    durationS: fc.oneof(fc.constantFrom(1, 2, 5.5, 6, 10, 60), fc.double({ min: 1, max: 60, noNaN: true })),
    aspectRatio: fc.constantFrom(...AspectRatio.options),
    sceneReferenceUrl: fc.webUrl(),
  },
  { requiredKeys: ['prompt', 'durationS'] },
);
const goodJob = fc.record(
  {
    jobId: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,20}$/),
    clipPrompts: fc.array(goodClip, { minLength: 1, maxLength: 6 }).map((clips) => clips.map((c, i) => ({ clipIndex: i, ...c }))),
    options: fc.record(
      {
        concurrency: fc.integer({ min: 1, max: 100 }),
        minClips: fc.constant(1),
        budgetUsd: fc.double({ min: 0.01, max: 100_000, noNaN: true }),
      },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: ['jobId', 'clipPrompts'] },
);

/** One change to a job: a field replaced by anything, a nasty string or number, removed, or an unknown key added. */
const mutation = fc.record({
  at: fc.nat(),
  field: fc.nat(),
  kind: fc.constantFrom('any', 'text', 'number', 'delete', 'unknown key'),
  value: fc.oneof(anyJson, nastyText, nastyNumber),
  key,
});

function mutate(
  job: Record<string, unknown>,
  changes: { at: number; field: number; kind: string; value: unknown; key: string }[],
): unknown {
  const copy = structuredClone(job);
  const objects = [copy, ...(Array.isArray(copy.clipPrompts) ? copy.clipPrompts : []), ...(copy.options ? [copy.options] : [])] as Record<
    string,
    unknown
  >[];
  for (const change of changes) {
    const target = objects[change.at % objects.length]!;
    const keys = Object.keys(target);
    const name = keys[change.field % Math.max(1, keys.length)] ?? 'x';
    if (change.kind === 'delete') delete target[name];
    else if (change.kind === 'unknown key')
      Object.defineProperty(target, change.key, { value: change.value, enumerable: true, writable: true, configurable: true });
    else target[name] = change.value;
  }
  return copy;
}

const nearlyGoodJob = fc.tuple(goodJob, fc.array(mutation, { maxLength: 3 })).map(([j, changes]) => mutate(j, changes));

/** Many clips, each wrong in several ways: the size that once made a failure too large for Temporal. */
const manyBadClips = fc.integer({ min: 4998, max: 5002 }).map((n) => ({
  jobId: 'many',
  clipPrompts: Array.from({ length: n }, (_, i) => ({ clipIndex: -i, prompt: '\u0007', durationS: 0, aspectRatio: '5:4', Junk: i })),
}));

/** As the workflow gets it: through the JSON payload converter. */
const wire = fc
  .oneof({ weight: 40, arbitrary: anyJson }, { weight: 200, arbitrary: nearlyGoodJob }, { weight: 1, arbitrary: manyBadClips })
  .map((value) => JSON.parse(JSON.stringify(value) ?? 'null'));

/** The invariants the workflow relies on once the input is accepted. */
function expectRunnable(j: ValidJob, limits: ClipLimits | undefined): void {
  expect(Object.keys(j).every((k) => ['jobId', 'clipPrompts', 'options'].includes(k))).toBe(true);
  expect(j.jobId).toMatch(JOB_ID_PATTERN);
  expect(j.jobId.length).toBeLessThanOrEqual(128);
  expect(j.clipPrompts.length).toBeGreaterThanOrEqual(1);
  expect(j.clipPrompts.length).toBeLessThanOrEqual(MAX_CLIPS_CEILING);
  expect(new Set(j.clipPrompts.map((c) => c.clipIndex)).size).toBe(j.clipPrompts.length);
  for (const c of j.clipPrompts) {
    expect(
      Object.keys(c).every((k) => ['clipIndex', 'prompt', 'negativePrompt', 'durationS', 'aspectRatio', 'sceneReferenceUrl'].includes(k)),
    ).toBe(true);
    expect(Number.isSafeInteger(c.clipIndex) && c.clipIndex >= 0 && c.clipIndex < MAX_CLIPS_CEILING).toBe(true);
    expect(c.prompt).toBe(c.prompt.trim());
    expect(c.prompt.length).toBeGreaterThan(0);
    expect(c.prompt.length).toBeLessThanOrEqual(MAX_PROMPT_CHARS);
    expect(hasVisibleText(c.prompt)).toBe(true);
    expect(findControlCharacter(c.prompt)).toBeUndefined();
    if (c.negativePrompt !== undefined) expect(findControlCharacter(c.negativePrompt)).toBeUndefined();
    expect(Number.isFinite(c.durationS) && c.durationS > 0 && c.durationS <= MAX_CLIP_DURATION_S).toBe(true);
    expect(AspectRatio.options).toContain(c.aspectRatio);
    if (c.sceneReferenceUrl !== undefined) expect(['http:', 'https:']).toContain(new URL(c.sceneReferenceUrl).protocol);
    if (limits) {
      expect(c.durationS).toBeGreaterThanOrEqual(limits.minDurationS);
      expect(c.durationS).toBeLessThanOrEqual(limits.maxDurationS);
      if (limits.durationsS) expect(limits.durationsS).toContain(c.durationS);
      if (limits.aspectRatios) expect(limits.aspectRatios).toContain(c.aspectRatio);
    }
  }
  const o = j.options;
  if (o?.concurrency !== undefined) expect(Number.isInteger(o.concurrency) && o.concurrency >= 1 && o.concurrency <= 100).toBe(true);
  if (o?.minClips !== undefined) expect(Number.isInteger(o.minClips) && o.minClips >= 1 && o.minClips <= j.clipPrompts.length).toBe(true);
  if (o?.budgetUsd !== undefined) expect(Number.isFinite(o.budgetUsd) && o.budgetUsd > 0 && o.budgetUsd <= 100_000).toBe(true);
  // What the workflow hands its activities survives the payload converter unchanged.
  expect(JSON.parse(JSON.stringify(j))).toEqual(j);
}

/** A refusal: InvalidInput, never retried, bounded and printable, naming each field it lists. */
function expectRefusal(err: unknown): void {
  expect(err).toBeInstanceOf(ApplicationFailure);
  const failure = err as ApplicationFailure;
  expect(failure.type).toBe('InvalidInput');
  expect(failure.nonRetryable).toBe(true);
  expect(failure.message.startsWith('invalid input: ')).toBe(true);
  expect(failure.message.length).toBeLessThanOrEqual(MAX_MESSAGE_CHARS);
  expect(failure.message).not.toMatch(RAW_CONTROL);
  const details = failure.details?.[0] as { fields: string[]; problems: number };
  expect(details.fields.length).toBeGreaterThanOrEqual(1);
  expect(details.fields.length).toBeLessThanOrEqual(10);
  expect(details.problems).toBeGreaterThanOrEqual(details.fields.length);
  for (const f of details.fields) expect(failure.message).toContain(`${f || '(input)'}: `);
}

describe('the job input, for any JSON value', () => {
  it(`is accepted and runnable, or refused as a bounded InvalidInput naming fields (${RUNS} cases)`, () => {
    let accepted = 0;
    fc.assert(
      fc.property(wire, fc.constantFrom(...LIMITS), (input, limits) => {
        let j: ValidJob;
        try {
          // No generated value names a clip list: every accepted job holds its clips.
          j = validateJob(input) as ValidJob;
          if (limits) validateJobLimits(input, { clipLimits: limits });
        } catch (err) {
          expectRefusal(err);
          return;
        }
        accepted++;
        expectRunnable(j, limits);
        // A replay parses the same input again: the same job comes out.
        expect(validateJob(input)).toEqual(j);
      }),
      { numRuns: RUNS },
    );
    // Enough inputs got through for the invariants to have been tried.

    expect(accepted).toBeGreaterThan(RUNS / 50);
  });
});

describe('job files, for any content', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'clipflow-prop-'));
  });

  it('give a job or printable problems, never an exception (500 cases)', async () => {
    const content = fc.oneof(
      nearlyGoodJob.map((v) => ({ name: 'job.json', bytes: Buffer.from(JSON.stringify(v)) })),
      nearlyGoodJob.map((v) => ({ name: 'job.yaml', bytes: Buffer.from(toYaml(v)) })),
      anyJson.map((v) => ({ name: 'any.yml', bytes: Buffer.from(toYaml(v)) })),
      fc.string({ unit: 'binary', maxLength: 200 }).map((s) => ({ name: 'text.json', bytes: Buffer.from(`\ufeff${s}`) })),
      fc.uint8Array({ maxLength: 200 }).map((b) => ({ name: 'bytes.yaml', bytes: Buffer.from(b) })),
    );
    let n = 0;
    let jobs = 0;
    await fc.assert(
      fc.asyncProperty(content, async ({ name, bytes }) => {
        const file = path.join(dir, `${n++}-${name}`);
        await writeFile(file, bytes);
        const checked = await checkJobFile(file, { jobId: 'prop-job' });
        if (checked.job) {
          jobs++;
          expect(checked.problems).toEqual([]);
          expectRunnable(checked.job, undefined);
        } else {
          expect(checked.problems.length).toBeGreaterThan(0);
          for (const p of checked.problems) {
            expect(`${p.field}${p.message}`).not.toMatch(RAW_CONTROL);
            expect(p.message.length).toBeLessThanOrEqual(400);
          }
        }
      }),
      { numRuns: 500 },
    );

    expect(jobs).toBeGreaterThan(0);
  });
});
