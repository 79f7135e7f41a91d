import type { PredictionRequest } from '../../src/providers/provider.js';

/** A provider request for one 5 s 16:9 clip at 1280x720, with `overrides` on top. */
export function predictionRequest(overrides: Partial<PredictionRequest> = {}): PredictionRequest {
  return {
    jobId: 'job-1',
    clipIndex: 0,
    attempt: 1,
    model: 'minimax/video-01',
    prompt: 'a lighthouse at dawn, waves crashing',
    durationS: 5,
    aspectRatio: '16:9',
    width: 1280,
    height: 720,
    fps: 24,
    deadlineS: 300,
    ...overrides,
  };
}
