import type { BatchPage, BatchPageInput, PlannedClip } from '../shared/activity-io.js';
import type { ActivityDeps } from './deps.js';

/**
 * The most bytes of clips one page carries: a page is an activity result, and results stay under
 * Temporal's 256 KiB payload warning even when every prompt has 2,000 characters of 3-byte text.
 */
export const PAGE_BYTES = 160 * 1024;

/** A page of a batch's clips, starting at `offset`: as many as fit in PAGE_BYTES (always at least one). */
export function createLoadBatchPage({ store }: Pick<ActivityDeps, 'store'>) {
  return async function loadBatchPage({ sliceUri, offset }: BatchPageInput): Promise<BatchPage> {
    const slice = JSON.parse(await store.getText(sliceUri)) as PlannedClip[];
    const clips: PlannedClip[] = [];
    let bytes = 0;
    let next = offset;
    for (; next < slice.length; next++) {
      const size = Buffer.byteLength(JSON.stringify(slice[next]));
      if (clips.length > 0 && bytes + size > PAGE_BYTES) break;
      clips.push(slice[next]!);
      bytes += size;
    }
    return next < slice.length ? { clips, next } : { clips };
  };
}
