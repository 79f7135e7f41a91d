import { readFile } from 'node:fs/promises';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { quietRuntime, workflowBundle } from './support/env.js';

/**
 * Histories recorded by the workflow code before a patched() change, replayed against today's:
 * a job in flight when a worker is upgraded must go on. (Not in fixtures/*.history.json, which
 * `npm run record-histories` records anew with today's code.)
 */
describe('replaying histories recorded before a patch', () => {
  it('a job cancelled with clips not started, from before progress counted them', async () => {
    quietRuntime();
    const file = new URL('./fixtures/cancelled-before-not-started-count.json', import.meta.url);
    const history = historyFromJSON(JSON.parse(await readFile(file, 'utf8')));
    const events = history.events ?? [];
    // The job was cancelled with clips still waiting, and no patch marker is on record.
    expect(events.at(-1)?.workflowExecutionCanceledEventAttributes).toBeTruthy();
    expect(events.some((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch')).toBe(false);
    const outcomes = [];
    for await (const outcome of Worker.runReplayHistories({ workflowBundle: await workflowBundle() }, [
      { workflowId: 'cancelled', history },
    ])) {
      outcomes.push(outcome);
    }
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]?.error).toBeUndefined();
  });
});
