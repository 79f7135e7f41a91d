import { setTimeout as sleep } from 'node:timers/promises';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { LogTimestamp, Runtime } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { createActivities } from '../src/activities/index.js';
import { activityLogContext, configSecrets, createJsonLogger, installRuntimeLogging, REDACTED } from '../src/logging.js';
import { createActivityDeps } from '../src/worker.js';
import { clipPrompts, testConfig } from './support/env.js';

const TOKEN = 'r8_Zq1NotARealTokenButLongEnough';
const API_KEY = 'tcld_0123456789abcdefSECRET';

interface Line {
  time: string;
  level: string;
  message: string;
  [key: string]: unknown;
}

function capture() {
  const raw: string[] = [];
  return {
    raw,
    write: (line: string) => raw.push(line),
    lines: () => raw.map((l) => JSON.parse(l) as Line),
  };
}

describe('the JSON logger', () => {
  it('writes one JSON object per line: time, level, message and the metadata', () => {
    const out = capture();
    const logger = createJsonLogger({ level: 'INFO', write: out.write });
    logger.info('clip ready', { jobId: 'j1', clipIndex: 2, attempt: 1, sizeBytes: 123n, at: new Date('2030-01-02T03:04:05Z') });
    logger.warn('multi\nline', { nested: { list: [1, 'two', { three: 3 }] }, bytes: new Uint8Array(16) });
    expect(out.raw).toHaveLength(2);
    for (const raw of out.raw) {
      expect(raw.endsWith('\n')).toBe(true);
      expect(raw.trimEnd().includes('\n')).toBe(false);
    }
    const [first, second] = out.lines();
    expect(Object.keys(first!).slice(0, 3)).toEqual(['time', 'level', 'message']);
    expect(first).toMatchObject({
      level: 'INFO',
      message: 'clip ready',
      jobId: 'j1',
      clipIndex: 2,
      attempt: 1,
      sizeBytes: '123',
      at: '2030-01-02T03:04:05.000Z',
    });
    expect(Date.parse(first!.time)).toBeGreaterThan(Date.now() - 60_000);
    expect(second).toMatchObject({
      level: 'WARN',
      message: 'multi\nline',
      nested: { list: [1, 'two', { three: 3 }] },
      bytes: '[16 bytes]',
    });
  });

  it('keeps below-level lines out and takes the time from the SDK timestamp', () => {
    const out = capture();
    const logger = createJsonLogger({ level: 'WARN', write: out.write });
    logger.debug('noise');
    logger.info('still noise');
    logger.trace('noise');
    const nanos = BigInt(Date.UTC(2031, 4, 6, 7, 8, 9, 10)) * 1_000_000n;
    logger.log('ERROR', 'from core', { [LogTimestamp]: nanos, sdkComponent: 'core' });
    const lines = out.lines();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toEqual({ time: '2031-05-06T07:08:09.010Z', level: 'ERROR', message: 'from core', sdkComponent: 'core' });
  });

  it('does not let metadata overwrite time, level or message', () => {
    const out = capture();
    createJsonLogger({ level: 'INFO', write: out.write }).info('real', { time: 'fake', level: 'ERROR', message: 'fake', ok: true });
    expect(out.lines()[0]).toMatchObject({ level: 'INFO', message: 'real', ok: true });
    expect(out.lines()[0]!.time).not.toBe('fake');
  });

  it('redacts the secrets it was given wherever they appear, errors and nested values included', async () => {
    const config = await testConfig({ REPLICATE_API_TOKEN: TOKEN, TEMPORAL_API_KEY: API_KEY, TEMPORAL_TLS: 'false' });
    const secrets = configSecrets(config);
    expect(secrets).toEqual(expect.arrayContaining([TOKEN, API_KEY]));
    const out = capture();
    const logger = createJsonLogger({ level: 'DEBUG', secrets, write: out.write });
    const error = new Error(`request failed: Authorization: Bearer ${TOKEN}`);
    logger.error(`calling with ${TOKEN}`, {
      headers: { authorization: `Bearer ${TOKEN}` },
      apiKey: API_KEY,
      list: [`x${API_KEY}y`],
      error,
      failure: ApplicationFailure.nonRetryable(`token ${TOKEN} refused`, 'Auth'),
      // A Secret from the configuration serializes as "[redacted]" on its own.
      configured: config.temporal.apiKey,
    });
    const [raw] = out.raw;
    expect(raw).not.toContain(TOKEN);
    expect(raw).not.toContain(API_KEY);
    const line = out.lines()[0]!;
    expect(line.message).toBe(`calling with ${REDACTED}`);
    expect(line.headers).toEqual({ authorization: `Bearer ${REDACTED}` });
    expect(line.apiKey).toBe(REDACTED);
    expect(line.list).toEqual([`x${REDACTED}y`]);
    expect(line.error).toMatchObject({ name: 'Error', message: `request failed: Authorization: Bearer ${REDACTED}` });
    expect((line.error as { stack: string }).stack).toContain('logging.test.ts');
    expect(line.failure).toMatchObject({ name: 'ApplicationFailure', type: 'Auth', message: `token ${REDACTED} refused` });
    expect(line.configured).toBe(REDACTED);
  });

  it('survives circular metadata', () => {
    const out = capture();
    const loop: Record<string, unknown> = { name: 'loop' };
    loop.self = loop;
    createJsonLogger({ level: 'INFO', write: out.write }).info('circular', { loop });
    expect(out.lines()[0]!.loop).toEqual({ name: 'loop', self: '[circular]' });
  });
});

