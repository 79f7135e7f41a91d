/**
 * Where a job's artifacts live in the store, relative to its root:
 * `<jobId>/clip_NNN.mp4`, `<jobId>/refs/clip_NNN.<ext>`, `<jobId>/production_report.json`; a big job
 * also has its clip list under `input/` and its batches' slices and results under `batches/`.
 * Job ids are checked at the door (no slashes, no dots first), so a key never leaves its job.
 */
const pad = (clipIndex: number) => String(clipIndex).padStart(3, '0');

export function clipKey(jobId: string, clipIndex: number): string {
  return `${jobId}/clip_${pad(clipIndex)}.mp4`;
}

export function referenceImageKey(jobId: string, clipIndex: number, extension: string): string {
  return `${jobId}/refs/clip_${pad(clipIndex)}.${extension}`;
}

export function reportKey(jobId: string): string {
  return `${jobId}/production_report.json`;
}

export function posterKey(jobId: string, clipIndex: number): string {
  return `${jobId}/posters/clip_${pad(clipIndex)}.jpg`;
}

export function stripKey(jobId: string, clipIndex: number): string {
  return `${jobId}/posters/clip_${pad(clipIndex)}_strip.jpg`;
}

export function contactSheetKey(jobId: string): string {
  return `${jobId}/contact_sheet.jpg`;
}

export function reportHtmlKey(jobId: string): string {
  return `${jobId}/report.html`;
}

/** A big job's clip list as the client stored it: named by its content's hash, so it never changes under a job. */
export function clipListKey(jobId: string, sha256: string): string {
  return `${jobId}/input/clips-${sha256.slice(0, 32)}.json`;
}

const padBatch = (batch: number) => String(batch).padStart(5, '0');

/** One batch's clips, with their estimates, as the planning activity wrote them. */
export function batchSliceKey(jobId: string, batch: number): string {
  return `${jobId}/batches/${padBatch(batch)}/clips.json`;
}

/** One part of a batch's results (its clips and failures). */
export function batchResultsKey(jobId: string, batch: number, part: number): string {
  return `${jobId}/batches/${padBatch(batch)}/results-${part}.json`;
}
