/**
 * Runway and Pika in the configuration: their defaults, their models' limits before anything is
 * paid, their credentials required, their prices in the one table, and a fallback on another provider.
 */
import { describe, expect, it } from 'vitest';
import { clipLimitsFor } from '../src/activities/job-settings.js';
import { configuredProviders, loadConfig, pollIntervalMs, providerChoice } from '../src/config/index.js';
import { estimateClipCost, priceFor } from '../src/cost/prices.js';

describe('provider configuration for Runway and Pika', () => {
  it('each provider brings its own default model, and its limits are known before paying', () => {
    const runway = loadConfig({ VIDEO_PROVIDER: 'runway', RUNWAYML_API_SECRET: 'key_x' });
    expect([runway.generation.model, runway.generation.fallbackModel, runway.generation.fallbackProvider]).toEqual([
      'gen4.5',
      undefined,
      'runway',
    ]);
    expect(clipLimitsFor(runway.generation)).toMatchObject({
      acceptedBy: 'runway model gen4.5',
      durationsS: [2, 3, 4, 5, 6, 7, 8, 9, 10],
      aspectRatios: ['16:9', '9:16'],
    });
    const turbo = loadConfig({ VIDEO_PROVIDER: 'runway', VIDEO_MODEL: 'gen4_turbo' });
    expect(clipLimitsFor(turbo.generation).aspectRatios).toEqual(['16:9', '9:16', '1:1', '4:3', '3:4']);

    const pika = loadConfig({ VIDEO_PROVIDER: 'pika', FAL_KEY: 'fal_x' });
    expect(pika.generation.model).toBe('fal-ai/pika/v2.2');
    expect(clipLimitsFor(pika.generation)).toMatchObject({ durationsS: [5, 10], aspectRatios: ['16:9', '9:16', '1:1'] });
  });

  it('builds each provider with its credentials and base URL, and refuses one without them', () => {
    const config = loadConfig({
      VIDEO_PROVIDER: 'runway',
      RUNWAYML_API_SECRET: 'key_runway',
      RUNWAYML_BASE_URL: 'http://127.0.0.1:8788',
      FAL_KEY: 'fal_key',
      FAL_BASE_URL: 'http://127.0.0.1:8789',
      PROVIDER_MAX_RETRY_AFTER_S: '30',
      RUNWAY_POLL_INTERVAL_MS: '1000',
    });
    expect(providerChoice(config)).toEqual({
      provider: 'runway',
      options: { apiSecret: 'key_runway', baseUrl: 'http://127.0.0.1:8788', maxRetryAfterS: 30 },
    });
    // Any provider can be named, so that a fallback provider can be built beside the primary.
    expect(providerChoice(config, 'pika')).toEqual({
      provider: 'pika',
      options: { key: 'fal_key', baseUrl: 'http://127.0.0.1:8789', maxRetryAfterS: 30 },
    });
    expect([pollIntervalMs(config), pollIntervalMs(config, 'pika')]).toEqual([1000, 2000]);
    // Runway's own default URL when none is set.
    expect(loadConfig({}).runway.baseUrl).toBe('https://api.dev.runwayml.com');
    expect(() => providerChoice(loadConfig({ VIDEO_PROVIDER: 'runway' }))).toThrow(
      'VIDEO_PROVIDER is runway but RUNWAYML_API_SECRET is not set',
    );
    expect(() => providerChoice(loadConfig({ VIDEO_PROVIDER: 'pika' }))).toThrow('VIDEO_PROVIDER is pika but FAL_KEY is not set');
  });

  it('a fallback on another provider: its default model, its credentials required, content rejections kept unless asked', () => {
    const same = loadConfig({ VIDEO_PROVIDER: 'runway', VIDEO_FALLBACK_PROVIDER: 'runway' });
    expect([same.generation.fallbackProvider, same.generation.fallbackModel]).toEqual(['runway', undefined]);
    expect(configuredProviders(same)).toEqual(['runway']);

    const env = { VIDEO_PROVIDER: 'runway', RUNWAYML_API_SECRET: 'key_r', VIDEO_FALLBACK_PROVIDER: 'pika', FAL_KEY: 'fal_k' } as const;
    const across = loadConfig(env);
    expect(across.generation).toMatchObject({
      provider: 'runway',
      model: 'gen4.5',
      fallbackProvider: 'pika',
      fallbackModel: 'fal-ai/pika/v2.2',
      fallbackOnContentRejected: false,
    });
    expect(configuredProviders(across)).toEqual(['runway', 'pika']);
    expect(providerChoice(across, 'pika')).toMatchObject({ provider: 'pika', options: { key: 'fal_k' } });
    // Replicate can be the fallback too, with the model named.
    const toReplicate = loadConfig({ ...env, VIDEO_FALLBACK_PROVIDER: 'replicate', VIDEO_FALLBACK_MODEL: 'acme/video' });
    expect([toReplicate.generation.fallbackProvider, toReplicate.generation.fallbackModel]).toEqual(['replicate', 'acme/video']);
    // The fallback provider's missing credential is named as the fallback's.
    expect(() => providerChoice(toReplicate, 'replicate')).toThrow(
      'VIDEO_FALLBACK_PROVIDER is replicate but REPLICATE_API_TOKEN is not set',
    );
    // An empty fallback model switches the fallback, and so the other provider, off.
    const off = loadConfig({ ...env, VIDEO_FALLBACK_MODEL: '' });
    expect([off.generation.fallbackModel, configuredProviders(off)]).toEqual([undefined, ['runway']]);
    expect(loadConfig({ ...env, VIDEO_FALLBACK_ON_CONTENT_REJECTED: 'true' }).generation.fallbackOnContentRejected).toBe(true);
    expect(() => loadConfig({ ...env, VIDEO_FALLBACK_PROVIDER: 'acme' })).toThrow(/VIDEO_FALLBACK_PROVIDER/);
  });

  it('prices Runway and Pika by the second of video in the one table, and CLIPFLOW_PRICES overrides them', () => {
    const { prices } = loadConfig({});
    expect(estimateClipCost(priceFor(prices, 'gen4.5'), 5)).toBe(600_000);
    expect(estimateClipCost(priceFor(prices, 'gen4_turbo'), 10)).toBe(500_000);
    expect(estimateClipCost(priceFor(prices, 'fal-ai/pika/v2.2'), 5)).toBe(200_000);
    const overridden = loadConfig({ CLIPFLOW_PRICES: JSON.stringify({ 'gen4.5': { usdPerPrediction: 1 } }) }).prices;
    expect(estimateClipCost(priceFor(overridden, 'gen4.5'), 5)).toBe(1_000_000);
    expect(estimateClipCost(priceFor(overridden, 'fal-ai/pika/v2.2'), 10)).toBe(400_000);
  });
});
