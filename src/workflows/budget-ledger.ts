import type { MicroUsd } from '../shared/money.js';

/**
 * The job's money, held in the workflow so that it survives crashes and replays: what was spent
 * before the job, what its finished clips cost, and what its running clips have reserved. A clip
 * starts only when its reservation fits under the limit; when it ends, the reservation becomes
 * its actual cost. Costs seen above their estimate raise the reservations of the clips still
 * running by the same factor, so an underestimate is caught while there is still time to stop.
 */
export class BudgetLedger {
  private readonly reserved = new Map<number, MicroUsd>();
  private readonly estimates = new Map<number, MicroUsd>();
  private actualMicroUsd = 0;
  private peak = 0;
  /** Worst ratio of actual to estimated cost seen so far (1 until a clip cost more than estimated). */
  private overrunFactor = 1;
  readonly perModel = new Map<string, { estimatedMicroUsd: MicroUsd; actualMicroUsd: MicroUsd; clips: number }>();

  constructor(
    private limit: MicroUsd,
    readonly spentBeforeMicroUsd: MicroUsd,
    readonly estimatedMicroUsd: MicroUsd,
  ) {}

  get limitMicroUsd(): MicroUsd {
    return this.limit;
  }

  get actual(): MicroUsd {
    return this.actualMicroUsd;
  }

  get reservedMicroUsd(): MicroUsd {
    let sum = 0;
    for (const amount of this.reserved.values()) sum += amount;
    return sum;
  }

  get peakReservedMicroUsd(): MicroUsd {
    return this.peak;
  }

  /** Spent before the job, spent by it, and held for running clips. */
  get committedMicroUsd(): MicroUsd {
    return this.spentBeforeMicroUsd + this.actualMicroUsd + this.reservedMicroUsd;
  }

  get overLimit(): boolean {
    return this.spentBeforeMicroUsd + this.actualMicroUsd > this.limit;
  }

  /** How much a clip estimated at `estimate` is expected to cost, given what clips have cost so far. */
  private expected(estimate: MicroUsd): MicroUsd {
    return Math.ceil(estimate * this.overrunFactor);
  }

  fits(estimate: MicroUsd): boolean {
    return this.committedMicroUsd + this.expected(estimate) <= this.limit;
  }

  /** What is left under the limit once spend and reservations are counted. */
  get availableMicroUsd(): MicroUsd {
    return Math.max(0, this.limit - this.committedMicroUsd);
  }

  /**
   * Reserves for `key` as much of `wanted` as is left, if that is at least `minimum`; returns the
   * amount, or undefined when nothing was reserved (free clips reserve 0). A batch of a big job
   * gets its allowance this way.
   */
  reserveUpTo(key: number, wanted: MicroUsd, minimum: MicroUsd): MicroUsd | undefined {
    const amount = Math.min(wanted, this.availableMicroUsd);
    if (amount < minimum) return undefined;
    this.estimates.set(key, amount);
    this.reserved.set(key, amount);
    this.peak = Math.max(this.peak, this.reservedMicroUsd);
    return amount;
  }

  /** Adds to `key`'s reservation as much of `more` as is left; returns the amount added. */
  extend(key: number, more: MicroUsd): MicroUsd {
    const current = this.reserved.get(key);
    if (current === undefined) return 0;
    const amount = Math.min(more, this.availableMicroUsd);
    if (amount <= 0) return 0;
    this.reserved.set(key, current + amount);
    this.estimates.set(key, (this.estimates.get(key) ?? 0) + amount);
    this.peak = Math.max(this.peak, this.reservedMicroUsd);
    return amount;
  }

  tryReserve(clipIndex: number, estimate: MicroUsd): boolean {
    if (!this.fits(estimate)) return false;
    this.estimates.set(clipIndex, estimate);
    this.reserved.set(clipIndex, this.expected(estimate));
    this.peak = Math.max(this.peak, this.reservedMicroUsd);
    return true;
  }

  /** The clip has ended: its reservation is replaced by what it really cost (zero releases it). */
  settle(clipIndex: number, actual: MicroUsd, model?: string): void {
    const estimate = this.estimates.get(clipIndex) ?? 0;
    this.reserved.delete(clipIndex);
    this.actualMicroUsd += actual;
    if (model) {
      const row = this.perModel.get(model) ?? { estimatedMicroUsd: 0, actualMicroUsd: 0, clips: 0 };
      row.estimatedMicroUsd += estimate;
      row.actualMicroUsd += actual;
      row.clips++;
      this.perModel.set(model, row);
    }
    if (estimate > 0 && actual > estimate) {
      this.overrunFactor = Math.max(this.overrunFactor, actual / estimate);
      for (const [index, amount] of this.reserved) {
        this.reserved.set(index, Math.max(amount, this.expected(this.estimates.get(index) ?? 0)));
      }
      this.peak = Math.max(this.peak, this.reservedMicroUsd);
    }
  }

  /**
   * Clips (most recently started first) whose expected cost no longer fits under the limit: the
   * ones to stop. Their reservations are released.
   */
  releaseWhatNoLongerFits(startOrder: readonly number[]): number[] {
    const stopped: number[] = [];
    for (const clipIndex of [...startOrder].reverse()) {
      if (this.committedMicroUsd <= this.limit) break;
      if (!this.reserved.has(clipIndex)) continue;
      this.reserved.delete(clipIndex);
      stopped.push(clipIndex);
    }
    return stopped;
  }

  raiseLimit(newLimit: MicroUsd): void {
    if (newLimit <= this.limit) throw new Error(`the new limit ${newLimit} µ$ must be above the current ${this.limit} µ$`);
    this.limit = newLimit;
  }
}
