import { CancellationScope, condition, isCancellation } from '@temporalio/workflow';
import { FailureType } from '../shared/failures.js';
import type { Clip, ClipFailure, ClipPrompt } from '../shared/model.js';
import { formatUsd, type MicroUsd } from '../shared/money.js';
import type { BudgetLedger } from './budget-ledger.js';

export type ClipOutcome = { ok: true; clip: Clip } | { ok: false; failure: ClipFailure };

export interface ScheduleOptions {
  clips: readonly ClipPrompt[];
  concurrency: () => number;
  ledger: BudgetLedger;
  estimateOf: (clipIndex: number) => MicroUsd;
  /** Makes one clip; runs in a cancellation scope of its own so one clip can be stopped alone. */
  produce: (clip: ClipPrompt) => Promise<ClipOutcome>;
  onStart?: (clipIndex: number) => void;
  onEnd?: (outcome: ClipOutcome) => void;
}

export interface ScheduleResult {
  clips: Clip[];
  failures: ClipFailure[];
  skippedForBudget: number[];
  cancelledForBudget: number[];
  cancelledClips: number[];
  /** Set when the job itself was cancelled; the caller rethrows it after reporting. */
  cancellation?: unknown;
}

/**
 * Runs the clips with at most `concurrency` in flight, each only once its estimate is reserved in
 * the ledger. After every clip the ledger is checked: clips whose expected cost no longer fits are
 * stopped, and when actual spend passes the limit everything still running is. A clip that does
 * not fit waits while others run (a raised limit starts it) and is skipped once nothing runs.
 */
export class ClipScheduler {
  private readonly pending: ClipPrompt[];
  private readonly running = new Map<number, CancellationScope>();
  private readonly startOrder: number[] = [];
  private readonly stoppedForBudget = new Set<number>();
  private readonly result: ScheduleResult = { clips: [], failures: [], skippedForBudget: [], cancelledForBudget: [], cancelledClips: [] };
  private changes = 0;
  private stopAll = false;

  constructor(private readonly options: ScheduleOptions) {
    this.pending = [...options.clips];
  }

  /** Something the scheduler waits on has changed (for example the budget was raised). */
  wake(): void {
    this.changes++;
  }

  /** Spend elsewhere in the job has passed its limit: stop every running clip and start no more. */
  stopAllForBudget(): void {
    this.stopAll = true;
    for (const [clipIndex, scope] of this.running) {
      this.stoppedForBudget.add(clipIndex);
      scope.cancel();
    }
    this.wake();
  }

  get heldForBudget(): number {
    return this.pending.length;
  }

  async run(): Promise<ScheduleResult> {
    try {
      for (;;) {
        this.startWhatFits();
        if (this.running.size === 0) break;
        const seen = this.changes;
        await condition(() => this.changes !== seen);
      }
    } catch (err) {
      if (!isCancellation(err)) throw err;
      this.result.cancellation = err;
      // Running clips are cancelled with the job; wait until each has stopped its prediction.
      await CancellationScope.nonCancellable(() => condition(() => this.running.size === 0));
    }
    this.skipPending();
    return this.result;
  }

  private startWhatFits(): void {
    for (let i = 0; i < this.pending.length && !this.stopAll; ) {
      if (this.running.size >= this.options.concurrency()) return;
      const clip = this.pending[i]!;
      if (this.options.ledger.tryReserve(clip.clipIndex, this.options.estimateOf(clip.clipIndex))) {
        this.pending.splice(i, 1);
        this.start(clip);
      } else {
        i++;
      }
    }
  }

  private start(clip: ClipPrompt): void {
    const scope = new CancellationScope();
    this.running.set(clip.clipIndex, scope);
    this.startOrder.push(clip.clipIndex);
    this.options.onStart?.(clip.clipIndex);
    void scope.run(() => this.options.produce(clip)).then((outcome) => this.finish(clip.clipIndex, outcome));
  }

  private finish(clipIndex: number, outcome: ClipOutcome): void {
    const { ledger } = this.options;
    this.running.delete(clipIndex);
    if (outcome.ok) {
      this.result.clips.push(outcome.clip);
      ledger.settle(clipIndex, outcome.clip.costMicroUsd, outcome.clip.model);
    } else {
      let failure = outcome.failure;
      if (this.stoppedForBudget.has(clipIndex) && failure.errorType === FailureType.Cancelled) {
        failure = {
          ...failure,
          errorType: FailureType.CancelledForBudget,
          message: 'stopped: its expected cost no longer fit in the budget',
        };
        this.result.cancelledForBudget.push(clipIndex);
      } else if (failure.errorType === FailureType.Cancelled) {
        this.result.cancelledClips.push(clipIndex);
      }
      this.result.failures.push(failure);
      ledger.settle(clipIndex, failure.costMicroUsd);
    }
    this.options.onEnd?.(outcome);
    this.enforceBudget();
    this.wake();
  }

  private enforceBudget(): void {
    const { ledger } = this.options;
    const runningInOrder = this.startOrder.filter((i) => this.running.has(i));
    const toStop = ledger.overLimit ? runningInOrder : ledger.releaseWhatNoLongerFits(runningInOrder);
    if (ledger.overLimit) this.stopAll = true;
    for (const clipIndex of toStop) {
      this.stoppedForBudget.add(clipIndex);
      this.running.get(clipIndex)?.cancel();
    }
  }

  private skipPending(): void {
    const { ledger } = this.options;
    for (const clip of this.pending) {
      if (this.result.cancellation) {
        this.result.cancelledClips.push(clip.clipIndex);
        this.result.failures.push({
          clipIndex: clip.clipIndex,
          errorType: FailureType.Cancelled,
          message: 'not started: the job was cancelled',
          attempts: 0,
          costMicroUsd: 0,
        });
        continue;
      }
      this.result.skippedForBudget.push(clip.clipIndex);
      this.result.failures.push({
        clipIndex: clip.clipIndex,
        errorType: FailureType.SkippedForBudget,
        message:
          `not started: its estimate ${formatUsd(this.options.estimateOf(clip.clipIndex))} did not fit under the ` +
          `budget limit ${formatUsd(ledger.limitMicroUsd)} (${formatUsd(ledger.committedMicroUsd)} already committed)`,
        attempts: 0,
        costMicroUsd: 0,
      });
    }
    this.pending.length = 0;
  }
}
