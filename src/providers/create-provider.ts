import type { MediaBinaries } from '../media/binaries.js';
import { createFalPikaProvider, pikaModelLimits, type FalPikaProviderOptions } from './fal-pika.js';
import { createLocalProvider, type LocalProviderOptions } from './local.js';
import { createReplicateProvider, replicateModelLimits, type ReplicateProviderOptions } from './replicate.js';
import { createRunwayProvider, runwayModelLimits, type RunwayProviderOptions } from './runway.js';
import type { ModelLimits, VideoProvider } from './provider.js';

/** A provider and its options, as plain values: the configuration (or a test) decides them. */
export type ProviderChoice =
  | { provider: 'local'; options: Omit<LocalProviderOptions, 'ffmpeg'> }
  | { provider: 'replicate'; options: ReplicateProviderOptions }
  | { provider: 'runway'; options: RunwayProviderOptions }
  | { provider: 'pika'; options: FalPikaProviderOptions };

export type ProviderName = ProviderChoice['provider'];

export function createProvider(choice: ProviderChoice, media: MediaBinaries): VideoProvider {
  switch (choice.provider) {
    case 'local':
      return createLocalProvider({ ffmpeg: media.ffmpeg, ...choice.options });
    case 'replicate':
      return createReplicateProvider(choice.options);
    case 'runway':
      return createRunwayProvider(choice.options);
    case 'pika':
      return createFalPikaProvider(choice.options);
  }
}

/**
 * What `model` of `provider` makes, known before paying for it. The local provider renders every
 * aspect ratio and duration at the configured short side.
 */
export function modelLimits(provider: ProviderName, model: string, localShortSide: number): ModelLimits {
  switch (provider) {
    case 'local':
      return { shortSidePx: localShortSide };
    case 'replicate':
      return replicateModelLimits(model);
    case 'runway':
      return runwayModelLimits(model);
    case 'pika':
      return pikaModelLimits(model);
  }
}
