/**
 * generateClips, generateClipsBatch and providerAccountSlots with one deliberate non-deterministic change: a timer
 * before the real work. Replaying a recorded history against them must fail; that proves the
 * replay tests can fail.
 */
import { sleep } from '@temporalio/workflow';
import type { AccountSlotsState } from '../../src/shared/account-slots.js';
import type { BatchInput } from '../../src/shared/activity-io.js';
import type { JobInput } from '../../src/shared/model.js';
import { providerAccountSlots as recordedSlots } from '../../src/workflows/account-slots.js';
import { generateClipsBatch as recordedBatch } from '../../src/workflows/generate-clips-batch.js';
import { generateClips as recorded } from '../../src/workflows/generate-clips.js';

export async function generateClips(input: JobInput) {
  await sleep('1 second');
  return recorded(input);
}

export async function generateClipsBatch(input: BatchInput) {
  await sleep('1 second');
  return recordedBatch(input);
}

export async function providerAccountSlots(state: AccountSlotsState) {
  await sleep('1 second');
  return recordedSlots(state);
}
