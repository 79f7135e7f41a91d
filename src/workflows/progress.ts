import { setHandler } from '@temporalio/workflow';
import type { JobProgress } from '../shared/model.js';
import { microsToUsd } from '../shared/money.js';
import { progressQuery } from '../shared/names.js';

/** The job's progress as the progress query reports it, kept up to date by the workflow. */
export class ProgressTracker {
  private state: JobProgress;

  constructor(
    jobId: string,
    total: number,
    private readonly onChange: (progress: JobProgress) => void = () => undefined,
  ) {
    this.state = { jobId, stage: 'validating', total, done: 0, failed: 0, running: 0, spentMicroUsd: 0, spentUsd: 0, percent: 0 };
    setHandler(progressQuery, () => this.snapshot());
  }

  private changed(): void {
    this.onChange(this.snapshot());
  }

  snapshot(): JobProgress {
    const { total, done, failed } = this.state;
    return { ...this.state, percent: total === 0 ? 100 : Math.round(((done + failed) / total) * 1000) / 10 };
  }

  stage(stage: JobProgress['stage']): void {
    this.state.stage = stage;
    this.changed();
  }

  clipStarted(): void {
    this.state.running++;
    this.changed();
  }

  clipSucceeded(costMicroUsd: number): void {
    this.state.running--;
    this.state.done++;
    this.addSpend(costMicroUsd);
    this.changed();
  }

  clipFailed(costMicroUsd = 0): void {
    this.state.running--;
    this.state.failed++;
    this.addSpend(costMicroUsd);
    this.changed();
  }

  /** The counts of a job run in batches, summed over its batches by the parent. */
  set(counts: Pick<JobProgress, 'done' | 'failed' | 'running' | 'spentMicroUsd'>): void {
    Object.assign(this.state, counts, { spentUsd: microsToUsd(counts.spentMicroUsd) });
    this.changed();
  }

  /** The budget the spend is measured against; no history command depends on it, so it changes nothing on replay. */
  budgetLimit(limitMicroUsd: number): void {
    this.state.budgetLimitMicroUsd = limitMicroUsd;
  }

  /** Clips that ended without having started: failed, as the report counts them. */
  clipsNotStarted(count: number): void {
    this.state.failed += count;
    this.changed();
  }

  private addSpend(costMicroUsd: number): void {
    this.state.spentMicroUsd += costMicroUsd;
    this.state.spentUsd = microsToUsd(this.state.spentMicroUsd);
  }
}
