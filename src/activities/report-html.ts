import { formatUsd, usdToMicros } from '../shared/money.js';
import type { EmbeddedPictures } from './report-pictures.js';
import type { FallbackNote } from '../shared/model.js';
import type { Report, ReportRow } from './report-data.js';

/**
 * report.html: the same report as production_report.json, for a person. One file that works
 * offline: the CSS is inline, the posters are data: URIs, and the videos are the clips beside it
 * (relative links, so the job's folder can be copied or synced anywhere). Every piece of text
 * from outside (prompts above all) goes through `esc`.
 */
export function renderReportHtml(report: Report, pictures: ReadonlyMap<number, EmbeddedPictures>): string {
  const title = `clipflow · ${report.jobId}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
  <h1>${esc(report.jobId)}</h1>
  <p class="summary"><strong>${report.successfulClips} of ${report.totalClips}</strong> clips made${
    report.failedClips ? `, <strong class="bad">${report.failedClips} failed</strong>` : ''
  } · ${report.meetsMinimum ? 'meets' : '<span class="bad">misses</span>'} its minimum of ${report.minClips} · spent ${usd(report.totalCostUsd)} · ${secs(report.totalTimeS)}</p>
  ${report.webUiUrl ? `<p><a class="ui-link" href="${esc(report.webUiUrl)}">Open the job in the Temporal Web UI</a> <span class="muted">(${esc(report.workflowId ?? '')})</span></p>` : ''}
</header>
${report.contactSheetUri ? `<section><h2>Contact sheet</h2><a href="${esc(relative(report.contactSheetUri))}"><img class="sheet" alt="every clip's poster" src="${esc(relative(report.contactSheetUri))}"></a></section>` : ''}
<section class="clips">
<h2>Clips</h2>
${report.clips.map((row) => clipCard(row, pictures.get(row.clipIndex) ?? {})).join('\n')}
</section>
${budgetSection(report.budget)}
<footer class="muted">Made by clipflow from production_report.json (the same data).</footer>
</body>
</html>
`;
}

function clipCard(row: ReportRow, pictures: EmbeddedPictures): string {
  const outcome = row.keptFrom
    ? `kept from job ${row.keptFrom}`
    : row.success
      ? 'succeeded'
      : `${row.outcome}${row.reason ? ` — ${row.reason}` : ''}`;
  // A kept clip stays in the folder of the job that made it, beside this job's folder.
  const src =
    row.uri && (row.keptFrom ? `../${relative(row.uri.split('/').slice(0, -1).join('/'))}/${relative(row.uri)}` : relative(row.uri));
  const media =
    row.success && src
      ? `<video controls preload="metadata" src="${esc(src)}"${pictures.poster ? ` poster="${pictures.poster}"` : ''}></video>`
      : `<div class="no-video">no clip</div>`;
  const facts: [string, string][] = [
    ['Prompt', row.prompt === null ? '<span class="muted">not recorded</span>' : `<q class="prompt">${esc(row.prompt)}</q>`],
    ['Provider · model', esc([row.provider, row.model].filter(Boolean).join(' · ') || '—')],
    ...(row.fallback ? [['Fallback', fallbackReason(row.fallback)] as [string, string]] : []),
    ['Cost', usd(row.costUsd)],
    ['Duration', row.durationS === null ? '—' : secs(row.durationS)],
    ['Generation time', secs(row.generationTimeS)],
    ['Attempts', String(row.attempts)],
    ['Content check', contentCheck(row)],
    ['Text-only', row.imageNote ? `yes — ${esc(row.imageNote)}` : 'no'],
  ];
  if (row.error) facts.push(['Error', `<span class="bad">${esc(row.errorType ?? '')}</span>: ${esc(row.error)}`]);
  return `<article class="clip ${row.success ? 'ok' : 'failed'}" data-clip-index="${row.clipIndex}" data-outcome="${esc(row.outcome)}">
  <h3>Clip ${row.clipIndex} <span class="outcome">${esc(outcome)}</span></h3>
  <div class="media">${media}${pictures.strip ? `<img class="strip" alt="frames of clip ${row.clipIndex}" src="${pictures.strip}">` : ''}</div>
  <dl>${facts.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join('')}</dl>
  ${attempts(row)}
</article>`;
}

function fallbackReason(f: FallbackNote): string {
  return `from ${esc(f.fromProvider)} · ${esc(f.fromModel)} after <span class="bad">${esc(f.errorType)}</span>: ${esc(f.message)}`;
}

