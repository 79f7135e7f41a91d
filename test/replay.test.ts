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
    names.map(async (name) => {
      const history = historyFromJSON(JSON.parse(await readFile(new URL(name, fixtures), 'utf8')));
      // Replayed under the id it ran with: a job's batches' ids derive from it.
      const recordedId = history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowId;
      return { file: name, workflowId: recordedId || name, history };
    }),
  );
}

async function replayAll(bundle: WorkflowBundleWithSourceMap) {
  const all = await histories();
  const fileOf = new Map(all.map((h) => [h.workflowId, h.file]));
  const outcomes: { workflowId: string; error?: unknown }[] = [];
  for await (const result of Worker.runReplayHistories({ workflowBundle: bundle }, all)) {
    outcomes.push({ ...result, workflowId: fileOf.get(result.workflowId) ?? result.workflowId });
  }
  return outcomes;
}

describe('replaying recorded histories', () => {
  beforeAll(() => quietRuntime());

  it('has the crash, happy and partial paths on record, and a job in batches (its parent and a batch)', async () => {
    expect((await histories()).map((h) => h.file)).toEqual([
      'batched-path-batch.history.json',
      'batched-path.history.json',
      'crash-path.history.json',
      'happy-path.history.json',
      'partial-path.history.json',
    ]);
  });

  it('replays every recorded history against today’s workflow code', async () => {
    const outcomes = await replayAll(await workflowBundle());
    expect(outcomes).toHaveLength(5);
    for (const outcome of outcomes) expect(outcome.error, outcome.workflowId).toBeUndefined();
  });

  it('catches a non-deterministic change', async () => {
    const changed = await bundleWorkflowCode({
      workflowsPath: fileURLToPath(new URL('./support/nondeterministic-workflows.ts', import.meta.url)),
      logger: new DefaultLogger('ERROR'),
    });
    const outcomes = await replayAll(changed);
    expect(outcomes).toHaveLength(5);
    for (const outcome of outcomes) expect(outcome.error).toBeInstanceOf(DeterminismViolationError);
  });
});
