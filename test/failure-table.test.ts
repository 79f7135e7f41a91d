/**
 * Every failure type walked through the one table and the code that reads it: whether the
 * activity lets Temporal retry it, whether retry policies list it as never retried, whether the
 * clip moves to the fallback model, and what the production report calls it.
 */
import { ActivityFailure, type ApplicationFailure, RetryState } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { buildReport } from '../src/activities/write-report.js';
import type { ReportInput } from '../src/shared/activity-io.js';
import {
  ClipflowError,
  FAILURES,
  NON_RETRYABLE_TYPES,
  describeClipFailure,
  ruleFor,
  toApplicationFailure,
  wantsFallback,
  type FailureType,
} from '../src/shared/failures.js';

const types = Object.keys(FAILURES) as FailureType[];

/** The failure as the workflow sees it: the activity's ApplicationFailure inside an ActivityFailure. */
function throughTemporal(type: FailureType, exhausted = false): ActivityFailure {
  const thrown = toApplicationFailure(new ClipflowError(type, `${type} happened`), {
    details: [{ generations: 2, spentMicroUsd: 5 }],
    exhausted,
  });
  return new ActivityFailure('activity failed', 'generateClip', '1', RetryState.NON_RETRYABLE_FAILURE, undefined, thrown);
}

function reportOf(failure: ReturnType<typeof describeClipFailure>) {
  const input: ReportInput = {
    jobId: 'job',
    clipPrompts: [{ clipIndex: failure.clipIndex }],
    clips: [],
    failures: [failure],
    totalCostMicroUsd: failure.costMicroUsd,
    totalGenerationTimeS: 1,
    minClips: 1,
    budget: {
      limitMicroUsd: 1,
      spentBeforeJobMicroUsd: 0,
      estimatedMicroUsd: 0,
      actualMicroUsd: 0,
      peakReservedMicroUsd: 0,
      skippedForBudget: [],
      cancelledForBudget: [],
      perModel: [],
    },
    cancelledClips: [],
  };
  return buildReport(input).clips[0]!;
}

describe('the failure table', () => {
  it('has a rule for every type the code names, each with a label', () => {
    expect(types.length).toBeGreaterThanOrEqual(15);
    for (const type of types) expect(FAILURES[type].label.length, type).toBeGreaterThan(0);
  });

  it.each(types)('%s: retry, fallback and report follow its row', (type) => {
    const rule = FAILURES[type];
    const failure = throughTemporal(type);
    const cause = failure.cause as ApplicationFailure;

    // Retry: the activity marks it, and the retry policies list it.
    expect(cause.type).toBe(type);
    expect(cause.nonRetryable).toBe(!rule.retryable);
    expect(NON_RETRYABLE_TYPES.includes(type)).toBe(!rule.retryable);
    // A clip out of generations is never retried, whatever the type.
    expect((throughTemporal(type, true).cause as ApplicationFailure).nonRetryable).toBe(true);

    // Fallback: read back in the workflow, with the clip's generations and spend.
    const described = describeClipFailure(3, failure);
    expect(described).toEqual({ clipIndex: 3, errorType: type, message: `${type} happened`, attempts: 2, costMicroUsd: 5 });
    expect(wantsFallback(described)).toBe(rule.fallback);

    // Report: its outcome and its words.
    expect(reportOf(described)).toMatchObject({ success: false, outcome: rule.outcome, errorType: type, reason: rule.label });
  });

  it('rules an error nobody named like an unexpected Error: retried, then the fallback', () => {
    const thrown = toApplicationFailure(new TypeError('socket hang up'));
    expect(thrown).toMatchObject({ type: 'TypeError', nonRetryable: false });
    expect(ruleFor('TypeError')).toBe(FAILURES.Error);
    expect(wantsFallback({ errorType: 'TypeError' })).toBe(true);
  });

  it('passes a provider’s Retry-After on to Temporal', () => {
    expect(toApplicationFailure(new ClipflowError('RateLimited', 'HTTP 429', 7000)).nextRetryDelay).toBe(7000);
  });
});
