import type { GenerateClipsResult, JobProgress } from '../shared/model.js';
import { formatUsd } from '../shared/money.js';

export function progressBar(p: JobProgress, width = 30): string {
  const filled = Math.round((p.percent / 100) * width);
  const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
  return `[${bar}] ${p.percent.toFixed(0).padStart(3)}%  ${p.done} done · ${p.failed} failed · ${p.running} running · ${formatUsd(p.spentMicroUsd)}  (${p.stage})`;
}

export function summaryTable(result: GenerateClipsResult): string {
  const rows: string[][] = [['clip', 'status', 'model', 'duration', 'size', 'px', 'cost', 'attempts', 'time', 'file / error']];
  const byIndex = new Map<number, string[]>();
  for (const c of result.clips) {
    byIndex.set(c.clipIndex, [
      String(c.clipIndex),
      c.imageNote ? 'ok, text-only' : 'ok',
      c.model,
      `${c.durationS.toFixed(1)} s`,
      `${(c.sizeBytes / 1e6).toFixed(1)} MB`,
      `${c.width}x${c.height}`,
      formatUsd(c.costMicroUsd),
      String(c.attempts),
      `${c.generationTimeS.toFixed(1)} s`,
      c.imageNote ? `${c.path ?? c.uri} (${c.imageNote})` : (c.path ?? c.uri),
    ]);
  }
  for (const f of result.failures) {
    byIndex.set(f.clipIndex, [
      String(f.clipIndex),
      'FAILED',
      '-',
      '-',
      '-',
      '-',
      '-',
      String(f.attempts),
      '-',
      `${f.errorType}: ${f.message}`,
    ]);
  }
  rows.push(...[...byIndex.entries()].sort(([a], [b]) => a - b).map(([, row]) => row));
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => (col === r.length - 1 ? 0 : (r[col] ?? '').length))));
  const lines = rows.map((r) => r.map((cell, col) => (col === r.length - 1 ? cell : cell.padEnd(widths[col]!))).join('  '));
  lines.splice(1, 0, '-'.repeat(Math.min(120, lines[0]!.length + 20)));
  const textOnly = result.clips.filter((c) => c.imageNote).map((c) => c.clipIndex);
  const batches = result.batches;
  lines.push(
    '',
    // A job run in batches returns counts only: its clips are listed by `clipflow report`.
    ...(batches ? [`ran in ${batches.count} batches of up to ${batches.size} clips: every clip is in the report`] : []),
    ...(textOnly.length > 0 ? [`text-only (reference image not used): clip${textOnly.length > 1 ? 's' : ''} ${textOnly.join(', ')}`] : []),
    `${result.successfulClips}/${result.totalClips} clips · ${formatUsd(result.totalCostMicroUsd)} · ${result.totalGenerationTimeS.toFixed(1)} s · report ${result.reportPath ?? result.reportUri}`,
  );
  return lines.join('\n');
}
