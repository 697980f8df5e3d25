// Concurrency limits in the reservation script and in every step that ends a reservation: tokens taken and freed in
// the same steps as the jobs, parked jobs let back, no head-of-line blocking, the sweep, and bad input.
import { Redis as IORedis, type Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Resque } from '../../src/client/resque.js';
import { ConfigError, InvalidArgumentsError } from '../../src/errors/index.js';
import { defineJob } from '../../src/jobs/define.js';
import { JobRegistry } from '../../src/jobs/registry.js';
import { publishClassLimits } from '../../src/limits/definitions.js';
import { sweepLimits } from '../../src/limits/sweep.js';
import { createLogger } from '../../src/logging/logger.js';
import { Keys } from '../../src/protocol/keys.js';
import { Fetcher } from '../../src/worker/fetch/fetcher.js';
import { dropHeld, failHeld, giveBackHeld } from '../../src/worker/fetch/held.js';
import { QueuePatterns } from '../../src/worker/queue-patterns.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace, waitFor } from '../harness/context.js';
import { startRedis } from '../harness/redis-server.js';

let redis: Redis;
beforeAll(() => {
  redis = rawRedis();
});
afterAll(async () => {
  await redis.quit();
});

const config = { failureBackend: 'redis' as const, release: 'test', onTermTimeout: 'requeue' as const };
const logger = createLogger('silent');

const Export = defineJob({
  className: 'Export',
  queue: 'q',
  concurrency: { limit: 1, key: (customer: number) => `customer:${customer}` },
  perform: (_ctx, _customer: number) => {},
});
const Report = defineJob({ className: 'Report', queue: 'q', concurrency: { limit: 2 }, perform: () => {} });
const Plain = defineJob({ className: 'Plain', queue: 'q', perform: () => {} });

async function setup(list = ['q']) {
  const keys = new Keys(uniqueNamespace('limits'));
  const resque = new Resque({ redis: sharedRedisUrl(), namespace: keys.namespace });
  await publishClassLimits({ redis, keys }, new JobRegistry([Export, Report, Plain]));
  const fetcher = () => new Fetcher(redis, keys, new QueuePatterns(list), config, logger, () => {});
  return { keys, resque, fetcher };
}

const classesOf = (reply: { reservations: { payload?: { class: string; args: unknown[] } }[] }) =>
  reply.reservations.map((r) => `${r.payload?.class}(${r.payload?.args.join(',')})`);

