import { describeBook, runFakeCli } from './fake-provider-cli.js';
import { startFakeRunway } from './fake-runway.js';

/**
 * The fake Runway API by hand: `npm run fake-runway [port]` (default 8788). Token:
 * FAKE_RUNWAY_TOKEN (default key_fake_runway); latency FAKE_RUNWAY_LATENCY_MS. Then:
 * VIDEO_PROVIDER=runway RUNWAYML_BASE_URL=<printed URL> RUNWAYML_API_SECRET=<token> ...
 */
const latency = process.env.FAKE_RUNWAY_LATENCY_MS;
await runFakeCli('runway', 8788, async (port) => {
  const token = process.env.FAKE_RUNWAY_TOKEN ?? 'key_fake_runway';
  const fake = await startFakeRunway({ token, port, ...(latency ? { latencyMs: Number(latency) } : {}) });
  return { ...fake, summary: () => describeBook(fake.book) };
});
