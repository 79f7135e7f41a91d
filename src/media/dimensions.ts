import type { AspectRatio } from '../shared/model.js';

/** Frame size for an aspect ratio whose short side is `shortSide` (both sides even, as H.264 needs). */
export function frameSize(aspectRatio: AspectRatio, shortSide: number): { width: number; height: number } {
  const [w, h] = aspectRatio.split(':').map(Number) as [number, number];
  const even = (n: number) => Math.round(n / 2) * 2;
  const short = even(shortSide);
  return w >= h ? { width: even((short * w) / h), height: short } : { width: short, height: even((short * h) / w) };
}
