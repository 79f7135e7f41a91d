import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** ffmpeg/ffprobe from the npm packages that carry them; PATH when a package is missing. */
function fromPackage(name: string, fallback: string): string {
  try {
    return (require(name) as { path: string }).path;
  } catch {
    return fallback;
  }
}

export interface MediaBinaries {
  ffmpeg: string;
  ffprobe: string;
}

export function mediaBinaries(): MediaBinaries {
  return {
    ffmpeg: fromPackage('@ffmpeg-installer/ffmpeg', 'ffmpeg'),
    ffprobe: fromPackage('@ffprobe-installer/ffprobe', 'ffprobe'),
  };
}
