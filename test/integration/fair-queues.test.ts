// Fair sharing between the tenants of a queue (docs/flow-control.md, Fair sharing): enqueue onto tenant lists and the
// rotation, round-robin reservation, the queue's own list first, exact non-empty index, limits on tenant jobs, and
// jobs kept through a worker's death.
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Admin } from '../../src/api/admin.js';
import { repairQueueIndex } from '../../src/client/queue-index.js';
import { Resque } from '../../src/client/resque.js';
import { InvalidArgumentsError } from '../../src/errors/index.js';
import { defineJob } from '../../src/jobs/define.js';
import { JobRegistry } from '../../src/jobs/registry.js';
import { publishClassLimits } from '../../src/limits/definitions.js';
import { createLogger } from '../../src/logging/logger.js';
import { Keys } from '../../src/protocol/keys.js';
import { Fetcher } from '../../src/worker/fetch/fetcher.js';
import { giveBackHeld } from '../../src/worker/fetch/held.js';
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
const Plain = defineJob({ className: 'Plain', queue: 'q', perform: (_ctx, _n: number) => {} });

async function setup(list = ['q']) {
  const keys = new Keys(uniqueNamespace('fair'));
  const resque = new Resque({ redis: sharedRedisUrl(), namespace: keys.namespace });
  const fetcher = () => new Fetcher(redis, keys, new QueuePatterns(list), config, logger, () => {});
  return { keys, resque, fetcher };
}

const slots = (n: number) => Array.from({ length: n }, (_, i) => `s${i}`);
const argsOf = (reply: { reservations: { payload?: { args: unknown[] } }[] }) =>
  reply.reservations.map((r) => r.payload?.args.join(':'));
const tenantsOf = (reply: { reservations: { payload?: { class: string; args: unknown[] } }[] }) =>
  reply.reservations.map((r) => (r.payload?.class === 'Plain' ? '-' : String(r.payload?.args[0])));

