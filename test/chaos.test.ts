/**
 * Durability under random worker kills, seeded so that a failure can be rerun with the same
 * schedule (`CHAOS_SEED=<seed> npx vitest run test/chaos.test.ts`). The longer variant is
 * `npm run chaos`. Kills land anywhere, also between a provider's create and the heartbeat that
 * records its id: the next attempt finds that prediction at the provider instead of paying again.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { runChaos } from './support/chaos.js';
import { quietRuntime } from './support/env.js';

beforeAll(() => quietRuntime());

const seed = Number(process.env.CHAOS_SEED ?? Date.now() % 100_000);

describe('a 12-clip job while its worker is SIGKILLed at random moments', () => {
  it(`completes, creates and pays each clip once, and replays (seed ${seed})`, { timeout: 300_000 }, async () => {
    const outcome = await runChaos({
      seed,
      clips: 12,
      kills: 8,
      restartServer: true,
      log: (line) => console.log(line),
    });
    console.log(
      `chaos seed ${seed}: ${outcome.kills.length} kills, server restarted: ${outcome.serverRestarted}, ${outcome.seconds.toFixed(1)} s`,
    );

    expect(outcome.kills.length).toBeGreaterThanOrEqual(4);
    expect(outcome.result.successfulClips).toBe(12);
    expect(outcome.result.failures).toEqual([]);
    // One prediction per clip at the provider: no kill made a clip pay twice.
    expect(outcome.createsPerClip).toEqual(Array(12).fill(1));
    // One cost entry per clip, keyed by its one prediction.
    expect(outcome.costEntries.map(([clipIndex]) => clipIndex).sort((a, b) => a - b)).toEqual([...Array(12).keys()]);
    expect(new Set(outcome.costEntries.map(([, key]) => key)).size).toBe(12);
    expect(outcome.result.totalCostMicroUsd).toBe(12 * 50_000);
    // Every workflow task the killed workers ran issues the same commands on replay.
    expect(outcome.replayError).toBeUndefined();
  });
});
