export { generateClips } from './generate-clips.js';
export { generateClipsBatch } from './generate-clips-batch.js';
export { providerAccountSlots } from './account-slots.js';
