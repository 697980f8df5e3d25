import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { RedisClock } from '../../src/redis/clock.js';
import { timeReplyMs } from '../../src/redis/replies.js';
import { rawRedis } from '../harness/context.js';

// The worker's reading of the Redis clock (retry due times): Redis's time, whatever this machine's clock says, with
// one TIME per resync period rather than one per reading.
let redis: Redis;
beforeAll(() => {
  redis = rawRedis();
});
afterAll(async () => {
  await redis.quit();
});
afterEach(() => {
  vi.restoreAllMocks();
});

const HOUR = 3_600_000;

describe('RedisClock', () => {
  it("reads Redis's time when this machine's clock is an hour fast", async () => {
    const realNow = Date.now.bind(Date);
    vi.spyOn(Date, 'now').mockImplementation(() => realNow() + HOUR);
    const clock = new RedisClock(redis);
    const before = timeReplyMs(await redis.time());
    const reading = await clock.now();
    const after = timeReplyMs(await redis.time());
    // Off by at most half of one round trip; an hour's skew would be far outside this.
    expect(reading).toBeGreaterThanOrEqual(before - 1000);
    expect(reading).toBeLessThanOrEqual(after + 1000);
  });

  it('asks Redis once for many readings within the resync period', async () => {
    const clock = new RedisClock(redis);
    const time = vi.spyOn(redis, 'time');
    const readings: number[] = [];
    for (let i = 0; i < 20; i++) readings.push(await clock.now());
    expect(time).toHaveBeenCalledTimes(1);
    for (let i = 1; i < readings.length; i++)
      expect(readings[i]).toBeGreaterThanOrEqual(readings[i - 1] ?? 0);
  });

  it('asks again once the period has passed, as measured by this machine', async () => {
    let machineMs = Date.now();
    vi.spyOn(Date, 'now').mockImplementation(() => machineMs);
    const clock = new RedisClock(redis);
    const time = vi.spyOn(redis, 'time');
    await clock.now();
    machineMs += 5000;
    await clock.now();
    expect(time).toHaveBeenCalledTimes(1);
    machineMs += 6000;
    await clock.now();
    expect(time).toHaveBeenCalledTimes(2);
  });
});
