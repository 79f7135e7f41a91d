/**
 * Faults the local provider can inject, for tests and demos. A plan maps clipIndex to a fault:
 *   transient  – the first `times` attempts fail with a retryable error, later ones succeed
 *   permanent  – every attempt fails with a retryable error (the clip ends as a failure)
 *   auth       – fails with the non-retryable Auth type
 *   slow       – the render takes `delayMs` longer
 *   black      – the clip goes black a third of the way in (first `times` attempts, or every one)
 *   frozen     – the picture freezes a third of the way in (likewise)
 * Text form (LOCAL_PROVIDER_FAULTS): "1:transient*2, 3:permanent, 4:auth, 5:slow=3000, 6:black*1, 7:frozen".
 */
export type Fault =
  | { kind: 'transient'; times: number }
  | { kind: 'permanent' }
  | { kind: 'auth' }
  | { kind: 'content' }
  | { kind: 'slow'; delayMs: number }
  | { kind: ContentFault; times?: number };

/** Faults in the picture: the render succeeds, and the clip's content check must catch it. */
export type ContentFault = 'black' | 'frozen';

export type FaultPlan = Readonly<Record<number, Fault>>;

export function parseFaultPlan(text: string): FaultPlan {
  const plan: Record<number, Fault> = {};
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (!entry) continue;
    const match = /^(\d+):(transient|permanent|auth|content|slow|black|frozen)(?:\*(\d+)|=(\d+))?$/.exec(entry);
    if (!match) {
      throw new Error(
        `fault "${entry}" is not of the form <clipIndex>:transient*N | permanent | auth | content | slow=<ms> | black[*N] | frozen[*N]`,
      );
    }
    const clipIndex = Number(match[1]);
    const kind = match[2] as Fault['kind'];
    if (kind === 'black' || kind === 'frozen') {
      plan[clipIndex] = match[3] ? { kind, times: Number(match[3]) } : { kind };
      continue;
    }
    plan[clipIndex] =
      kind === 'transient'
        ? { kind, times: Number(match[3] ?? 1) }
        : kind === 'slow'
          ? { kind, delayMs: Number(match[4] ?? 5000) }
          : { kind };
  }
  return plan;
}
