import { ConfigError, type Config } from '../config.js';
import type { MediaBinaries } from '../media/binaries.js';
import { createLocalProvider } from './local.js';
import { createReplicateProvider } from './replicate.js';
import type { VideoProvider } from './provider.js';

/** The provider the configuration names. */
export function createProvider(config: Pick<Config, 'generation' | 'local' | 'replicate'>, media: MediaBinaries): VideoProvider {
  switch (config.generation.provider) {
    case 'local':
      return createLocalProvider({ ffmpeg: media.ffmpeg, faults: config.local.faults, delayMs: config.local.delayMs });
    case 'replicate': {
      const { apiToken, baseUrl, maxRetryAfterS } = config.replicate;
      if (!apiToken) throw new ConfigError('VIDEO_PROVIDER is replicate but REPLICATE_API_TOKEN is not set');
      return createReplicateProvider({ apiToken, maxRetryAfterS, ...(baseUrl ? { baseUrl } : {}) });
    }
  }
}
