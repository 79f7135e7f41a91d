import type { Config } from '../config/index.js';
import type { CostTracker } from '../cost/tracker.js';
import type { downloadImage } from '../media/image-download.js';
import type { ContentCheck } from '../media/content-check.js';
import type { FrameMaker } from '../media/frames.js';
import type { Probe } from '../media/probe.js';
import type { VideoProvider } from '../providers/provider.js';
import type { ArtifactStore } from '../store/artifact-store.js';
import type { ActivityTelemetry } from '../telemetry/activity-telemetry.js';

/** Everything the activities touch, passed in so tests can hand in fakes. */
export interface ActivityDeps {
  /** The primary provider (VIDEO_PROVIDER). */
  provider: VideoProvider;
  /** Every other provider this worker serves (the fallback's), by name, each polled at its own interval. */
  providers?: Readonly<Record<string, { provider: VideoProvider; pollIntervalMs: number; account?: string }>>;
  probe: Probe;
  /** Decodes a clip to its end looking for black and frozen stretches (thresholds from config.contentChecks). */
  contentCheck: ContentCheck;
  /** Posters, strips and the contact sheet. */
  frames: FrameMaker;
  costTracker: CostTracker;
  /** Where reference images, clips and reports go; activities pass each other its URIs. */
  store: ArtifactStore;
  config: Pick<Config, 'environment' | 'job' | 'generation' | 'accountLimits' | 'prices' | 'image'> & {
    temporal: Pick<Config['temporal'], 'searchAttributes' | 'uiBaseUrl'>;
  };
  /** How often a running prediction is polled (and the activity heartbeats). */
  pollIntervalMs: number;
  downloadImage?: typeof downloadImage;
  /** Metrics and spans; without it the activities record into a registry nobody serves. */
  telemetry?: ActivityTelemetry;
}
