import { ActivityFailure, ApplicationFailure, CancelledFailure, RetryState } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { FailureType, describeClipFailure, wantsFallback } from '../src/shared/failures.js';
import type { ClipFailure } from '../src/shared/model.js';
import { BudgetLedger } from '../src/workflows/budget-ledger.js';

/** The ledger's money, all at once, so that a step's every effect is checked. */
function money(ledger: BudgetLedger) {
  return {
    actual: ledger.actual,
    reserved: ledger.reservedMicroUsd,
    committed: ledger.committedMicroUsd,
    overLimit: ledger.overLimit,
  };
}

describe('BudgetLedger', () => {
  it('starts with nothing spent by the job and nothing reserved', () => {
    const ledger = new BudgetLedger(1_000_000, 250_000, 800_000);

    expect(ledger.limitMicroUsd).toBe(1_000_000);
    expect(ledger.spentBeforeMicroUsd).toBe(250_000);
    expect(ledger.estimatedMicroUsd).toBe(800_000);
    expect(ledger.peakReservedMicroUsd).toBe(0);
    expect(ledger.perModel.size).toBe(0);
    // What was spent before the job is committed from the start.
    expect(money(ledger)).toEqual({ actual: 0, reserved: 0, committed: 250_000, overLimit: false });
  });

  describe('allowances for batches', () => {
    it('reserves as much of a batch’s estimate as is left, but not less than its cheapest clip', () => {
      const ledger = new BudgetLedger(1_250_000, 0, 2_300_000);

      expect(ledger.reserveUpTo(0, 500_000, 100_000)).toBe(500_000);
      expect(ledger.reserveUpTo(1, 500_000, 100_000)).toBe(500_000);
      expect(ledger.availableMicroUsd).toBe(250_000);
      // Only part of the third batch fits: it gets what is left.
      expect(ledger.reserveUpTo(2, 500_000, 100_000)).toBe(250_000);
      expect(ledger.availableMicroUsd).toBe(0);
      expect(ledger.reserveUpTo(3, 500_000, 100_000)).toBeUndefined();
      expect(money(ledger)).toEqual({ actual: 0, reserved: 1_250_000, committed: 1_250_000, overLimit: false });

      // A batch that spent less than its allowance returns the rest.
      ledger.settle(0, 400_000);
      expect(ledger.availableMicroUsd).toBe(100_000);
      expect(ledger.reserveUpTo(3, 500_000, 100_000)).toBe(100_000);
      expect(ledger.peakReservedMicroUsd).toBe(1_250_000);
    });

    it('reserves nothing, and says so, for free clips', () => {
      const ledger = new BudgetLedger(1_000_000, 1_000_000, 0);

      expect(ledger.reserveUpTo(0, 0, 0)).toBe(0);
      expect(ledger.reserveUpTo(1, 100, 100)).toBeUndefined();
    });

    it('extends a running batch’s allowance by what a raised limit leaves', () => {
      const ledger = new BudgetLedger(600_000, 0, 1_000_000);
      expect(ledger.reserveUpTo(0, 1_000_000, 100_000)).toBe(600_000);

      ledger.raiseLimit(900_000);
      expect(ledger.extend(0, 400_000)).toBe(300_000);
      expect(ledger.extend(7, 400_000)).toBe(0);
      expect(money(ledger)).toEqual({ actual: 0, reserved: 900_000, committed: 900_000, overLimit: false });
      ledger.settle(0, 850_000);
      expect(money(ledger)).toEqual({ actual: 850_000, reserved: 0, committed: 850_000, overLimit: false });
    });
  });

  describe('tryReserve', () => {
    it('counts what was spent before the job', () => {
      const ledger = new BudgetLedger(1_000_000, 600_000, 0);

      expect(ledger.fits(400_001)).toBe(false);
      expect(ledger.tryReserve(0, 400_001)).toBe(false);
      expect(money(ledger)).toEqual({ actual: 0, reserved: 0, committed: 600_000, overLimit: false });

      expect(ledger.fits(400_000)).toBe(true);
      expect(ledger.tryReserve(0, 400_000)).toBe(true);
      expect(money(ledger)).toEqual({ actual: 0, reserved: 400_000, committed: 1_000_000, overLimit: false });
    });

    it("counts the job's actual spend and the other clips' reservations, and accepts a clip exactly at the limit", () => {
      const ledger = new BudgetLedger(1_000_000, 100_000, 0);
      expect(ledger.tryReserve(0, 300_000)).toBe(true);
      ledger.settle(0, 200_000); // actual 200k
      expect(ledger.tryReserve(1, 400_000)).toBe(true); // reserved 400k
      expect(money(ledger)).toEqual({ actual: 200_000, reserved: 400_000, committed: 700_000, overLimit: false });

      // 100k before + 200k actual + 400k reserved + 300_001 = 1 µ$ over.
      expect(ledger.fits(300_001)).toBe(false);
      expect(ledger.tryReserve(2, 300_001)).toBe(false);
      // A refused clip leaves no trace.
      expect(money(ledger)).toEqual({ actual: 200_000, reserved: 400_000, committed: 700_000, overLimit: false });

      expect(ledger.tryReserve(2, 300_000)).toBe(true);
      expect(money(ledger)).toEqual({ actual: 200_000, reserved: 700_000, committed: 1_000_000, overLimit: false });
      // Full: not even one more micro-dollar fits.
      expect(ledger.tryReserve(3, 1)).toBe(false);
      expect(ledger.tryReserve(3, 0)).toBe(true);
    });
  });

  describe('settle', () => {
    it('replaces the reservation by the actual cost', () => {
      const ledger = new BudgetLedger(1_000_000, 0, 0);
      ledger.tryReserve(0, 300_000);
      ledger.tryReserve(1, 200_000);

      ledger.settle(0, 250_000);

      expect(money(ledger)).toEqual({ actual: 250_000, reserved: 200_000, committed: 450_000, overLimit: false });
    });

    it('releases the reservation when the clip cost nothing, making room for another clip', () => {
      const ledger = new BudgetLedger(1_000_000, 0, 0);
      ledger.tryReserve(0, 600_000);
      ledger.tryReserve(1, 400_000);
      expect(ledger.tryReserve(2, 500_000)).toBe(false);

      ledger.settle(0, 0);

      expect(money(ledger)).toEqual({ actual: 0, reserved: 400_000, committed: 400_000, overLimit: false });
      expect(ledger.tryReserve(2, 500_000)).toBe(true);
      expect(ledger.reservedMicroUsd).toBe(900_000);
    });

    it('adds up the actual costs of the settled clips', () => {
      const ledger = new BudgetLedger(10_000_000, 500_000, 0);
      for (const clipIndex of [0, 1, 2]) ledger.tryReserve(clipIndex, 1_000_000);

      ledger.settle(1, 900_000);
      ledger.settle(0, 0);
      ledger.settle(2, 1_000_000);

      expect(money(ledger)).toEqual({ actual: 1_900_000, reserved: 0, committed: 2_400_000, overLimit: false });
    });
  });

  it('peakReservedMicroUsd is the most ever reserved at once', () => {
    const ledger = new BudgetLedger(1_000_000, 0, 0);
    ledger.tryReserve(0, 300_000);
    ledger.tryReserve(1, 200_000);
    expect(ledger.peakReservedMicroUsd).toBe(500_000);

    ledger.settle(0, 300_000);
    expect(ledger.reservedMicroUsd).toBe(200_000);
    expect(ledger.peakReservedMicroUsd).toBe(500_000); // settling does not lower the peak

    ledger.tryReserve(2, 100_000);
    expect(ledger.peakReservedMicroUsd).toBe(500_000); // 300k at once now, under the peak

    expect(ledger.tryReserve(3, 500_000)).toBe(false); // 300k spent + 300k + 500k is over
    expect(ledger.peakReservedMicroUsd).toBe(500_000); // a refused clip does not count

    ledger.tryReserve(3, 400_000);
    expect(ledger.reservedMicroUsd).toBe(700_000);
    expect(ledger.peakReservedMicroUsd).toBe(700_000);
  });

  it('keeps a row per model of the settled clips: their estimates, actual costs and count', () => {
    const ledger = new BudgetLedger(10_000_000, 0, 0);
    ledger.tryReserve(0, 500_000);
    ledger.tryReserve(1, 500_000);
    ledger.tryReserve(2, 200_000);
    ledger.tryReserve(3, 300_000);

    ledger.settle(0, 500_000, 'minimax/video-01');
    ledger.settle(2, 150_000, 'wan-video/wan-2.1-t2v-480p');
    ledger.settle(1, 450_000, 'minimax/video-01');
    ledger.settle(3, 100_000); // a failed clip names no model: no row, but its cost counts
    ledger.settle(9, 70_000, 'wan-video/wan-2.1-t2v-480p'); // never reserved: estimated at 0

    expect([...ledger.perModel]).toEqual([
      ['minimax/video-01', { estimatedMicroUsd: 1_000_000, actualMicroUsd: 950_000, clips: 2 }],
      ['wan-video/wan-2.1-t2v-480p', { estimatedMicroUsd: 200_000, actualMicroUsd: 220_000, clips: 2 }],
    ]);
    expect(ledger.actual).toBe(1_270_000);
  });

  describe('when a clip costs more than its estimate', () => {
    /** Four clips of 400k each running under a 2M limit; clip 0 then costs 800k, twice its estimate. */
    function overrun() {
      const ledger = new BudgetLedger(2_000_000, 0, 1_600_000);
      for (const clipIndex of [3, 1, 2, 0]) expect(ledger.tryReserve(clipIndex, 400_000)).toBe(true);
      expect(ledger.reservedMicroUsd).toBe(1_600_000);
      ledger.settle(0, 800_000);
      return ledger;
    }

    it("doubles the running clips' reservations", () => {
      const ledger = overrun();

      // Clips 3, 1 and 2 are now each expected to cost 800k.
      expect(money(ledger)).toEqual({ actual: 800_000, reserved: 2_400_000, committed: 3_200_000, overLimit: false });
      // Settling each one shows its reservation was 800k: settled at 0, the reserved sum drops by that.
      ledger.settle(3, 0);
      expect(ledger.reservedMicroUsd).toBe(1_600_000);
      ledger.settle(1, 0);
      expect(ledger.reservedMicroUsd).toBe(800_000);
    });

    it('releaseWhatNoLongerFits stops the most recently started clips first, until the committed money fits', () => {
      const ledger = overrun();
      const startOrder = [3, 1, 2]; // the clips still running, in the order they started

      // 3.2M committed: stopping clip 2 leaves 2.4M, still over; stopping clip 1 too leaves 1.6M.
      expect(ledger.releaseWhatNoLongerFits(startOrder)).toEqual([2, 1]);
      expect(money(ledger)).toEqual({ actual: 800_000, reserved: 800_000, committed: 1_600_000, overLimit: false });

      // It fits now: nothing more to stop.
      expect(ledger.releaseWhatNoLongerFits(startOrder)).toEqual([]);
      expect(ledger.reservedMicroUsd).toBe(800_000);
    });

    it('releaseWhatNoLongerFits passes over clips that hold no reservation', () => {
      const ledger = overrun();
      ledger.settle(2, 0); // the latest-started clip already ended: 2.4M committed

      // Clip 2 is skipped (nothing to release); clip 1 is stopped, leaving 1.6M.
      expect(ledger.releaseWhatNoLongerFits([3, 1, 2])).toEqual([1]);
      expect(ledger.committedMicroUsd).toBe(1_600_000);
    });

    it('expects the clips started afterwards to overrun by the same factor', () => {
      const ledger = overrun();
      ledger.releaseWhatNoLongerFits([3, 1, 2]); // 1.6M committed, 400k left

      // A 300k estimate is expected to cost 600k: it does not fit; a 200k one (400k) does, exactly.
      expect(ledger.fits(300_000)).toBe(false);
      expect(ledger.tryReserve(4, 300_000)).toBe(false);
      expect(ledger.tryReserve(5, 200_000)).toBe(true);
      expect(money(ledger)).toEqual({ actual: 800_000, reserved: 1_200_000, committed: 2_000_000, overLimit: false });

      // The row records the estimate, not the inflated reservation.
      ledger.settle(5, 400_000, 'm');
      expect(ledger.perModel.get('m')).toEqual({ estimatedMicroUsd: 200_000, actualMicroUsd: 400_000, clips: 1 });
    });

    it('does not lower reservations when a later clip costs less than its estimate', () => {
      const ledger = overrun();
      ledger.settle(3, 100_000); // 400k estimate, 100k actual

      expect(money(ledger)).toEqual({ actual: 900_000, reserved: 1_600_000, committed: 2_500_000, overLimit: false });
    });
  });

  describe('overLimit', () => {
    it('is set only when what was spent before the job plus its actual spend passes the limit', () => {
      const ledger = new BudgetLedger(1_000_000, 300_000, 0);
      expect(ledger.tryReserve(0, 700_000)).toBe(true);
      expect(ledger.tryReserve(1, 0)).toBe(true);

      ledger.settle(0, 700_000); // 300k + 700k: exactly at the limit
      expect(money(ledger)).toEqual({ actual: 700_000, reserved: 0, committed: 1_000_000, overLimit: false });

      ledger.settle(1, 1); // one micro-dollar over
      expect(money(ledger)).toEqual({ actual: 700_001, reserved: 0, committed: 1_000_001, overLimit: true });
    });

    it('does not count reservations, however far they overshoot', () => {
      const ledger = new BudgetLedger(1_000_000, 0, 0);
      ledger.tryReserve(0, 100_000);
      ledger.tryReserve(1, 400_000);
      ledger.tryReserve(2, 400_000);
      ledger.settle(0, 400_000); // 4x: the two running clips now reserve 1.6M each

      expect(money(ledger)).toEqual({ actual: 400_000, reserved: 3_200_000, committed: 3_600_000, overLimit: false });
    });
  });

  describe('raiseLimit', () => {
    it('lets a clip that was held for the budget reserve', () => {
      const ledger = new BudgetLedger(1_000_000, 100_000, 0);
      expect(ledger.tryReserve(0, 600_000)).toBe(true);
      expect(ledger.tryReserve(1, 500_000)).toBe(false); // held: 1.2M would be committed

      ledger.raiseLimit(1_200_000);

      expect(ledger.limitMicroUsd).toBe(1_200_000);
      expect(ledger.tryReserve(1, 500_000)).toBe(true);
      expect(ledger.committedMicroUsd).toBe(1_200_000);
    });

    it('clears overLimit once the new limit covers the spend', () => {
      const ledger = new BudgetLedger(1_000_000, 0, 0);
      ledger.settle(0, 1_000_001);
      expect(ledger.overLimit).toBe(true);

      ledger.raiseLimit(1_000_001);

      expect(ledger.overLimit).toBe(false);
    });

    it.each([
      { case: 'equal to', newLimit: 1_000_000 },
      { case: 'below', newLimit: 999_999 },
      { case: 'zero, far below', newLimit: 0 },
    ])('refuses a limit $case the current one and keeps the current one', ({ newLimit }) => {
      const ledger = new BudgetLedger(1_000_000, 0, 0);
      ledger.tryReserve(0, 1_000_000);

      expect(() => ledger.raiseLimit(newLimit)).toThrow(`the new limit ${newLimit} µ$ must be above the current 1000000 µ$`);

      expect(ledger.limitMicroUsd).toBe(1_000_000);
      expect(ledger.tryReserve(1, 1)).toBe(false);
    });
  });
});

