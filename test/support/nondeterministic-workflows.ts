/**
 * generateClips with one deliberate non-deterministic change: a timer before the real work.
 * Replaying a recorded history against it must fail; that proves the replay tests can fail.
 */
import { sleep } from '@temporalio/workflow';
import { generateClips as recorded } from '../../src/workflows/generate-clips.js';
import type { GenerateClipsInput } from '../../src/shared/model.js';

export async function generateClips(input: GenerateClipsInput) {
  await sleep('1 second');
  return recorded(input);
}
