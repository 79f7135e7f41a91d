import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { createFixedLatencyProvider, type FixedLatencyProvider } from '../../bench/fixed-latency-provider.js';
import { profileHistory } from '../../bench/history-profile.js';
import { renderSampleClip } from '../../bench/sample-clip.js';
import type { DevServer } from '../../src/dev-server/start-dev-server.js';
import { batchWorkflowId } from '../../src/shared/names.js';
import { testConfig } from './env.js';
import { harness, type Harness } from './job-runner.js';

type History = temporal.api.history.v1.IHistory;

let sample: Promise<string> | undefined;
/** One real MP4, rendered once per test file, that every fast prediction hands out. */
function sampleClip(): Promise<string> {
  sample ??= (async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'clipflow-sample-'));
    return (await renderSampleClip(dir, (await testConfig()).generation)).file;
  })();
  return sample;
}

/** A harness whose provider answers after `latencyMs` with the sample clip: the orchestration, fast. */
export async function fastHarness(
  server: DevServer,
  env: Record<string, string>,
  latencyMs = 200,
): Promise<Harness & { provider: FixedLatencyProvider; cancelled: string[] }> {
  const provider = createFixedLatencyProvider({ latencyMs, sampleFile: await sampleClip() });
  const cancelled: string[] = [];
  const cancel = provider.cancel.bind(provider);
  provider.cancel = async (id) => {
    cancelled.push(id);
    return cancel(id);
  };
  const h = await harness(server, env, (deps) => ({ ...deps, provider }));
  return { ...h, provider, cancelled };
}

export interface WorkflowFigures {
  workflowId: string;
  status: string;
  events: number;
  largestPayloadBytes: number;
  largestPayloadWhere: string;
  history: History;
}

/** The parent and each batch (`<parent>-batch-<n>`) of a job: status, events, largest payload. */
export async function jobWorkflows(client: Client, parentId: string, batches: number): Promise<WorkflowFigures[]> {
  const ids = [parentId, ...Array.from({ length: batches }, (_, n) => batchWorkflowId(parentId, n))];
  return Promise.all(
    ids.map(async (workflowId) => {
      const handle = client.workflow.getHandle(workflowId);
      const [description, history] = await Promise.all([handle.describe(), handle.fetchHistory()]);
      const profile = profileHistory(history);
      return {
        workflowId,
        status: description.status.name,
        events: profile.events,
        largestPayloadBytes: profile.largestPayload.bytes,
        largestPayloadWhere: profile.largestPayload.where,
        history,
      };
    }),
  );
}
