import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { DeterminismViolationError } from '@temporalio/workflow';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { bundleWorkflowCode, Worker, DefaultLogger, type WorkerOptions, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { startTracing, WORKFLOW_TRACING_MODULE, workerTracing } from '../src/telemetry/tracing.js';
import { WORKFLOWS_PATH } from '../src/worker.js';
import { quietRuntime, workflowBundle } from './support/env.js';

const fixtures = new URL('./fixtures/', import.meta.url);
/** The histories on record (listed in the first test). */
const RECORDED = 7;

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

async function replayAll(bundle: WorkflowBundleWithSourceMap, sinks?: WorkerOptions['sinks']) {
  const all = await histories();
  const fileOf = new Map(all.map((h) => [h.workflowId, h.file]));
  const outcomes: { workflowId: string; error?: unknown }[] = [];
  for await (const result of Worker.runReplayHistories({ workflowBundle: bundle, ...(sinks ? { sinks } : {}) }, all)) {
    outcomes.push({ ...result, workflowId: fileOf.get(result.workflowId) ?? result.workflowId });
  }
  return outcomes;
}

describe('replaying recorded histories', () => {
  beforeAll(() => quietRuntime());

  it('has the crash, happy and partial paths on record, a job in batches (its parent and a batch), and a job under an account limit (and its account’s slots)', async () => {
    expect((await histories()).map((h) => h.file)).toEqual([
      'account-slots-path-slots.history.json',
      'account-slots-path.history.json',
      'batched-path-batch.history.json',
      'batched-path.history.json',
      'crash-path.history.json',
      'happy-path.history.json',
      'partial-path.history.json',
    ]);
  });

  it('replays every recorded history against today’s workflow code', async () => {
    const outcomes = await replayAll(await workflowBundle());
    expect(outcomes).toHaveLength(RECORDED);
    for (const outcome of outcomes) expect(outcome.error, outcome.workflowId).toBeUndefined();
  });

  it('replays them with the tracing interceptors in the bundle, as a traced worker would', async () => {
    const traced = await bundleWorkflowCode({
      workflowsPath: WORKFLOWS_PATH,
      workflowInterceptorModules: [WORKFLOW_TRACING_MODULE],
      logger: new DefaultLogger('ERROR'),
    });
    const tracing = startTracing({ serviceName: 'clipflow-replay', spanProcessor: new SimpleSpanProcessor(new InMemorySpanExporter()) });
    const outcomes = await replayAll(traced, workerTracing(tracing).sinks);
    await tracing.shutdown();
    expect(outcomes).toHaveLength(RECORDED);
    for (const outcome of outcomes) expect(outcome.error, outcome.workflowId).toBeUndefined();
  });

  it('catches a non-deterministic change', async () => {
    const changed = await bundleWorkflowCode({
      workflowsPath: fileURLToPath(new URL('./support/nondeterministic-workflows.ts', import.meta.url)),
      logger: new DefaultLogger('ERROR'),
    });
    const outcomes = await replayAll(changed);
    expect(outcomes).toHaveLength(RECORDED);
    for (const outcome of outcomes) expect(outcome.error).toBeInstanceOf(DeterminismViolationError);
  });
});
