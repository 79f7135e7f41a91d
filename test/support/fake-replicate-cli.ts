import { startFakeReplicate } from './fake-replicate.js';

/**
 * Runs the fake Replicate API until SIGINT/SIGTERM, for trying the worker against it by hand:
 *   tsx test/support/fake-replicate-cli.ts [port]      (or FAKE_REPLICATE_PORT; default 8787)
 * Token: FAKE_REPLICATE_TOKEN (default r8_fake_token). Latency: FAKE_REPLICATE_LATENCY_MS.
 * Then: REPLICATE_BASE_URL=<printed URL> REPLICATE_API_TOKEN=<token> VIDEO_PROVIDER=replicate ...
 */
const port = Number(process.argv[2] ?? process.env.FAKE_REPLICATE_PORT ?? 8787);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`invalid port: ${process.argv[2] ?? process.env.FAKE_REPLICATE_PORT}`);
  process.exit(2);
}
const latency = process.env.FAKE_REPLICATE_LATENCY_MS;

const fake = await startFakeReplicate({
  token: process.env.FAKE_REPLICATE_TOKEN ?? 'r8_fake_token',
  port,
  host: process.env.FAKE_REPLICATE_HOST ?? '127.0.0.1',
  ...(latency ? { latencyMs: Number(latency) } : {}),
});
console.log(fake.url);

let closing = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (closing) return;
    closing = true;
    console.error(`fake replicate: ${signal}, ${fake.creates.length} creates, ${fake.cancels.length} cancels; closing`);
    fake.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
