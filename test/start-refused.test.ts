/** A start the server refuses names the server's reason, not only the SDK's "Failed to start Workflow". */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClipflowClient } from '../src/client.js';
import type { DevServer } from '../src/dev-server/start-dev-server.js';
import { clipPrompts, startTestServer, uniqueName } from './support/env.js';

let server: DevServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.stop();
});

describe('a start the server refuses', () => {
  it('says why: a start input over the server’s blob size limit', async () => {
    // 600 clips with prompts of 2,000 characters and negative prompts of 2,000: about 2.4 MB of input,
    // sent whole by a client without a store (one with a store sends the clip list's URI instead).
    const long = 'a slow pan over a neon city '.repeat(72).slice(0, 2_000);
    const clips = clipPrompts(600, 2, () => ({ prompt: long, negativePrompt: long }));
    const clipflow = createClipflowClient(server.env.client, { taskQueue: uniqueName('refused') });
    const jobId = uniqueName('too-big');

    const err = await clipflow.start({ jobId, clipPrompts: clips }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );

    expect(err?.message).toMatch(new RegExp(`^the server refused to start job ${jobId}: .*[Bb]lob (data )?size`));
  });
});