describe('activity log lines', () => {
  it('carry jobId, clipIndex and attempt on every line of a real generateClip run, and no task token', async () => {
    const config = await testConfig({ REPLICATE_API_TOKEN: TOKEN });
    const deps = await createActivityDeps(config);
    const out = capture();
    const env = new MockActivityEnvironment(
      {
        attempt: 3,
        activityType: 'generateClip',
        workflowExecution: { workflowId: 'clipflow-log-job', runId: 'run-1' },
        workflowType: 'generateClips',
      },
      {
        logger: createJsonLogger({ level: 'DEBUG', secrets: configSecrets(config), write: out.write }),
        interceptors: [activityLogContext],
      },
    );
    try {
      const { generateClip } = createActivities(deps);
      const [clip] = clipPrompts(5, 1).slice(4);
      const result = (await env.run(generateClip, {
        jobId: 'log-job',
        clip: clip!,
        model: config.generation.model,
        maxGenerations: 3,
      })) as { clipIndex: number };
      expect(result.clipIndex).toBe(4);
    } finally {
      await deps.close();
    }
    const lines = out.lines();
    const messages = lines.map((l) => l.message);
    expect(messages).toEqual(expect.arrayContaining(['generating clip', 'prediction created', 'clip ready', 'Activity completed']));
    for (const line of lines) {
      expect(line).not.toHaveProperty('taskToken');
      // The SDK's own DEBUG "Activity started" is logged before the input reaches any interceptor:
      // it has the job (from the workflow id) and the attempt, but cannot have the clip.
      if (line.message === 'Activity started') {
        expect(line).toMatchObject({ jobId: 'log-job', attempt: 3, activityType: 'generateClip' });
        continue;
      }
      expect(line).toMatchObject({
        jobId: 'log-job',
        clipIndex: 4,
        attempt: 3,
        activityType: 'generateClip',
        workflowId: 'clipflow-log-job',
      });
    }
    expect(lines.filter((l) => l.message !== 'Activity started').length).toBeGreaterThanOrEqual(4);
    // 'prediction created' is logged with the prediction id only: the rest comes from the interceptor.
    expect(lines.find((l) => l.message === 'prediction created')).toMatchObject({
      sdkComponent: 'activity',
      predictionId: expect.any(String),
    });
  });

  it('take jobId from the workflow id for activities whose input has none, and the logged values win', async () => {
    const out = capture();
    const env = new MockActivityEnvironment(
      { attempt: 2, activityType: 'jobSettings', workflowExecution: { workflowId: 'clipflow-settings-job', runId: 'run-2' } },
      { logger: createJsonLogger({ level: 'INFO', write: out.write }), interceptors: [activityLogContext] },
    );
    await env.run(
      async (input: { clipCount: number }) => {
        Context.current().log.info('settings', { clipCount: input.clipCount });
        Context.current().log.info('explicit', { clipIndex: 9 });
      },
      { clipCount: 3 },
    );
    const [settings, explicit] = out.lines();
    expect(settings).toMatchObject({ message: 'settings', jobId: 'settings-job', attempt: 2, clipCount: 3 });
    expect(settings).not.toHaveProperty('clipIndex');
    expect(explicit).toMatchObject({ message: 'explicit', jobId: 'settings-job', attempt: 2, clipIndex: 9 });
  });
});

describe('the Runtime logger', () => {
  it('is installed by installRuntimeLogging: SDK lines come out as JSON, redacted', async () => {
    const out = capture();
    const config = await testConfig({ LOG_LEVEL: 'INFO', REPLICATE_API_TOKEN: TOKEN });
    installRuntimeLogging(config, out.write);
    const runtime = Runtime.instance();
    runtime.logger.info(`through the runtime ${TOKEN}`, { sdkComponent: 'worker' });
    runtime.logger.debug('below the level');
    // The Runtime buffers lines for ~100 ms to order them.
    for (let i = 0; i < 50 && out.raw.length === 0; i++) await sleep(50);
    const lines = out.lines();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'INFO', message: `through the runtime ${REDACTED}`, sdkComponent: 'worker' });
  });
});