describe('concurrency limits', () => {
  it('writes class limits at start-up and the key into the payload', async () => {
    const { keys, resque } = await setup();
    expect(await resque.limits()).toEqual([
      { name: 'class:Report', limit: 2 },
      { name: 'key:Export', limit: 1 },
    ]);
    await resque.enqueue(Export, 7);
    const [item] = await redis.lrange(keys.queue('q'), 0, -1);
    expect(JSON.parse(item!)).toMatchObject({ class: 'Export', args: [7], concurrency_key: 'customer:7' });
    await resque.close();
  });

  it('parks a job whose key is full, takes the jobs behind it, and lets it back when the token is freed', async () => {
    const { keys, resque, fetcher } = await setup();
    await resque.enqueue(Export, 1);
    await resque.enqueue(Export, 1);
    await resque.enqueue(Export, 2);
    await resque.enqueue(Plain);
    const f = fetcher();
    const first = await f.reserve(['s1', 's2', 's3']);
    expect(classesOf(first)).toEqual(['Export(1)', 'Export(2)', 'Plain()']);
    expect(await resque.limitUsage('key:Export customer:1')).toEqual({ running: 1, parked: 1 });
    // The queue's remaining job is parked: the queue leaves the non-empty index.
    expect(await redis.llen(keys.queue('q'))).toBe(0);
    expect(await redis.zscore(keys.nonEmptyQueues, 'q')).toBeNull();

    const holder = first.reservations[0]!;
    await holder.ack({ kind: 'performed' });
    const second = await f.reserve(['s1']);
    expect(classesOf(second)).toEqual(['Export(1)']);
    expect(await resque.limitUsage('key:Export customer:1')).toEqual({ running: 1, parked: 0 });
    expect(await redis.smembers(keys.limitHolders('key:Export customer:1'))).toEqual(['s1']);
    await resque.close();
  });

  it('a class limit counts across workers; Ruby-shaped jobs without a key are held by class and queue limits', async () => {
    const { keys, resque, fetcher } = await setup();
    for (let i = 0; i < 4; i++) await redis.rpush(keys.queue('q'), `{"class":"Report","args":[${i}]}`);
    const a = await fetcher().reserve(['a1']);
    const b = await fetcher().reserve(['b1', 'b2']);
    expect(classesOf(a)).toEqual(['Report(0)']);
    expect(classesOf(b)).toEqual(['Report(1)']);
    expect(await resque.limitUsage('class:Report')).toEqual({ running: 2, parked: 2 });

    await resque.limitQueue('other', 1);
    await redis.rpush(keys.queue('other'), '{"class":"X","args":[1]}', '{"class":"X","args":[2]}');
    const o = await new Fetcher(redis, keys, new QueuePatterns(['other']), config, logger, () => {}).reserve([
      'o1',
      'o2',
    ]);
    expect(classesOf(o)).toEqual(['X(1)']);
    expect(await resque.limitUsage('queue:other')).toEqual({ running: 1, parked: 1 });
    await resque.close();
  });

  it('every way a reservation ends frees its token and lets one parked job back, announced', async () => {
    const { keys, resque, fetcher } = await setup();
    for (let i = 0; i < 4; i++) await resque.enqueue(Export, 5);
    const f = fetcher();
    const held = async () => (await f.reserve(['s1', 's2'])).reservations[0]!;
    const ctx = { redis, keys, config };
    const usage = () => resque.limitUsage('key:Export customer:5');

    const r1 = await held();
    expect(await usage()).toEqual({ running: 1, parked: 3 });
    expect(await giveBackHeld(ctx, r1, true, 'reaper')).toBe(true);
    // The given-back job and the one let back are both on the queue; the queue is announced.
    expect(await usage()).toEqual({ running: 0, parked: 2 });
    expect(await redis.llen(keys.queue('q'))).toBe(2);
    expect(await redis.lrange(keys.queueWake('q'), 0, -1)).toEqual(['q']);

    const r2 = await held();
    expect(await usage()).toEqual({ running: 1, parked: 3 });
    expect(await failHeld(ctx, r2, r2.failureRecord({ exception: 'E', error: 'x', backtrace: [] }))).toBe(
      true,
    );
    expect(await usage()).toEqual({ running: 0, parked: 2 });

    const r3 = await held();
    expect(await dropHeld(ctx, r3)).toBe(true);
    expect(await usage()).toEqual({ running: 0, parked: 1 });
    // A second end of the same reservation frees nothing.
    expect(await dropHeld(ctx, r3)).toBe(false);
    expect(await usage()).toEqual({ running: 0, parked: 1 });
    await resque.close();
  });

  it('the sweep reclaims a token whose reservation is gone and lets parked jobs back when a limit is raised', async () => {
    const { keys, resque, fetcher } = await setup();
    for (let i = 0; i < 3; i++) await resque.enqueue(Export, 9);
    const f = fetcher();
    await f.reserve(['s1', 's2']);
    expect(await resque.limitUsage('key:Export customer:9')).toEqual({ running: 1, parked: 2 });
    // The in-flight key vanishes without any script ending the reservation (deleted by hand).
    await redis.del(keys.inflight('s1'));
    expect(await sweepLimits(redis, keys)).toEqual({ reclaimed: 1, returned: 1 });
    expect(await resque.limitUsage('key:Export customer:9')).toEqual({ running: 0, parked: 1 });

    // A raised limit: the start-up of a worker with the new definition lets back as many as there is room for.
    const Wider = defineJob({
      className: 'Export',
      concurrency: { limit: 3, key: (c: number) => `customer:${c}` },
      perform: (_ctx, _customer: number) => {},
    });
    await publishClassLimits({ redis, keys }, new JobRegistry([Wider]));
    expect(await resque.limitUsage('key:Export customer:9')).toEqual({ running: 0, parked: 0 });
    expect(await redis.llen(keys.queue('q'))).toBe(2);
    expect(await redis.scard(keys.parkedLimits)).toBe(0);
    await resque.close();
  });

  it('refuses bad limits and key functions before anything is written', async () => {
    for (const limit of [0, -1, 1.5, Number.NaN, '2'])
      expect(() =>
        defineJob({ className: 'Bad', concurrency: { limit: limit as number }, perform: () => {} }),
      ).toThrow(ConfigError);
    const { keys, resque } = await setup();
    await expect(resque.limitQueue('q', 0)).rejects.toThrow(ConfigError);
    const Throws = defineJob({
      className: 'Throws',
      queue: 'q',
      concurrency: {
        limit: 1,
        key: () => {
          throw new Error('no customer');
        },
      },
      perform: () => {},
    });
    const Empty = defineJob({
      className: 'Empty',
      queue: 'q',
      concurrency: { limit: 1, key: () => '' },
      perform: () => {},
    });
    await expect(resque.enqueue(Throws)).rejects.toThrow(/key function threw Error: no customer/);
    await expect(resque.enqueue(Empty)).rejects.toThrow(InvalidArgumentsError);
    await expect(resque.enqueueBulk(Export, [[1], ['x\ny' as unknown as number]])).rejects.toThrow(
      InvalidArgumentsError,
    );
    expect(await redis.exists(keys.queue('q'), keys.queues)).toBe(0);
    await resque.close();
  });
});

describe('parked jobs and a Redis restart', () => {
  it('survive it (AOF), and come back when the token is freed', async () => {
    const server = await startRedis({ appendOnly: true });
    const keys = new Keys(uniqueNamespace('limits-restart'));
    const direct = new IORedis(server.url);
    try {
      const resque = new Resque({ redis: server.url, namespace: keys.namespace });
      await publishClassLimits({ redis: direct, keys }, new JobRegistry([Report]));
      for (let n = 0; n < 4; n++) await resque.enqueue(Report);
      await resque.close();
      const before = new Fetcher(direct, keys, new QueuePatterns(['q']), config, logger, () => {});
      const taken = await before.reserve(['s1', 's2', 's3']);
      expect(taken.reservations).toHaveLength(2);
      expect(await direct.llen(keys.parked('class:Report'))).toBe(2);
      await server.stop();
      await server.restart();
      await waitFor(async () => (await direct.ping().catch(() => '')) === 'PONG', 10_000, 'Redis back');
      expect(await direct.llen(keys.parked('class:Report'))).toBe(2);
      // The same worker acknowledges one job: its token is freed, one parked job goes back to the queue and is taken.
      await taken.reservations[0]!.ack({ kind: 'performed' });
      const after = await before.reserve(['s1']);
      expect(after.reservations).toHaveLength(1);
      expect(await direct.llen(keys.parked('class:Report'))).toBe(1);
    } finally {
      direct.disconnect();
      await server.stop();
    }
  });
});
