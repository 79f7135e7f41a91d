import { describe, expect, it } from 'vitest';
import { clipLimitsFor } from '../src/activities/job-settings.js';
import { loadConfig } from '../src/config/index.js';
import { clipLimitProblems } from '../src/shared/clip-limits.js';

const limitsOf = (env: Record<string, string>) => clipLimitsFor(loadConfig(env).generation);

describe('clip limits: what a clip may ask for in an environment, known before paying', () => {
  it('the local provider: at least the minimum duration validation requires, every aspect ratio', () => {
    expect(limitsOf({})).toEqual({ acceptedBy: 'the local provider (clipflow/local-ffmpeg)', minDurationS: 1, maxDurationS: 60 });
  });

  it('known Replicate models: their durations and aspect ratios, with or without a version', () => {
    expect(limitsOf({ CLIPFLOW_ENV: 'production' })).toEqual({
      acceptedBy: 'replicate model minimax/video-01',
      minDurationS: 1,
      maxDurationS: 60,
    });
    expect(limitsOf({ CLIPFLOW_ENV: 'production', VIDEO_MODEL: 'minimax/hailuo-02:0123abc' })).toMatchObject({ durationsS: [6, 10] });
    expect(limitsOf({ VIDEO_PROVIDER: 'replicate', VIDEO_MODEL: 'wavespeedai/wan-2.1-t2v-720p' })).toMatchObject({
      aspectRatios: ['16:9', '9:16'],
    });
    // A model clipflow knows nothing of is limited by the environment alone.
    expect(limitsOf({ VIDEO_PROVIDER: 'replicate', VIDEO_MODEL: 'acme/video' })).toEqual({
      acceptedBy: 'replicate model acme/video',
      minDurationS: 1,
      maxDurationS: 60,
    });
  });

  it('frames smaller than validation requires make the environment misconfigured, and say which setting', () => {
    expect(limitsOf({ VIDEO_PROVIDER: 'replicate', VIDEO_MODEL: 'wan-video/wan-2.1-t2v-480p' }).misconfigured).toBe(
      'replicate model wan-video/wan-2.1-t2v-480p makes frames with a 480 px short side, under the 720 px that validation requires ' +
        '(VIDEO_MIN_SHORT_SIDE): every clip would be paid for and then fail',
    );
    expect(
      limitsOf({ VIDEO_PROVIDER: 'replicate', VIDEO_MODEL: 'wan-video/wan-2.1-t2v-480p', VIDEO_MIN_SHORT_SIDE: '480' }),
    ).not.toHaveProperty('misconfigured');
    expect(limitsOf({ VIDEO_SHORT_SIDE: '480' }).misconfigured).toContain(
      'the local provider (clipflow/local-ffmpeg) makes frames with a 480 px',
    );
  });

  it('names the field and the allowed values of each clip outside them', () => {
    const hailuo = limitsOf({ VIDEO_PROVIDER: 'replicate', VIDEO_MODEL: 'minimax/hailuo-02' });
    expect(clipLimitProblems({ durationS: 6, aspectRatio: '1:1' }, hailuo)).toEqual([]);
    expect(clipLimitProblems({ durationS: 0.5, aspectRatio: '16:9' }, hailuo)).toEqual([
      { key: 'durationS', message: 'is 0.5 s but replicate model minimax/hailuo-02 makes only 6 or 10 s clips (allowed: 6, 10)' },
    ]);
    const wan = limitsOf({ VIDEO_PROVIDER: 'replicate', VIDEO_MODEL: 'wavespeedai/wan-2.1-t2v-720p' });
    expect(clipLimitProblems({ durationS: 0.9, aspectRatio: '4:3' }, wan)).toEqual([
      { key: 'durationS', message: "is 0.9 s but clips under 1 s never pass this environment's validation (allowed: 1 to 60 s)" },
      { key: 'aspectRatio', message: 'is 4:3 but replicate model wavespeedai/wan-2.1-t2v-720p does not make it (allowed: 16:9, 9:16)' },
    ]);
  });
});
