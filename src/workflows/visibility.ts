import { setCurrentDetails, upsertMemo, upsertSearchAttributes } from '@temporalio/workflow';
import type { JobProgress } from '../shared/model.js';
import { formatUsd } from '../shared/money.js';
import { CLIPS_FAILED_ATTRIBUTE, CLIPS_SUCCEEDED_ATTRIBUTE, JOB_ID_ATTRIBUTE, SPEND_USD_ATTRIBUTE } from '../shared/names.js';

/** Search attributes cost a history event each: mid-job they are refreshed about this many times. */
const UPSERTS_PER_JOB = 20;

/**
 * What a person sees of the job in the Web UI: its current details (progress, always current),
 * search attributes (job id, clips succeeded and failed, spend) and a memo with its summary.
 *
 * Every command here follows from the job's progress alone, never from the clock: a command that
 * depends on when a workflow task ran is issued differently on replay than it was the first time,
 * and the job stops for good on a nondeterminism error.
 */
export class JobVisibility {
  private readonly step: number;
  private lastEnded = 0;
  private lastValues = '';

  constructor(
    private readonly jobId: string,
    totalClips: number,
    private readonly searchAttributes: boolean,
  ) {
    this.step = Math.max(1, Math.ceil(totalClips / UPSERTS_PER_JOB));
    if (searchAttributes) upsertSearchAttributes([{ key: JOB_ID_ATTRIBUTE, value: jobId }]);
  }

  show(progress: JobProgress, final = false): void {
    setCurrentDetails(
      `**${progress.stage}** · ${progress.done}/${progress.total} clips done · ${progress.failed} failed · ` +
        `${progress.running} running · ${formatUsd(progress.spentMicroUsd)} spent${budgetOf(progress)} · ${progress.percent}%`,
    );
    if (!this.searchAttributes) return;
    const values = `${progress.done}/${progress.failed}/${progress.spentMicroUsd}`;
    const ended = progress.done + progress.failed;
    if (values === this.lastValues || (!final && ended - this.lastEnded < this.step)) return;
    this.lastValues = values;
    this.lastEnded = ended;
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

function budgetOf(progress: JobProgress): string {
  return progress.budgetLimitMicroUsd === undefined ? '' : ` of ${formatUsd(progress.budgetLimitMicroUsd)}`;
}
