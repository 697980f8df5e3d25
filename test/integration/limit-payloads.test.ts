// The reservation script reads a job's class and limit keys without decoding payloads of resque-ts's shape, and
// decodes any other shape (docs/flow-control.md, Cost): the limits bind the same jobs either way.
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Resque } from '../../src/client/resque.js';
import { defineJob } from '../../src/jobs/define.js';
import { JobRegistry } from '../../src/jobs/registry.js';
import { publishClassLimits } from '../../src/limits/definitions.js';
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

const Keyed = defineJob({
  className: 'Keyed',
  queue: 'q',
  concurrency: { limit: 1, key: (key: string) => key },
  rate: { limit: 1, windowMs: 60_000, key: (key: string) => key },
  perform: (_ctx, _key: string) => {},
});

describe('limit fields read from payloads', () => {
  it('binds jobs whatever the shape of their payload, and is not fooled by a key named inside the arguments', async () => {
    const keys = new Keys(uniqueNamespace('limit-payloads'));
    const resque = new Resque({ redis: sharedRedisUrl(), namespace: keys.namespace });
    await publishClassLimits({ redis, keys }, new JobRegistry([Keyed]));
    const items = [
      // resque-ts's shape: read without decoding.
      '{"class":"Keyed","args":["a"],"id":"1","enqueued_at":1,"concurrency_key":"a","rate_key":"a"}',
      '{"class":"Keyed","args":["a"],"id":"2","enqueued_at":1,"concurrency_key":"a","rate_key":"a"}',
      // A member after the keys (a give-back's "returns"), members in another order: decoded.
      '{"class":"Keyed","args":["b"],"concurrency_key":"b","rate_key":"b","returns":1}',
      '{"rate_key":"b","class":"Keyed","concurrency_key":"b","args":["b"]}',
      // A key named in the arguments only: the job has no key.
      '{"class":"Keyed","args":[{"concurrency_key":"c","rate_key":"c"}],"id":"5"}',
      '{"class":"Keyed","args":[{"concurrency_key":"c","rate_key":"c"}],"id":"6"}',
      // A class name written with an escape (by another client): decoded, its class limit applies.
      '{"class":"Caf\\u00e9","args":[]}',
      '{"class":"Caf\\u00e9","args":[]}',
    ];
    await redis.hset(keys.limits, 'class:Café', 1);
    await redis.rpush(keys.queue('q'), ...items);
    await redis.sadd(keys.queues, 'q');
    const fetcher = new Fetcher(
      redis,
      keys,
      new QueuePatterns(['q']),
      { failureBackend: 'redis', release: 'test' },
      createLogger('silent'),
      () => {},
      async () => 1_900_000_000_000,
    );
    const reply = await fetcher.reserve(Array.from({ length: 8 }, (_, i) => `s${i}`));
    expect(reply.reservations.map((r) => r.raw)).toEqual([items[0], items[2], items[4], items[5], items[6]]);
    expect(await resque.limitUsage('key:Keyed a')).toEqual({ running: 1, parked: 1 });
    expect(await resque.limitUsage('key:Keyed b')).toEqual({ running: 1, parked: 1 });
    expect(await resque.limitUsage('class:Café')).toEqual({ running: 1, parked: 1 });
    expect(await resque.rateUsage('key:Keyed a')).toEqual({ starts: 1, parked: 0 });
    await resque.close();
  });
});
