import type { ClipPrompt } from '../src/shared/model.js';

/** `count` one-second 16:9 clip prompts, indexed from 0. */
export function clipPrompts(count: number, durationS = 1): ClipPrompt[] {
  return Array.from({ length: count }, (_, i) => ({
    clipIndex: i,
    prompt: `benchmark clip ${i}: a slow pan over a neon city`,
    durationS,
    aspectRatio: '16:9' as const,
  }));
}
