import { setCurrentDetails, upsertMemo, upsertSearchAttributes } from '@temporalio/workflow';
import type { JobProgress } from '../shared/model.js';
import { formatUsd } from '../shared/money.js';
import { CLIPS_FAILED_ATTRIBUTE, CLIPS_SUCCEEDED_ATTRIBUTE, JOB_ID_ATTRIBUTE, SPEND_USD_ATTRIBUTE } from '../shared/search-attributes.js';

/** Search attributes cost a history event each; mid-job they are refreshed at most this often. */
const UPSERT_EVERY_MS = 2_000;

/**
 * What a person sees of the job in the Web UI: its current details (progress, always current),
 * search attributes (job id, clips succeeded and failed, spend) and a memo with its summary.
 */
export class JobVisibility {
  private lastUpsert = 0;
  private lastValues = '';

  constructor(
    private readonly jobId: string,
    private readonly searchAttributes: boolean,
  ) {
    if (searchAttributes) upsertSearchAttributes([{ key: JOB_ID_ATTRIBUTE, value: jobId }]);
  }

  show(progress: JobProgress, final = false): void {
    setCurrentDetails(
      `**${progress.stage}** · ${progress.done}/${progress.total} clips done · ${progress.failed} failed · ` +
        `${progress.running} running · ${formatUsd(progress.spentMicroUsd)} spent · ${progress.percent}%`,
    );
    if (!this.searchAttributes) return;
    const values = `${progress.done}/${progress.failed}/${progress.spentMicroUsd}`;
    const now = Date.now();
    if (values === this.lastValues || (!final && now - this.lastUpsert < UPSERT_EVERY_MS)) return;
    this.lastValues = values;
    this.lastUpsert = now;
    upsertSearchAttributes([
      { key: CLIPS_SUCCEEDED_ATTRIBUTE, value: progress.done },
      { key: CLIPS_FAILED_ATTRIBUTE, value: progress.failed },
      { key: SPEND_USD_ATTRIBUTE, value: progress.spentUsd },
    ]);
  }

  summarize(summary: Record<string, unknown>): void {
    upsertMemo({ jobId: this.jobId, summary });
  }
}
