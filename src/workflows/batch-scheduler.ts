import {
  CancellationScope,
  ChildWorkflowCancellationType,
  condition,
  executeChild,
  getExternalWorkflowHandle,
  isCancellation,
  ParentClosePolicy,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { BatchPlan, BatchProgress, BatchSummary, JobSettings, NotStarted } from '../shared/activity-io.js';
import type { MicroUsd } from '../shared/money.js';
import { BATCH_WORKFLOW_TYPE, batchProgressSignal, batchWorkflowId, extendAllowanceSignal, stopForBudgetSignal } from '../shared/names.js';
import type { BudgetLedger } from './budget-ledger.js';
import type { generateClipsBatch } from './generate-clips-batch.js';

export interface BatchScheduleOptions {
  jobId: string;
  batches: readonly BatchPlan[];
  settings: JobSettings;
  /** Child workflows at once. */
  window: number;
  ledger: BudgetLedger;
  /** The job's counts summed over its batches, whenever they change. */
  onProgress: (counts: Pick<BatchProgress, 'done' | 'failed' | 'running' | 'spentMicroUsd'>) => void;
}

export interface BatchesOutcome {
  summaries: BatchSummary[];
  /** Batches that never ran, and why. */
  notStarted: Map<number, NotStarted>;
  /** Set when the job itself was cancelled; the caller rethrows it after reporting. */
  cancellation?: unknown;
}

interface RunningBatch {
  plan: BatchPlan;
  workflowId: string;
  slot: number;
  allowanceMicroUsd: MicroUsd;
  progress: BatchProgress;
}

/**
 * Runs a big job's batches as child workflows, at most `window` at once, each with a share of the
 * job's concurrency (so the job never has more clips in flight than its concurrency) and an
 * allowance reserved in the job's ledger: as much of the batch's estimate as is left, and at least
 * its cheapest clip. A batch's leftover returns to the ledger when it ends. A batch that gets no
 * allowance waits while others run and is skipped once nothing runs. When a batch that cost more
 * than its allowance takes the job past its limit, every running batch stops its clips, as a
 * one-workflow job stops its running clips. Cancelling the job cancels every running batch, which
 * stops its clips and reports what it made.
 */
export class BatchScheduler {
  private readonly pending: BatchPlan[];
  private readonly running = new Map<number, RunningBatch>();
  private readonly freeSlots: number[];
  private readonly outcome: BatchesOutcome = { summaries: [], notStarted: new Map() };
  private readonly ended = { done: 0, failed: 0, spentMicroUsd: 0 };
  private changes = 0;

  constructor(private readonly options: BatchScheduleOptions) {
    this.pending = [...options.batches];
    this.freeSlots = Array.from({ length: options.window }, (_, slot) => slot);
    setHandler(batchProgressSignal, (progress) => {
      const batch = this.running.get(progress.batch);
      if (!batch) return;
      batch.progress = progress;
      this.publish();
    });
  }

  /** Clips in batches not started yet. */
  get heldForBudget(): number {
    return this.pending.reduce((sum, b) => sum + b.clips, 0);
  }

  /**
   * The budget was raised: running batches that got less than their estimate get the rest (as
   * far as it goes, oldest first), then waiting batches may start.
   */
  async budgetRaised(): Promise<number> {
    for (const batch of this.running.values()) {
      const added = this.options.ledger.extend(batch.plan.batch, batch.plan.estimatedMicroUsd - batch.allowanceMicroUsd);
      if (added <= 0) continue;
      batch.allowanceMicroUsd += added;
      // A batch that ended meanwhile returns its whole reservation anyway.
      await getExternalWorkflowHandle(batch.workflowId)
        .signal(extendAllowanceSignal, { addMicroUsd: added })
        .catch(() => undefined);
    }
    this.changes++;
    return this.heldForBudget;
  }

  async run(): Promise<BatchesOutcome> {
    try {
      for (;;) {
        this.startWhatFits();
        if (this.running.size === 0) break;
        const seen = this.changes;
        await condition(() => this.changes !== seen);
      }
    } catch (err) {
      if (!isCancellation(err)) throw err;
      this.outcome.cancellation = err;
      // Running batches are cancelled with the job; each stops its clips and reports what it made.
      await CancellationScope.nonCancellable(() => condition(() => this.running.size === 0));
    }
    for (const batch of this.pending) {
      this.outcome.notStarted.set(batch.batch, this.outcome.cancellation ? 'cancelled' : 'budget');
      this.ended.failed += batch.clips;
    }
    this.pending.length = 0;
    this.publish();
    return this.outcome;
  }

  private startWhatFits(): void {
    const { ledger } = this.options;
    for (let i = 0; i < this.pending.length && this.freeSlots.length > 0 && !ledger.overLimit; ) {
      const plan = this.pending[i]!;
      const allowance = ledger.reserveUpTo(plan.batch, plan.estimatedMicroUsd, plan.cheapestMicroUsd);
      if (allowance !== undefined) {
        this.pending.splice(i, 1);
        this.start(plan, allowance);
      } else {
        i++;
      }
    }
  }

  /** Slot `slot`'s share of the job's concurrency: the shares add up to it. */
  private concurrencyOf(slot: number): number {
    const { concurrency } = this.options.settings;
    const { window } = this.options;
    return Math.floor(concurrency / window) + (slot < concurrency % window ? 1 : 0);
  }

  private start(plan: BatchPlan, allowanceMicroUsd: MicroUsd): void {
    const slot = this.freeSlots.shift()!;
    const workflowId = batchWorkflowId(workflowInfo().workflowId, plan.batch);
    const progress = { batch: plan.batch, done: 0, failed: 0, running: 0, spentMicroUsd: 0 };
    this.running.set(plan.batch, { plan, workflowId, slot, allowanceMicroUsd, progress });
    const child = executeChild<typeof generateClipsBatch>(BATCH_WORKFLOW_TYPE, {
      workflowId,
      args: [
        {
          jobId: this.options.jobId,
          batch: plan.batch,
          sliceUri: plan.sliceUri,
          clips: plan.clips,
          allowanceMicroUsd,
          concurrency: this.concurrencyOf(slot),
          settings: this.options.settings,
        },
      ],
      // Cancelling the job waits for each batch to stop its clips and store what it made.
      cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
      parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
    });
    void child.then(
      (summary) => this.finish(plan, summary),
      (err: unknown) => this.finish(plan, undefined, err),
    );
  }

  private finish(plan: BatchPlan, summary: BatchSummary | undefined, err?: unknown): void {
    const batch = this.running.get(plan.batch)!;
    this.running.delete(plan.batch);
    this.freeSlots.push(batch.slot);
    this.freeSlots.sort((a, b) => a - b);
    const { ledger } = this.options;
    if (summary) {
      this.outcome.summaries.push(summary);
      ledger.settle(plan.batch, summary.spentMicroUsd);
      this.ended.done += summary.done;
      this.ended.failed += summary.failed;
      this.ended.spentMicroUsd += summary.spentMicroUsd;
    } else if (isCancellation(err)) {
      // Cancelled before it started: nothing ran.
      ledger.settle(plan.batch, 0);
      this.outcome.notStarted.set(plan.batch, 'cancelled');
      this.ended.failed += plan.clips;
    } else {
      // What a batch that failed outright spent is not known: its whole allowance counts as spent.
      ledger.settle(plan.batch, batch.allowanceMicroUsd);
      this.outcome.notStarted.set(plan.batch, 'failed');
      this.ended.failed += plan.clips;
      this.ended.spentMicroUsd += batch.allowanceMicroUsd;
    }
    if (ledger.overLimit) this.stopRunningForBudget();
    this.publish();
    this.changes++;
  }

  /** The job's spend has passed its limit (a batch cost more than its allowance): every running batch stops its clips. */
  private stopRunningForBudget(): void {
    for (const batch of this.running.values()) {
      void getExternalWorkflowHandle(batch.workflowId)
        .signal(stopForBudgetSignal)
        .catch(() => undefined);
    }
  }

  private publish(): void {
    const counts = { ...this.ended, running: 0 };
    for (const { progress } of this.running.values()) {
      counts.done += progress.done;
      counts.failed += progress.failed;
      counts.running += progress.running;
      counts.spentMicroUsd += progress.spentMicroUsd;
    }
    this.options.onProgress(counts);
  }
}
