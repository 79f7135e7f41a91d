import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createFixedLatencyProvider, type FixedLatencyProvider } from '../../bench/fixed-latency-provider.js';
import { renderSampleClip } from '../../bench/sample-clip.js';
import type { DevServer } from '../../src/dev-server/start-dev-server.js';
import { testConfig } from './env.js';
import { harness, type Harness } from './job-runner.js';

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

export { jobWorkflows, type WorkflowFigures } from '../../bench/job-histories.js';