describe('fair queues', () => {
  it('serves every tenant in turn: one with 500 jobs does not hold back ten with 5 each', async () => {
    const { keys, resque, fetcher } = await setup();
    expect(await resque.fairQueue('q')).toBe(true);
    expect(await resque.fairQueue('q')).toBe(false);
    await resque.enqueueBulk(
      Work,
      Array.from({ length: 500 }, (_, i) => ['big', i] as [string, number]),
    );
    const small = Array.from({ length: 10 }, (_, t) => `t${t}`);
    for (const tenant of small) for (let i = 0; i < 5; i++) await resque.enqueue(Work, tenant, i);

    // Nothing is on the queue's own list; the tenants wait on theirs, in the rotation.
    expect(await redis.llen(keys.queue('q'))).toBe(0);
    expect(await redis.lrange(keys.fairRotation('q'), 0, -1)).toEqual(['big', ...small]);
    const [item] = await redis.lrange(keys.fairTenant('q', 't3'), 0, 0);
    expect(JSON.parse(item!)).toMatchObject({ class: 'Work', args: ['t3', 0], tenant: 't3' });
    expect(await resque.tenantSizes('q')).toEqual(
      new Map([['big', 500], ...small.map((t) => [t, 5] as const)]),
    );
    expect(await redis.zscore(keys.nonEmptyQueues, 'q')).toBe('0');

    const first = await fetcher().reserve(slots(20));
    expect(tenantsOf(first)).toEqual(['big', ...small, 'big', ...small.slice(0, 8)]);
    expect(new Set(tenantsOf(first)).size).toBe(11);
    // Each tenant's own jobs keep their order.
    expect(argsOf(first).slice(0, 2)).toEqual(['big:0', 't0:0']);
    expect(argsOf(first)[11]).toBe('big:1');

    // Once the small tenants run out, the big one is served alone until it runs out too.
    let remaining = 0;
    const f = fetcher();
    for (;;) {
      const reply = await f.reserve(slots(20).map((s) => `${s}b`));
      if (reply.reservations.length === 0) break;
      remaining += reply.reservations.length;
      await Promise.all(reply.reservations.map((r) => r.ack({ kind: 'performed' })));
    }
    expect(remaining).toBe(550 - 20);
    expect(await redis.exists(keys.fairRotation('q'), keys.fairTenant('q', 'big'))).toBe(0);
    expect(await redis.zscore(keys.nonEmptyQueues, 'q')).toBeNull();
    await resque.close();
  });

  it('serves a weighted tenant its weight in jobs per turn, and one again once its weight is removed', async () => {
    const { keys, resque, fetcher } = await setup();
    await resque.fairQueue('q');
    await resque.weighTenant('q', 'a', 3);
    expect(await resque.tenantWeights('q')).toEqual(new Map([['a', 3]]));
    await resque.enqueueBulk(
      Work,
      Array.from({ length: 10 }, (_, i) => ['a', i] as [string, number]),
    );
    for (const tenant of ['b', 'c']) for (let i = 0; i < 3; i++) await resque.enqueue(Work, tenant, i);

    const f = fetcher();
    let call = 0;
    const take = async (n: number) => tenantsOf(await f.reserve(slots(n).map((s) => `${s}-${call++}`)));
    // A turn spans reservation calls: the jobs served so far in it are kept in Redis.
    expect([...(await take(2)), ...(await take(5))]).toEqual(['a', 'a', 'a', 'b', 'c', 'a', 'a']);
    expect(await redis.get(keys.fairTurn('q'))).toBe('2');

    // Back to one job per turn; the turn in progress starts over.
    await resque.weighTenant('q', 'a', 1);
    expect(await resque.tenantWeights('q')).toEqual(new Map());
    expect(await redis.exists(keys.fairTurn('q'))).toBe(0);
    expect(await take(6)).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
    expect(await take(10)).toEqual(['a', 'a', 'a']);
    expect(await redis.exists(keys.fairRotation('q'), keys.fairTurn('q'))).toBe(0);

    await expect(resque.weighTenant('q', 'a', 0)).rejects.toThrow(/weight/);
    await expect(resque.weighTenant('q', '', 2)).rejects.toThrow(/tenant/);
    await resque.close();
  });

  it("takes the queue's own list first: untenanted jobs and jobs pushed by Ruby still run", async () => {
    const { keys, resque, fetcher } = await setup();
    await resque.fairQueue('q');
    await resque.enqueue(Work, 'a', 1);
    await resque.enqueue(Plain, 1);
    await redis.rpush(keys.queue('q'), '{"class":"Plain","args":[2]}');
    await resque.enqueue(Work, 'b', 1);
    expect(await resque.size('q')).toBe(2);

    const reply = await fetcher().reserve(slots(5));
    expect(argsOf(reply)).toEqual(['1', '2', 'a:1', 'b:1']);
    await resque.close();
  });

  it('leaves a queue that is not fair unchanged: tenant jobs go to its list in order', async () => {
    const { keys, resque, fetcher } = await setup();
    await resque.enqueue(Work, 'a', 1);
    await resque.enqueueBulk(Work, [
      ['a', 2],
      ['b', 1],
    ]);
    expect(await redis.llen(keys.queue('q'))).toBe(3);
    expect(await redis.exists(keys.fairRotation('q'))).toBe(0);
    const reply = await fetcher().reserve(slots(3));
    expect(argsOf(reply)).toEqual(['a:1', 'a:2', 'b:1']);

    // unfairQueue: new jobs go to the list again, jobs already on tenant lists are still served.
    await resque.fairQueue('q');
    await resque.enqueue(Work, 'c', 1);
    expect(await resque.unfairQueue('q')).toBe(true);
    expect(await resque.unfairQueue('q')).toBe(false);
    await resque.enqueue(Work, 'd', 1);
    expect(await redis.llen(keys.queue('q'))).toBe(1);
    expect(argsOf(await fetcher().reserve(['x1', 'x2', 'x3']))).toEqual(['d:1', 'c:1']);
    await resque.close();
  });

  it('keeps the non-empty index exact and wakes a worker for a queue that holds only tenant jobs', async () => {
    const { keys, resque, fetcher } = await setup(['*']);
    await resque.fairQueue('q');
    await resque.enqueue(Work, 'a', 1);
    expect(await redis.zscore(keys.nonEmptyQueues, 'q')).toBe('0');
    expect(await redis.lrange(keys.queueWake('q'), 0, -1)).toEqual(['q']);
    await resque.enqueue(Work, 'a', 2);
    await resque.enqueue(Work, 'b', 1);

    // The repair pass counts the rotation: a queue whose list is empty but whose tenants have jobs stays indexed.
    expect(await repairQueueIndex(redis, keys)).toEqual({ added: 0, removed: 0 });
    await redis.zrem(keys.nonEmptyQueues, 'q');
    expect(await repairQueueIndex(redis, keys)).toEqual({ added: 1, removed: 0 });

    // A glob worker finds it through the index; the queue leaves the index with its last tenant job, not before.
    const f = fetcher();
    expect(argsOf(await f.reserve(['s1', 's2']))).toEqual(['a:1', 'b:1']);
    expect(await redis.zscore(keys.nonEmptyQueues, 'q')).toBe('0');
    expect(argsOf(await f.reserve(['s3']))).toEqual(['a:2']);
    expect(await redis.zscore(keys.nonEmptyQueues, 'q')).toBeNull();
    expect(await repairQueueIndex(redis, keys)).toEqual({ added: 0, removed: 0 });
    await resque.close();
  });

  it('parks a tenant job over its limit without holding back the other tenants, and lets it back', async () => {
    const { keys, resque, fetcher } = await setup();
    await publishClassLimits({ redis, keys }, new JobRegistry([OnePerTenant]));
    await resque.fairQueue('q');
    for (let i = 0; i < 3; i++) await resque.enqueue(OnePerTenant, 'a', i);
    await resque.enqueue(OnePerTenant, 'b', 0);

    const f = fetcher();
    const first = await f.reserve(['s1', 's2', 's3']);
    expect(argsOf(first)).toEqual(['a:0', 'b:0']);
    expect(await resque.limitUsage('key:OnePerTenant a')).toEqual({ running: 1, parked: 2 });
    expect(await redis.zscore(keys.nonEmptyQueues, 'q')).toBeNull();

    // The freed token lets one parked job back, to the head of its tenant's list: it is taken next.
    await first.reservations[0]!.ack({ kind: 'performed' });
    expect(argsOf(await f.reserve(['s1']))).toEqual(['a:1']);
    await resque.close();
  });

  it("keeps every job through a worker's death: tenant jobs wait in Redis, a held one is given back", async () => {
    const { keys, resque, fetcher } = await setup();
    await resque.fairQueue('q');
    for (const tenant of ['a', 'b']) for (let i = 0; i < 3; i++) await resque.enqueue(Work, tenant, i);
    const held = await fetcher().reserve(['s1', 's2']);
    expect(argsOf(held)).toEqual(['a:0', 'b:0']);

    // The worker is gone: its jobs come back (the reaper's give-back), to the head of their tenants' lists.
    for (const r of held.reservations)
      expect(await giveBackHeld({ redis, keys, config }, r, true, 'reaper')).toBe(true);
    const rest: string[] = [];
    const f = fetcher();
    for (;;) {
      const reply = await f.reserve(['t1']);
      if (reply.reservations.length === 0) break;
      rest.push(...argsOf(reply).map(String));
      await reply.reservations[0]!.ack({ kind: 'performed' });
    }
    expect(rest.sort()).toEqual(['a:0', 'a:1', 'a:2', 'b:0', 'b:1', 'b:2']);
    await resque.close();
  });

  it('removeQueue and clearQueue drop the tenant lists with the queue, leaving the index exact', async () => {
    const { keys, resque } = await setup();
    await resque.fairQueue('q');
    await resque.enqueue(Plain, 1);
    await resque.enqueueBulk(Work, [
      ['a', 1],
      ['a', 2],
      ['b', 1],
    ]);
    const admin = new Admin({ redis: sharedRedisUrl(), namespace: keys.namespace });
    expect(await admin.clearQueue('q')).toBe(4);
    expect(
      await redis.exists(keys.fairRotation('q'), keys.fairTenant('q', 'a'), keys.fairTenant('q', 'b')),
    ).toBe(0);
    expect(await redis.zscore(keys.nonEmptyQueues, 'q')).toBeNull();

    await resque.enqueue(Work, 'c', 1);
    expect(await redis.zscore(keys.nonEmptyQueues, 'q')).toBe('0');
    await resque.removeQueue('q');
    expect(await redis.exists(keys.fairRotation('q'), keys.fairTenant('q', 'c'), keys.queue('q'))).toBe(0);
    expect(await redis.zscore(keys.nonEmptyQueues, 'q')).toBeNull();
    await admin.close();
    await resque.close();
  });

  it('checks the tenant as a limit key: a bad one throws before anything is written', async () => {
    const { keys, resque } = await setup();
    await resque.fairQueue('q');
    await expect(resque.enqueue(Work, '', 1)).rejects.toBeInstanceOf(InvalidArgumentsError);
    await expect(
      resque.enqueueBulk(Work, [
        ['a', 1],
        ['b\nc', 2],
      ]),
    ).rejects.toBeInstanceOf(InvalidArgumentsError);
    expect(await redis.exists(keys.queues, keys.fairRotation('q'), keys.fairTenant('q', 'a'))).toBe(0);
    expect(() => defineJob({ className: 'Bad', tenant: 'a' as never, perform: () => {} })).toThrow(/tenant/);
    await resque.close();
  });
});