function contentCheck(row: ReportRow): string {
  const c = row.contentCheck;
  if (!c) return row.findings.length ? '<span class="bad">failed</span> (see attempts)' : '—';
  const passed = `passed: ${c.decodedFrames} frames decoded to ${secs(c.decodedS)}, ${c.decodeErrors} decoder errors, no long black or frozen stretch`;
  return row.findings.length ? `${passed} (earlier attempts failed it)` : passed;
}

function attempts(row: ReportRow): string {
  if (row.failedAttempts.length === 0) return '';
  const items = row.failedAttempts.map((a) => {
    const findings = (a.findings ?? []).map((f) => `<li class="finding">${esc(f.detail)}</li>`).join('');
    return `<li><strong>generation ${a.generation}</strong> on ${esc(a.model)}: <span class="bad">${esc(a.errorType)}</span> — ${esc(a.message)}${
      findings ? `<ul>${findings}</ul>` : ''
    }</li>`;
  });
  return `<details open><summary>Failed attempts (${row.failedAttempts.length})</summary><ol class="attempts">${items.join('')}</ol></details>`;
}

function budgetSection(b: Report['budget']): string {
  const rows: [string, string][] = [
    ['Limit', usd(b.limitUsd)],
    ['Spent before this job', usd(b.spentBeforeJobUsd)],
    ['Estimated', usd(b.estimatedUsd)],
    ['Actual', usd(b.actualUsd)],
    ['Peak reserved', usd(b.peakReservedUsd)],
    ['Skipped for budget', b.skippedForBudget.join(', ') || 'none'],
    ['Stopped for budget', b.cancelledForBudget.join(', ') || 'none'],
  ];
  const perModel = b.perModel
    .map((m) => `<tr><td>${esc(m.model)}</td><td>${m.clips}</td><td>${usd(m.estimatedUsd)}</td><td>${usd(m.actualUsd)}</td></tr>`)
    .join('');
  return `<section class="budget"><h2>Budget</h2>
<table>${rows.map(([k, v]) => `<tr><th>${k}</th><td>${v}</td></tr>`).join('')}</table>
${perModel ? `<table><tr><th>Model</th><th>Clips</th><th>Estimated</th><th>Actual</th></tr>${perModel}</table>` : ''}
</section>`;
}

/** An artifact beside report.html (both under the job's key), as a link relative to it. */
function relative(uri: string): string {
  return encodeURIComponent(decodeURIComponent(uri.split('/').at(-1) ?? uri));
}

const usd = (dollars: number) => formatUsd(usdToMicros(dollars));
const secs = (s: number) => `${s.toFixed(s < 10 ? 2 : 1)} s`;

/** Text as HTML text or attribute value: nothing in it is markup. */
export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const CSS = `
:root { color-scheme: light dark; --ok: #2e7d32; --bad: #c62828; --line: #8884; }
body { font: 15px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 1200px; padding: 1.5rem; }
h1 { margin: 0 0 .25rem; font-size: 1.6rem; word-break: break-all; }
h2 { border-bottom: 1px solid var(--line); padding-bottom: .25rem; }
.muted { opacity: .65; }
.bad { color: var(--bad); }
.sheet { max-width: 100%; border-radius: 6px; }
.clips { display: grid; grid-template-columns: repeat(auto-fill, minmax(360px, 1fr)); gap: 1rem; }
.clips h2 { grid-column: 1 / -1; }
.clip { border: 1px solid var(--line); border-left: 6px solid var(--ok); border-radius: 8px; padding: .75rem 1rem; }
.clip.failed { border-left-color: var(--bad); }
.clip h3 { margin: 0 0 .5rem; display: flex; justify-content: space-between; gap: .5rem; }
.outcome { font-weight: normal; font-size: .9rem; }
.clip.ok .outcome { color: var(--ok); }
.clip.failed .outcome { color: var(--bad); }
video, .no-video { width: 100%; aspect-ratio: 16 / 9; background: #111; border-radius: 4px; display: block; }
.no-video { display: grid; place-items: center; color: #aaa; }
.strip { width: 100%; margin-top: .35rem; border-radius: 4px; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .15rem .75rem; margin: .6rem 0; }
dt { font-weight: 600; }
dd { margin: 0; overflow-wrap: anywhere; }
.prompt { white-space: pre-wrap; }
.attempts { padding-left: 1.2rem; margin: .3rem 0; overflow-wrap: anywhere; }
.finding { color: var(--bad); }
table { border-collapse: collapse; margin: .5rem 0 1rem; }
th, td { text-align: left; padding: .2rem .8rem .2rem 0; border-bottom: 1px solid var(--line); }
footer { margin-top: 2rem; font-size: .85rem; }
`;
