import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Context, log } from '@temporalio/activity';
import { downloadImage as defaultDownload } from '../media/image-download.js';
import type { PrepareImageInput, PreparedImage } from '../shared/activity-io.js';
import { referenceImageKey } from '../store/keys.js';
import type { ActivityDeps } from './deps.js';

/**
 * Fetches a clip's reference image into the artifact store, so whichever worker generates the
 * clip can read it. Never fails the clip: on any problem the clip goes ahead text-only and the
 * reason travels to the report.
 */
export function createPrepareImage({
  config,
  store,
  downloadImage = defaultDownload,
}: Pick<ActivityDeps, 'config' | 'store' | 'downloadImage'>) {
  return async function prepareImage({ jobId, clipIndex, url }: PrepareImageInput): Promise<PreparedImage> {
    const scratch = await mkdtemp(path.join(os.tmpdir(), 'clipflow-image-'));
    try {
      const image = await downloadImage(url, path.join(scratch, 'image'), config.image, { signal: Context.current().cancellationSignal });
      const extension = path.extname(image.path).slice(1);
      const uri = await store.putFile(referenceImageKey(jobId, clipIndex, extension), image.path, `image/${image.format}`);
      log.info('reference image prepared', { jobId, clipIndex, uri, sizeBytes: image.sizeBytes });
      return { ok: true, uri };
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      log.warn('reference image not used; the clip goes ahead text-only', { jobId, clipIndex, reason });
      return { ok: false, reason };
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  };
}
