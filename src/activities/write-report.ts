import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Context, log } from '@temporalio/activity';
import type { ActivityDeps } from './deps.js';
import { activityTelemetry, type ActivityTelemetry } from '../telemetry/activity-telemetry.js';
import { reportHtmlKey, reportKey } from '../store/keys.js';
import type { ReportInput, StoredReport } from '../shared/activity-io.js';

export { buildReport, type Report, type ReportRow } from './report-data.js';
import { buildReport, type Report } from './report-data.js';
import { renderReportHtml } from './report-html.js';
import { makeContactSheet, reportPictures } from './report-pictures.js';

/** Counts the job's clips by how they ended, and its budget stops: once per job, when its report is stored. */
function countJob(report: Report, provider: string, { metrics }: ActivityTelemetry): void {
  for (const row of report.clips) {
    metrics.clips.inc({ outcome: row.outcome, provider: row.provider ?? provider, model: row.model ?? 'none' });
  }
  const { skippedForBudget, cancelledForBudget } = report.budget;
  if (skippedForBudget.length > 0) metrics.budgetStops.inc({ stop: 'clip_skipped' }, skippedForBudget.length);
  if (cancelledForBudget.length > 0) metrics.budgetStops.inc({ stop: 'clip_cancelled' }, cancelledForBudget.length);
}

/**
 * production_report.json and report.html, both from one buildReport(), with the contact sheet
 * they show; all beside the clips in the store.
 */
export function createWriteReport({
  store,
  frames,
  config,
  provider,
  telemetry = activityTelemetry(),
}: Pick<ActivityDeps, 'store' | 'frames' | 'config' | 'provider' | 'telemetry'>) {
  return async function writeReport(input: ReportInput): Promise<StoredReport> {
    const { workflowNamespace, workflowExecution } = Context.current().info;
    const workflowId = workflowExecution?.workflowId;
    const webUiUrl =
      workflowId && workflowNamespace
        ? `${config.temporal.uiBaseUrl}/namespaces/${encodeURIComponent(workflowNamespace)}/workflows/${encodeURIComponent(workflowId)}`
        : undefined;
    const scratch = await mkdtemp(path.join(os.tmpdir(), 'clipflow-report-'));
    try {
      const pictures = await reportPictures(store, input.clips, scratch);
      const contactSheetUri = await makeContactSheet({ store, frames }, input, pictures, scratch).catch((err: unknown) => {
        // The report matters more than its picture: it is written without one.
        log.warn('contact sheet not made', { jobId: input.jobId, error: (err as Error).message });
        return undefined;
      });
      const report = buildReport(input, {
        ...(workflowId ? { workflowId } : {}),
        ...(webUiUrl ? { webUiUrl } : {}),
        ...(contactSheetUri ? { contactSheetUri } : {}),
      });
      const uri = await store.putText(reportKey(input.jobId), `${JSON.stringify(report, null, 2)}\n`, 'application/json');
      const htmlUri = await store.putText(reportHtmlKey(input.jobId), renderReportHtml(report, await pictures.dataUris()), 'text/html');
      countJob(report, provider.name, telemetry);
      const file = store.pathOf(uri);
      const htmlFile = store.pathOf(htmlUri);
      log.info('report written', { jobId: input.jobId, uri, htmlUri });
      return {
        uri,
        ...(file ? { path: file } : {}),
        htmlUri,
        ...(htmlFile ? { htmlPath: htmlFile } : {}),
        ...(contactSheetUri ? { contactSheetUri } : {}),
      };
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  };
}
