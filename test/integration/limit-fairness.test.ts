// Keyed concurrency limits are fair between keys (docs/flow-control.md): a key with many parked jobs does not take
// every slot of a shared limit its own freed tokens open, while other keys wait.
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Resque } from '../../src/client/resque.js';
import { defineJob } from '../../src/jobs/define.js';
import { JobRegistry } from '../../src/jobs/registry.js';
import { publishClassLimits } from '../../src/limits/definitions.js';
import { createLogger } from '../../src/logging/logger.js';
import { Keys } from '../../src/protocol/keys.js';
import { Fetcher } from '../../src/worker/fetch/fetcher.js';
import type { Reservation } from '../../src/worker/fetch/reservation.js';
import { QueuePatterns } from '../../src/worker/queue-patterns.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace } from '../harness/context.js';

let redis: Redis;
beforeAll(() => {
  redis = rawRedis();
});
afterAll(async () => {
  await redis.quit();
});

const config = { failureBackend: 'redis' as const, release: 'test', onTermTimeout: 'requeue' as const };
const logger = createLogger('silent');

const Sync = defineJob({
  className: 'Sync',
  queue: 'q',
  concurrency: { limit: 1, key: (account: string, _n: number) => account },
  perform: (_ctx, _account: string, _n: number) => {},
});

describe('keyed limits between keys', () => {
  it('lets every key make progress: A with 50 parked jobs, B..K with 2 each, 1 per key and 3 for the queue', async () => {
    const keys = new Keys(uniqueNamespace('limit-fair'));
    const resque = new Resque({ redis: sharedRedisUrl(), namespace: keys.namespace });
    await publishClassLimits({ redis, keys }, new JobRegistry([Sync]));
    await resque.limitQueue('q', 3);
    const others = 'BCDEFGHIJK'.split('');
    await resque.enqueueBulk(
      Sync,
      Array.from({ length: 50 }, (_, i) => ['A', i] as [string, number]),
    );
    for (const key of others) for (let i = 0; i < 2; i++) await resque.enqueue(Sync, key, i);

    // A worker with more slots than the queue's limit; jobs end one at a time, oldest first.
    const fetcher = new Fetcher(redis, keys, new QueuePatterns(['q']), config, logger, () => {});
    const running: Reservation[] = [];
    const done: string[] = [];
    let call = 0;
    while (done.length < 70) {
      const reply = await fetcher.reserve(['s1', 's2', 's3', 's4', 's5'].map((s) => `${s}-${call++}`));
      running.push(...reply.reservations);
      expect(running.length).toBeLessThanOrEqual(3);
      const ended = running.shift();
      if (!ended) break;
      await ended.ack({ kind: 'performed' });
      done.push(String(ended.payload?.args[0]));
    }
    expect(done).toHaveLength(70);
    // The other keys' 20 jobs are done within the first 22 to end: A's freed tokens did not hand it a third of the
    // queue's slots while they waited (before keys were served in turn: 31, with 11 of A's).
    const othersDoneAt = Math.max(...others.map((key) => done.lastIndexOf(key))) + 1;
    expect(othersDoneAt).toBeLessThanOrEqual(22);
    expect(done.slice(0, othersDoneAt).filter((key) => key === 'A').length).toBeLessThanOrEqual(2);
    // Every key started early: each of B..K has a job done within the first 18.
    for (const key of others) expect(done.slice(0, 18)).toContain(key);
    expect(done.filter((key) => key === 'A')).toHaveLength(50);
    await resque.close();
  });
});
