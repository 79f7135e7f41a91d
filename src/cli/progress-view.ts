import type { JobProgress } from '../shared/model.js';
import { formatUsd } from '../shared/money.js';

/**
 * What a person sees of a job's progress, as pure functions of the progress query's answer: the
 * frame a terminal redraws in place, and the line a log or a pipe gets each time it changes.
 */

/** Clips not started yet: neither ended nor in flight. */
function waiting(p: JobProgress): number {
  return Math.max(0, p.total - p.done - p.failed - p.running);
}

/** The spend, against the budget once the budget check has set it. */
function spend(p: JobProgress): string {
  if (p.budgetLimitMicroUsd === undefined) return `${formatUsd(p.spentMicroUsd)} spent`;
  const share = p.budgetLimitMicroUsd > 0 ? Math.round((p.spentMicroUsd / p.budgetLimitMicroUsd) * 100) : 0;
  return `${formatUsd(p.spentMicroUsd)} of ${formatUsd(p.budgetLimitMicroUsd)} budget (${share}%)`;
}

function percent(p: JobProgress): string {
  return `${p.percent.toFixed(0).padStart(3)}%`;
}

/** Narrower terminals get a shorter bar; the counts never wrap on an 80-column one. */
const BAR_MIN = 10;
const BAR_MAX = 40;

/**
 * The frame for a terminal `columns` wide: the stage, a bar and the clips ended of all; then clips
 * done, failed, in flight and waiting; then spend against budget. Ends without a line break.
 */
export function progressFrame(p: JobProgress, columns = 80): string {
  const head = `${p.stage.padEnd(10)} `;
  const tail = ` ${percent(p)}  ${p.done + p.failed}/${p.total} clips`;
  // Brackets, and a spare column: a line as wide as the terminal leaves some of them at the next row's start.
  const width = Math.min(BAR_MAX, Math.max(BAR_MIN, columns - head.length - tail.length - 3));
  const filled = Math.min(width, Math.round((p.percent / 100) * width));
  const bar = `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}]`;
  return [
    `${head}${bar}${tail}`,
    `  ✓ ${p.done} done   ✗ ${p.failed} failed   ▶ ${p.running} in flight   · ${waiting(p)} waiting`,
    `  ${spend(p)}`,
  ].join('\n');
}

/** The same facts on one line, for output that is not a terminal. */
export function progressLine(p: JobProgress): string {
  return (
    `${percent(p).trim()} ${p.stage}: ${p.done} done, ${p.failed} failed, ${p.running} in flight, ` +
    `${waiting(p)} waiting of ${p.total} clips · ${spend(p)}`
  );
}
