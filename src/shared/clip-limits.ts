/**
 * What a clip may ask for in one environment on one model, known before anything is paid: the
 * environment's clip validation and what the provider and model accept. Workflow-safe. Built by
 * the worker's jobSettings activity (and by `clipflow validate`, with the same code), checked by
 * the workflow before the budget check.
 */
export interface ClipLimits {
  /** Who sets the limits, as messages name it: `replicate model minimax/hailuo-02`. */
  acceptedBy: string;
  /** Shorter clips never pass the environment's validation of a made clip. */
  minDurationS: number;
  maxDurationS: number;
  /** The only durations the model makes, when it takes a duration from a short list. */
  durationsS?: number[];
  /** The only aspect ratios the model makes; every one of the job model's when absent. */
  aspectRatios?: string[];
  /** Why no clip at all can pass in this environment (the model's frames are under the validation minimum). */
  misconfigured?: string;
}

export interface FieldProblem {
  /** The field's path below the clip: `durationS`. */
  key: string;
  message: string;
}

/** What is wrong with one clip's duration and aspect ratio under `limits`; nothing when it fits. */
export function clipLimitProblems(clip: { durationS: number; aspectRatio: string }, limits: ClipLimits): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const { durationS, aspectRatio } = clip;
  const range = `${limits.minDurationS} to ${limits.maxDurationS} s`;
  if (limits.durationsS && !limits.durationsS.includes(durationS)) {
    const allowed = limits.durationsS.filter((d) => d >= limits.minDurationS && d <= limits.maxDurationS);
    problems.push({
      key: 'durationS',
      message: `is ${durationS} s but ${limits.acceptedBy} makes only ${allowed.join(' or ')} s clips (allowed: ${allowed.join(', ')})`,
    });
  } else if (durationS < limits.minDurationS) {
    problems.push({
      key: 'durationS',
      message: `is ${durationS} s but clips under ${limits.minDurationS} s never pass this environment's validation (allowed: ${range})`,
    });
  } else if (durationS > limits.maxDurationS) {
    problems.push({
      key: 'durationS',
      message: `is ${durationS} s but ${limits.acceptedBy} makes at most ${limits.maxDurationS} s (allowed: ${range})`,
    });
  }
  if (limits.aspectRatios && !limits.aspectRatios.includes(aspectRatio)) {
    problems.push({
      key: 'aspectRatio',
      message: `is ${aspectRatio} but ${limits.acceptedBy} does not make it (allowed: ${limits.aspectRatios.join(', ')})`,
    });
  }
  return problems;
}
