export { generateClips } from './generate-clips.js';
