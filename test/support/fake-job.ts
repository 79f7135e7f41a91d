import type { JobHandle } from '../../src/client.js';
import type { GenerateClipsResult, JobProgress } from '../../src/shared/model.js';

/** A job whose progress query answers `steps` one after the other (the last one from then on), ending after them. */
export function fakeJob(steps: JobProgress[], endAfterMs: number, result: Partial<GenerateClipsResult> = { jobId: 'j' }): JobHandle {
  let asked = 0;
  const ended = new Promise<GenerateClipsResult>((resolve) => setTimeout(() => resolve(result as GenerateClipsResult), endAfterMs));
  return {
    jobId: 'j',
    workflowId: 'clipflow-j',
    progress: async () => steps[Math.min(asked++, steps.length - 1)]!,
    result: () => ended,
    cancel: async () => undefined,
    describe: async () => {
      throw new Error('not used');
    },
    raw: undefined as never,
  };
}
