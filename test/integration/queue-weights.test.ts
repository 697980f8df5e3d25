// Weighted mode between queues against a real Redis: a worker list `critical:5,default:1` takes from default one call
// in six while both hold jobs; without weights, Resque's strict order takes every job from critical first.
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Resque } from '../../src/client/resque.js';
import { resolveConfig } from '../../src/config/resolve.js';
import { createLogger } from '../../src/logging/logger.js';
import { Keys } from '../../src/protocol/keys.js';
import { Fetcher } from '../../src/worker/fetch/fetcher.js';
import { QueuePatterns } from '../../src/worker/queue-patterns.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace } from '../harness/context.js';

let redis: Redis;
beforeAll(() => {
  redis = rawRedis();
});
afterAll(async () => {
  await redis.quit();
});

async function takeFrom(list: string[], calls: number): Promise<string[]> {
  const keys = new Keys(uniqueNamespace('weights'));
  const resque = new Resque({ redis: sharedRedisUrl(), namespace: keys.namespace });
  for (const queue of ['critical', 'default'])
    await resque.enqueueBulk(
      'Job',
      Array.from({ length: 30 }, (_, i) => [i]),
      { queue },
    );
  await resque.close();
  const config = resolveConfig({ queues: list }, {});
  const fetcher = new Fetcher(
    redis,
    keys,
    new QueuePatterns(config.queues, config.queueWeights),
    { failureBackend: 'redis', release: 'test' },
    createLogger('silent'),
    () => {},
  );
  const taken: string[] = [];
  for (let call = 0; call < calls; call++) {
    const reply = await fetcher.reserve(['s1']);
    for (const r of reply.reservations) {
      taken.push(r.queue);
      await r.ack({ kind: 'performed' });
    }
  }
  return taken;
}

describe('weighted queues', () => {
  it('shares reservations by weight while both queues hold jobs, and falls back to the other when one is empty', async () => {
    const weighted = await takeFrom(['critical:5', 'default:1'], 36);
    expect(weighted.filter((q) => q === 'default')).toHaveLength(6);
    expect(weighted.slice(0, 6)).toEqual([
      'critical',
      'critical',
      'critical',
      'default',
      'critical',
      'critical',
    ]);
    // critical runs out after its 30 jobs: every later call takes from default.
    const more = await takeFrom(['critical:5', 'default:1'], 45);
    expect(more.filter((q) => q === 'critical')).toHaveLength(30);
    expect(more.slice(-9)).toEqual(Array(9).fill('default'));
  });

  it("keeps Resque's strict order without weights", async () => {
    expect(await takeFrom(['critical', 'default'], 12)).toEqual(Array(12).fill('critical'));
  });
});
