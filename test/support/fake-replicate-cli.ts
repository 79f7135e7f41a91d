import { runFakeCli } from './fake-provider-cli.js';
import { startFakeReplicate } from './fake-replicate.js';

/**
 * Runs the fake Replicate API until SIGINT/SIGTERM, for trying the worker against it by hand:
 *   tsx test/support/fake-replicate-cli.ts [port]      (or FAKE_REPLICATE_PORT; default 8787)
 * Token: FAKE_REPLICATE_TOKEN (default r8_fake_token). Latency: FAKE_REPLICATE_LATENCY_MS.
 * Then: REPLICATE_BASE_URL=<printed URL> REPLICATE_API_TOKEN=<token> VIDEO_PROVIDER=replicate ...
 */
const latency = process.env.FAKE_REPLICATE_LATENCY_MS;
await runFakeCli('replicate', 8787, async (port) => {
  const token = process.env.FAKE_REPLICATE_TOKEN ?? 'r8_fake_token';
  const host = process.env.FAKE_REPLICATE_HOST ?? '127.0.0.1';
  const fake = await startFakeReplicate({ token, port, host, ...(latency ? { latencyMs: Number(latency) } : {}) });
  return { ...fake, summary: () => `${fake.creates.length} creates, ${fake.cancels.length} cancels` };
});
