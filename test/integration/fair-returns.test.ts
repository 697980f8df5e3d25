// Jobs that come back to a fair queue go to the head of their tenant's list (docs/flow-control.md, Fair sharing):
// given back by a worker or the reaper, let back from a concurrency limit's or a rate limit's parked list; a due
// retry goes to the back of its tenant's list.
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Resque } from '../../src/client/resque.js';
import { defineJob } from '../../src/jobs/define.js';
import { JobRegistry } from '../../src/jobs/registry.js';
import { publishClassLimits } from '../../src/limits/definitions.js';
import { releaseRateParked } from '../../src/limits/rate-release.js';
import { createLogger } from '../../src/logging/logger.js';
import { Keys } from '../../src/protocol/keys.js';
import { Fetcher } from '../../src/worker/fetch/fetcher.js';
import { giveBackHeld } from '../../src/worker/fetch/held.js';
import { rateLimitHeld } from '../../src/worker/fetch/rate-limited.js';
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

const Work = defineJob({
  className: 'Work',
  queue: 'q',
  tenant: (tenant: string, _n: number) => tenant,
  perform: (_ctx, _tenant: string, _n: number) => {},
});
const OnePerTenant = defineJob({
  className: 'OnePerTenant',
  queue: 'q',
  tenant: (tenant: string, _n: number) => tenant,
  concurrency: { limit: 1, key: (tenant: string) => tenant },
  perform: (_ctx, _tenant: string, _n: number) => {},
});

async function setup() {
  const keys = new Keys(uniqueNamespace('fair-back'));
  const resque = new Resque({ redis: sharedRedisUrl(), namespace: keys.namespace });
  await resque.fairQueue('q');
  const fetcher = () => new Fetcher(redis, keys, new QueuePatterns(['q']), config, logger, () => {});
  const tenantArgs = async (tenant: string) =>
    (await redis.lrange(keys.fairTenant('q', tenant), 0, -1)).map((raw) =>
      (JSON.parse(raw) as { args: unknown[] }).args.join(':'),
    );
  return { keys, resque, fetcher, tenantArgs };
}

const argsOf = (reply: { reservations: { payload?: { args: unknown[] } }[] }) =>
  reply.reservations.map((r) => r.payload?.args.join(':'));

describe('jobs that come back to a fair queue', () => {
  it("go to the head of their tenant's list when given back, by a worker or by the reaper", async () => {
    const { keys, resque, fetcher, tenantArgs } = await setup();
    for (const tenant of ['a', 'b']) for (let i = 0; i < 3; i++) await resque.enqueue(Work, tenant, i);
    await resque.enqueue(Work, 'c', 0);
    const held = await fetcher().reserve(['s1', 's2', 's3']);
    expect(argsOf(held)).toEqual(['a:0', 'b:0', 'c:0']);
    expect(await redis.lrange(keys.fairRotation('q'), 0, -1)).toEqual(['a', 'b']);

    // The reaper's give-back (it counts a return: the item no longer ends with "tenant") and a worker's.
    expect(await giveBackHeld({ redis, keys, config }, held.reservations[0]!, true, 'reaper')).toBe(true);
    expect(await giveBackHeld({ redis, keys, config }, held.reservations[1]!, false)).toBe(true);
    // "c" had no job left: its tenant joins the back of the rotation again.
    expect(await giveBackHeld({ redis, keys, config }, held.reservations[2]!, false)).toBe(true);
    expect(await tenantArgs('a')).toEqual(['a:0', 'a:1', 'a:2']);
    expect(await tenantArgs('b')).toEqual(['b:0', 'b:1', 'b:2']);
    expect(await tenantArgs('c')).toEqual(['c:0']);
    expect(await redis.lrange(keys.fairRotation('q'), 0, -1)).toEqual(['a', 'b', 'c']);
    expect(await redis.llen(keys.queue('q'))).toBe(0);
    expect(await redis.zscore(keys.nonEmptyQueues, 'q')).toBe('0');

    // The tenants keep their turns and their order.
    const all = await fetcher().reserve(Array.from({ length: 7 }, (_, i) => `t${i}`));
    expect(argsOf(all)).toEqual(['a:0', 'b:0', 'c:0', 'a:1', 'b:1', 'a:2', 'b:2']);
    expect(all.reservations[0]!.payload?.['returns']).toBe(1);
    await resque.close();
  });

  it("go to the head of their tenant's list when let back from a full concurrency limit", async () => {
    const { keys, resque, fetcher, tenantArgs } = await setup();
    await publishClassLimits({ redis, keys }, new JobRegistry([OnePerTenant]));
    for (let i = 0; i < 3; i++) await resque.enqueue(OnePerTenant, 'a', i);
    const f = fetcher();
    const first = await f.reserve(['s1', 's2']);
    expect(argsOf(first)).toEqual(['a:0']);
    expect(await resque.limitUsage('key:OnePerTenant a')).toEqual({ running: 1, parked: 2 });
    await resque.enqueue(OnePerTenant, 'a', 3);

    // The freed token lets a:1 back ahead of a:3, which was enqueued meanwhile.
    await first.reservations[0]!.ack({ kind: 'performed' });
    await f.reserve([]); // sends the acknowledgement
    expect(await tenantArgs('a')).toEqual(['a:1', 'a:3']);
    expect(await redis.llen(keys.queue('q'))).toBe(0);
    expect(argsOf(await f.reserve(['s1']))).toEqual(['a:1']);
    await resque.close();
  });

  it("go to the head of their tenant's list when a rate limit lets them back, RateLimited ones included", async () => {
    const { keys, resque, tenantArgs } = await setup();
    await resque.limitQueueRate('q', 1, 1000);
    const now = 1_900_000_000_000;
    await redis.del(keys.rateLog('queue:q'));
    for (let i = 0; i < 2; i++) await resque.enqueue(Work, 'a', i);
    await resque.enqueue(Work, 'b', 0);
    const f = new Fetcher(
      redis,
      keys,
      new QueuePatterns(['q']),
      config,
      logger,
      () => {},
      async () => now,
    );
    const first = await f.reserve(['s1', 's2', 's3']);
    // One start per second: a:0 starts, b:0 and a:1 are parked on the queue's rate limit.
    expect(argsOf(first)).toEqual(['a:0']);
    expect(await rateLimitHeld({ redis, keys }, first.reservations[0]!, 500, String(now))).toBe(true);
    expect(await releaseRateParked(redis, keys, now + 1000)).toMatchObject({ returned: 1 });
    expect(await tenantArgs('a')).toEqual(['a:0']);
    expect(await releaseRateParked(redis, keys, now + 2000)).toMatchObject({ returned: 1 });
    expect(await tenantArgs('b')).toEqual(['b:0']);
    // Let back while a:0 still waits: each job let back goes to the head, as on a queue's own list.
    expect(await releaseRateParked(redis, keys, now + 3000)).toMatchObject({ returned: 1 });
    expect(await tenantArgs('a')).toEqual(['a:1', 'a:0']);
    expect(await redis.llen(keys.queue('q'))).toBe(0);
    await resque.close();
  });
});
