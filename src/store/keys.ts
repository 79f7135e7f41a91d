import path from 'node:path';

const REPORT_FILE_NAME = 'production_report.json';

function clipFileName(clipIndex: number): string {
  return `clip_${String(clipIndex).padStart(3, '0')}.mp4`;
}

/** Where a job's files live: outputs/<jobId>/clip_NNN.mp4, refs/, production_report.json. */
export function jobDir(outputDir: string, jobId: string): string {
  return path.join(outputDir, jobId);
}

export function clipPath(outputDir: string, jobId: string, clipIndex: number): string {
  return path.join(jobDir(outputDir, jobId), clipFileName(clipIndex));
}

export function referenceImageBase(outputDir: string, jobId: string, clipIndex: number): string {
  return path.join(jobDir(outputDir, jobId), 'refs', `clip_${String(clipIndex).padStart(3, '0')}`);
}

export function reportPath(outputDir: string, jobId: string): string {
  return path.join(jobDir(outputDir, jobId), REPORT_FILE_NAME);
}