describe('wantsFallback', () => {
  function failure(errorType: string): ClipFailure {
    return { clipIndex: 0, errorType, message: 'it failed', attempts: 4, costMicroUsd: 0 };
  }

  it.each([
    // The same request would fail on any model, or the clip is not wanted any more.
    [FailureType.InvalidInput, false],
    [FailureType.Auth, false],
    [FailureType.ContentRejected, false],
    [FailureType.Cancelled, false],
    [FailureType.Misconfigured, false],
    // Another model may well make it.
    [FailureType.RateLimited, true],
    [FailureType.ModelUnavailable, true],
    [FailureType.ValidationFailed, true],
    [FailureType.ProviderFailed, true],
    ['Timeout', true],
    ['TypeError', true],
    ['Error', true],
  ] as const)('%s -> %s', (errorType, expected) => {
    expect(wantsFallback(failure(errorType))).toBe(expected);
  });
});

describe('describeClipFailure', () => {
  function activityFailure(cause: Error): ActivityFailure {
    return new ActivityFailure('activity failed', 'generateClip', '1', RetryState.MAXIMUM_ATTEMPTS_REACHED, undefined, cause);
  }

  it("takes the generations and the clip's spend from the failure details of the generateClip activity", () => {
    const cause = ApplicationFailure.create({
      type: FailureType.ValidationFailed,
      message: 'clip failed validation: short side 240 px',
      details: [{ generations: 3, spentMicroUsd: 750_000 }],
    });

    expect(describeClipFailure(2, activityFailure(cause))).toEqual({
      clipIndex: 2,
      errorType: FailureType.ValidationFailed,
      message: 'clip failed validation: short side 240 px',
      attempts: 3,
      costMicroUsd: 750_000,
    });
  });

  it('reads no generations and no spend when the failure has no details', () => {
    const cause = ApplicationFailure.create({ type: 'TypeError', message: 'socket hang up' });

    expect(describeClipFailure(1, activityFailure(cause))).toEqual({
      clipIndex: 1,
      errorType: 'TypeError',
      message: 'socket hang up',
      attempts: 0,
      costMicroUsd: 0,
    });
  });

  it('names a cancelled clip Cancelled', () => {
    expect(describeClipFailure(5, activityFailure(new CancelledFailure('cancelled')))).toEqual({
      clipIndex: 5,
      errorType: FailureType.Cancelled,
      message: 'cancelled before it finished',
      attempts: 0,
      costMicroUsd: 0,
    });
  });
});
