import { describeBook, runFakeCli } from './fake-provider-cli.js';
import { startFakeFal } from './fake-fal.js';

/**
 * The fake fal API by hand: `npm run fake-fal [port]` (default 8789). Key: FAKE_FAL_KEY (default
 * fal_fake_key); latency FAKE_FAL_LATENCY_MS. Then: VIDEO_PROVIDER=pika FAL_BASE_URL=<printed URL>
 * FAL_KEY=<key> ...
 */
const latency = process.env.FAKE_FAL_LATENCY_MS;
await runFakeCli('fal', 8789, async (port) => {
  const fake = await startFakeFal({
    key: process.env.FAKE_FAL_KEY ?? 'fal_fake_key',
    port,
    ...(latency ? { latencyMs: Number(latency) } : {}),
  });
  return { ...fake, summary: () => describeBook(fake.book) };
});
