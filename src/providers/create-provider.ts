import type { Config } from '../config.js';
import type { MediaBinaries } from '../media/binaries.js';
import { createLocalProvider } from './local.js';
import type { VideoProvider } from './provider.js';

/** The provider the configuration names. */
export function createProvider(config: Pick<Config, 'generation' | 'local' | 'replicate'>, media: MediaBinaries): VideoProvider {
  switch (config.generation.provider) {
    case 'local':
      return createLocalProvider({ ffmpeg: media.ffmpeg, faults: config.local.faults, delayMs: config.local.delayMs });
    case 'replicate':
      throw new Error('the replicate provider is not available in this build');
  }
}
