import { existsSync } from 'node:fs';

const FONT_CANDIDATES = [
  '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf',
  '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
  '/System/Library/Fonts/Supplemental/Arial.ttf',
];

/** A font file for ffmpeg's drawtext, when this machine has one of the usual ones. */
export function findFont(): string | undefined {
  return FONT_CANDIDATES.find((f) => existsSync(f));
}
