/**
 * Job files as a person writes them (JSON or YAML, a BOM, any file name) and as a careless or
 * hostile one does (control bytes, megabyte values), and `clipflow validate`, which checks a file as
 * the workflow will. No Temporal server: validate needs none, and generate refuses a bad file
 * before it connects to anything.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readJobFile, UsageError } from '../src/cli/job-file.js';
import { clipPrompts } from './support/env.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'clipflow-job-file-'));
});

async function jobFile(name: string, body: unknown): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body));
  return file;
}

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** The CLI as a person runs it; Temporal's address leads nowhere, so only what needs no server can succeed. */
function cli(args: string[], env: Record<string, string> = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', ...args],
      {
        env: {
          ...process.env,
          TEMPORAL_ADDRESS: '127.0.0.1:9',
          CLIPFLOW_DATA_DIR: path.join(dir, 'data'),
          OUTPUT_DIR: path.join(dir, 'out'),
          ...env,
        },
        timeout: 60_000,
        maxBuffer: 50_000_000,
      },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
    );
  });
}

async function refusal(file: string): Promise<string> {
  const err = await readJobFile(file).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(UsageError);
  return (err as Error).message;
}

/** ESC, BEL, NUL and the other C0/C1 controls, raw. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: what must never reach a terminal
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

describe('job files', () => {
  it('a UTF-8 byte order mark is not an error', async () => {
    const file = await jobFile('bom.json', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(clipPrompts(2)))]));
    const job = await readJobFile(file, 'with-bom');
    expect(job.clipPrompts.map((c) => c.clipIndex)).toEqual([0, 1]);
  });

  it('YAML job files are read as JSON ones are, with the same rules', async () => {
    const yaml = [
      'jobId: from-yaml',
      'clipPrompts:',
      '  - clipIndex: 0',
      '    prompt: |',
      '      a harbour at dawn,',
      '      mist on the water',
      '    durationS: 2',
      '    aspectRatio: "9:16"',
      'options: { minClips: 1 }',
      '',
    ].join('\n');
    const job = await readJobFile(await jobFile('job.yaml', yaml));
    expect(job).toMatchObject({ jobId: 'from-yaml', options: { minClips: 1 } });
    expect(job.clipPrompts[0]).toMatchObject({ prompt: 'a harbour at dawn,\nmist on the water', durationS: 2, aspectRatio: '9:16' });

    expect(await refusal(await jobFile('broken.yml', 'clipPrompts: [\n  - {'))).toMatch(
      /^job file .*broken\.yml is not valid YAML at line \d+, column \d+: /,
    );
    expect(await refusal(await jobFile('twice.yaml', 'jobId: a\njobId: b\nclipPrompts: []\n'))).toContain('is not valid YAML');
    expect(await refusal(await jobFile('tagged.yaml', 'clipPrompts: !!js/function "x"\n'))).toContain('is not valid YAML');
    // An alias bomb is refused, not expanded.
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      ...Array.from({ length: 8 }, (_, i) => `${'bcdefghi'[i]}: &${'bcdefghi'[i]} [${Array(10).fill(`*${'abcdefgh'[i]}`).join(', ')}]`),
      'clipPrompts: *i',
      '',
    ].join('\n');
    expect(await refusal(await jobFile('bomb.yaml', bomb))).toContain('is not valid YAML');
  });

  it('a file name with spaces and brackets gives a job id, not an error about one', async () => {
    const file = await jobFile('my clips (v2) ✨.json', { clipPrompts: clipPrompts(1) });
    const job = await readJobFile(file, undefined, new Date('2026-11-23T20:28:37Z'));
    expect(job.jobId).toBe('my-clips-v2-20261123-202837');
    const odd = await readJobFile(await jobFile('--- .json', { clipPrompts: clipPrompts(1) }), undefined, new Date('2026-11-23T20:28:37Z'));
    expect(odd.jobId).toBe('job-20261123-202837');
  });

  it('control bytes from a bad file reach the terminal escaped', async () => {
    const escapes = await jobFile('escapes.json', '{"clipPrompts": [\u001b[2J\u001b]0;owned\u0007');
    const out = await cli(['generate', escapes]);
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(/^clipflow: job file .*escapes\.json is not valid JSON: /);
    expect(out.stderr.trimEnd()).not.toMatch(RAW_CONTROL);
    expect(out.stderr).toContain('\\x1b');
  });

  it('a value echoed back is capped, however long', async () => {
    // A megabyte-long key, with an escape sequence in it, where only known keys belong.
    const huge = await jobFile('huge.json', { clipPrompts: clipPrompts(1), options: { [`\u001b[31m${'k'.repeat(1_000_000)}`]: 1 } });
    const refused = await cli(['generate', huge]);
    expect(refused.code).toBe(2);
    expect(refused.stderr.length).toBeLessThan(2_000);
    expect(refused.stderr).toContain('options: unknown key "\\x1b[31mkkk');
    expect(refused.stderr).toContain('more characters)');
    expect(refused.stderr.trimEnd()).not.toMatch(RAW_CONTROL);
  });
});

describe('clipflow validate', () => {
  it('passes a good file: exit 0, one line naming the job', async () => {
    const file = await jobFile('good.json', { jobId: 'good-one', clipPrompts: clipPrompts(3) });
    const out = await cli(['validate', file]);
    expect(out).toMatchObject({ code: 0, stderr: '' });
    expect(out.stdout.trim()).toBe(`${file}: ok: job good-one, 3 clips, for the local provider (clipflow/local-ffmpeg)`);
    const json = await cli(['validate', file, '--json']);
    expect(JSON.parse(json.stdout)).toEqual({ file, ok: true, jobId: 'good-one', clips: 3, problems: [], problemCount: 0 });
  });

  it('prints each problem on its own line, with what this environment accepts, and exits 2', async () => {
    const file = await jobFile('bad.json', {
      clipPrompts: [
        { clipIndex: 0, prompt: 'fine', durationS: 2 },
        { clipIndex: 1, prompt: 'too short', durationS: 0.5 },
        { clipIndex: 2, prompt: 'a\u0000b', durationS: 2, SceneReferenceURL: 'https://example.com/a.png' },
      ],
    });
    const out = await cli(['validate', file]);
    expect(out.code).toBe(2);
    expect(out.stdout.trimEnd().split('\n')).toEqual([
      `${file}: clipPrompts[1].durationS: is 0.5 s but clips under 1 s never pass this environment's validation (allowed: 1 to 60 s)`,
      `${file}: clipPrompts[2].prompt: must not contain control characters (found U+0000 at character 2)`,
      `${file}: clipPrompts[2]: unknown key "SceneReferenceURL" (did you mean "sceneReferenceUrl"?)`,
    ]);
    const json = JSON.parse((await cli(['validate', file, '--json'])).stdout);
    expect(json).toMatchObject({ file, ok: false, problemCount: 3 });
    expect(json.problems[0]).toEqual({
      field: 'clipPrompts[1].durationS',
      message: "is 0.5 s but clips under 1 s never pass this environment's validation (allowed: 1 to 60 s)",
    });
  });

  it('checks what the configured provider and model accept', async () => {
    const file = await jobFile('square.json', { clipPrompts: [{ clipIndex: 0, prompt: 'a square', durationS: 5, aspectRatio: '1:1' }] });
    const wan = await cli(['validate', file], { VIDEO_PROVIDER: 'replicate', VIDEO_MODEL: 'wavespeedai/wan-2.1-t2v-720p' });
    expect(wan.code).toBe(2);
    expect(wan.stdout.trim()).toBe(
      `${file}: clipPrompts[0].aspectRatio: is 1:1 but replicate model wavespeedai/wan-2.1-t2v-720p does not make it (allowed: 16:9, 9:16)`,
    );
    // A model whose frames can never pass validation here fails every job: said once, before any.
    const small = await cli(['validate', file], { VIDEO_PROVIDER: 'replicate', VIDEO_MODEL: 'wan-video/wan-2.1-t2v-480p' });
    expect(small.code).toBe(2);
    expect(small.stdout).toContain('(environment): replicate model wan-video/wan-2.1-t2v-480p makes frames with a 480 px short side');
  });

  it('bounds its output: a 5,000-clip file with every clip wrong prints 50 problems and counts the rest', async () => {
    const file = await jobFile(
      'huge-bad.json',
      Array.from({ length: 5000 }, (_, i) => ({ clipIndex: i, prompt: '', durationS: 0 })),
    );
    const out = await cli(['validate', file]);
    expect(out.code).toBe(2);
    const lines = out.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(51);
    expect(lines[50]).toBe(`${file}: and 9950 more problems (10000 in all)`);
  });

  it('generate runs the same check before it starts anything', async () => {
    // Temporal's address leads nowhere: a refusal here was made before connecting.
    const file = await jobFile('short.json', { clipPrompts: [{ clipIndex: 0, prompt: 'a blink', durationS: 0.5 }] });
    const out = await cli(['generate', file]);
    expect(out.code).toBe(2);
    expect(out.stdout).toBe('');
    expect(out.stderr.trim()).toBe(
      `clipflow: job file ${file}: clipPrompts[0].durationS: is 0.5 s but clips under 1 s never pass this environment's validation (allowed: 1 to 60 s)`,
    );
  });
});
