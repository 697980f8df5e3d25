import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keys, Resque } from '../../src/index.js';
import { createLogger } from '../../src/logging/logger.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import { waitFor } from '../harness/context.js';
import { type RedisServer, removeDir, startRedis } from '../harness/redis-server.js';

describe('the scheduler across a Redis restart', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis({ appendOnly: true });
  });
  afterAll(async () => {
    await server.stop();
    removeDir(server.dir);
  });

  it('keeps firing each tick once and promotes delayed jobs after Redis comes back', async () => {
    const keys = new Keys('resque');
    const redis = new Redis(server.url, { maxRetriesPerRequest: null, retryStrategy: () => 50 });
    redis.on('error', () => {});
    const check = new Redis(server.url, { maxRetriesPerRequest: null, retryStrategy: () => 50 });
    check.on('error', () => {});
    const T = 3_000_000_000_000;
    let now = T;
    const scheduler = new Scheduler({
      redis,
      keys,
      logger: createLogger('silent'),
      now: async () => now,
      pollIntervalMs: 50,
      schedules: [['ten', { every: '10s', class: 'Report', queue: 'reports' }]],
    });
    const resque = new Resque({ redis: server.url });
    try {
      await resque.enqueueAtTo('reports', T + 25_000, 'Report', 'delayed');
      await scheduler.start();
      await waitFor(() => check.hexists(keys.scheduleLastTick, 'ten'), 10_000, 'the schedule to be seen');
      now = T + 10_000;
      await waitFor(async () => (await check.llen(keys.queue('reports'))) === 1, 10_000, 'the first tick');

      await server.kill();
      now = T + 20_000;
      await new Promise((resolve) => setTimeout(resolve, 200)); // passes fail while Redis is down
      await server.restart();
      await waitFor(
        async () => (await check.llen(keys.queue('reports'))) === 2,
        15_000,
        'the tick after the restart',
      );
      now = T + 25_000;
      await waitFor(async () => (await check.llen(keys.queue('reports'))) === 3, 15_000, 'the delayed job');
      await new Promise((resolve) => setTimeout(resolve, 200)); // more passes at the same time fire nothing more
      const args = (await check.lrange(keys.queue('reports'), 0, -1)).map(
        (raw) => (JSON.parse(raw) as { args: unknown[] }).args,
      );
      expect(args).toEqual([[], [], ['delayed']]);
      expect(scheduler.isMaster).toBe(true);
    } finally {
      await scheduler.stop();
      await resque.close();
      redis.disconnect();
      check.disconnect();
    }
  }, 60_000);
});
