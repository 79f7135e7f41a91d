import type { GenerateClipsResult } from '../shared/model.js';
import { formatUsd } from '../shared/money.js';

export function summaryTable(result: GenerateClipsResult): string {
  const rows: string[][] = [['clip', 'status', 'model', 'duration', 'size', 'px', 'cost', 'attempts', 'time', 'file / error']];
  const byIndex = new Map<number, string[]>();
  for (const c of result.clips) {
    byIndex.set(c.clipIndex, [
      String(c.clipIndex),
      c.keptFrom ? `kept (${c.keptFrom})` : c.imageNote ? 'ok, text-only' : 'ok',
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
    `${result.successfulClips}/${result.totalClips} clips · ${formatUsd(result.totalCostMicroUsd)} · ${result.totalGenerationTimeS.toFixed(1)} s`,
  );
  return lines.join('\n');
}

/**
 * The last lines of a job's output: where what the job left for people is, a path when the store
 * is this machine's directory, else its URI; what the job did not make is left out. Whatever else
 * the result names for people is one more entry here.
 */
export function reportLines(result: GenerateClipsResult): string {
  const entries: [label: string, where: string | undefined][] = [
    ['report', result.reportPath ?? result.reportUri],
    ['report.html', result.reportHtmlPath ?? result.reportHtmlUri],
    ['contact sheet', result.contactSheetUri],
  ];
  return entries
    .filter((entry): entry is [string, string] => Boolean(entry[1]))
    .map(([label, where]) => `${label}: ${where}`)
    .join('\n');
}
