import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { DeterminismViolationError } from '@temporalio/workflow';
import { bundleWorkflowCode, Worker, DefaultLogger, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { quietRuntime, workflowBundle } from './support/env.js';

const fixtures = new URL('./fixtures/', import.meta.url);

async function histories() {
  const names = (await readdir(fixtures)).filter((f) => f.endsWith('.history.json')).sort();
  return Promise.all(
    names.map(async (name) => ({
      workflowId: name,
      history: historyFromJSON(JSON.parse(await readFile(new URL(name, fixtures), 'utf8'))),
    })),
  );
}

async function replayAll(bundle: WorkflowBundleWithSourceMap) {
  const outcomes: { workflowId: string; error?: unknown }[] = [];
  for await (const result of Worker.runReplayHistories({ workflowBundle: bundle }, await histories())) outcomes.push(result);
  return outcomes;
}

describe('replaying recorded histories', () => {
  beforeAll(() => quietRuntime());

  it('has the crash, happy and partial paths on record', async () => {
    expect((await histories()).map((h) => h.workflowId)).toEqual([
      'crash-path.history.json',
      'happy-path.history.json',
      'partial-path.history.json',
    ]);
  });

  it('replays every recorded history against today’s workflow code', async () => {
    const outcomes = await replayAll(await workflowBundle());
    expect(outcomes).toHaveLength(3);
    for (const outcome of outcomes) expect(outcome.error, outcome.workflowId).toBeUndefined();
  });

  it('catches a non-deterministic change', async () => {
    const changed = await bundleWorkflowCode({
      workflowsPath: fileURLToPath(new URL('./support/nondeterministic-workflows.ts', import.meta.url)),
      logger: new DefaultLogger('ERROR'),
    });
    const outcomes = await replayAll(changed);
    expect(outcomes).toHaveLength(3);
    for (const outcome of outcomes) expect(outcome.error).toBeInstanceOf(DeterminismViolationError);
  });
});
