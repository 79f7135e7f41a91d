import { Context, log } from '@temporalio/activity';
import { downloadImage as defaultDownload } from '../media/image-download.js';
import type { ActivityDeps } from './deps.js';
import { referenceImageBase } from '../store/paths.js';
import type { PrepareImageInput, PreparedImage } from '../shared/activity-io.js';

/**
 * Fetches a clip's reference image. Never fails the clip: on any problem the clip goes ahead
 * text-only and the reason travels to the report.
 */
export function createPrepareImage({ config, downloadImage = defaultDownload }: Pick<ActivityDeps, 'config' | 'downloadImage'>) {
  return async function prepareImage({ jobId, clipIndex, url }: PrepareImageInput): Promise<PreparedImage> {
    try {
      const image = await downloadImage(url, referenceImageBase(config.outputDir, jobId, clipIndex), config.image, {
        signal: Context.current().cancellationSignal,
      });
      log.info('reference image prepared', { jobId, clipIndex, path: image.path, sizeBytes: image.sizeBytes });
      return { ok: true, path: image.path };
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      log.warn('reference image not used; the clip goes ahead text-only', { jobId, clipIndex, reason });
      return { ok: false, reason };
    }
  };
}
