/**
 * Where a job's artifacts live in the store, relative to its root:
 * `<jobId>/clip_NNN.mp4`, `<jobId>/refs/clip_NNN.<ext>`, `<jobId>/production_report.json`.
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
