// The sharded client (docs/cluster.md, Shards, The client) on a single Redis: calls naming a queue land in the queue's
// shard namespace, calls naming none merge every shard's answers, calls by job id find the job's shard. Where things
// landed is read straight from the shard namespaces' keys.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors/index.js';
import { type ClientOptions, defineJob, Resque } from '../../src/index.js';
import { Keys } from '../../src/protocol/keys.js';
import type { ShardLayout } from '../../src/protocol/shard-layout.js';
import { Worker } from '../../src/worker/worker.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace, waitFor } from '../harness/context.js';
import { recordCommands } from '../harness/monitor.js';
import { startRedis } from '../harness/redis-server.js';

const redis = rawRedis();
const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});
afterAll(() => redis.quit());

const SHARDS = 3;

/** A base namespace (no braces: each shard's namespace carries its own tag). */
function baseNamespace(label: string): string {
  return uniqueNamespace(label).replace(/[{}]/g, '');
}

/** The first queue named `<prefix><n>` that lands on each shard, by index. */
function queuesPerShard(layout: ShardLayout, prefix = 'q'): string[] {
  const found: string[] = [];
  for (let n = 0; found.filter(Boolean).length < layout.count; n++) {
    const queue = `${prefix}${n}`;
    const shard = layout.shardOf(queue);
    if (!found[shard]) found[shard] = queue;
  }
  return found;
}

function setUp(label: string, extra: Partial<ClientOptions> = {}) {
  const base = baseNamespace(label);
  const resque = new Resque({ redis: sharedRedisUrl(), namespace: base, shards: SHARDS, ...extra });
  closers.push(() => resque.close());
  const layout = resque.layout!;
  const keys = layout.namespaces.map((namespace) => new Keys(namespace));
  return { base, resque, layout, keys, queues: queuesPerShard(layout) };
}

const Report = defineJob({ className: 'Report', queue: 'reports', perform: (_ctx, _n: number) => {} });
const Tracked = defineJob({
  className: 'Tracked',
  queue: 'tracked',
  status: true,
  perform: (_ctx, n: number) => n * 2,
});
const Once = defineJob({ className: 'Once', queue: 'once', unique: 'while-queued', perform: () => {} });

describe('sharded client: queue calls go to the queue’s shard', () => {
  it('enqueues, bulk-enqueues, sizes, peeks, dequeues and removes each queue on its own shard only', async () => {
    const { resque, layout, keys, queues } = setUp('route');
    for (const [shard, queue] of queues.entries()) {
      await resque.enqueueTo(queue!, 'Plain', shard);
      await resque.enqueueBulk('Plain', [[10], [11]], { queue: queue! });
    }
    for (const [shard, queue] of queues.entries()) {
      for (const [other, k] of keys.entries()) {
        expect(await redis.llen(k.queue(queue!)), `${queue} on shard ${other}`).toBe(other === shard ? 3 : 0);
        expect(await redis.smembers(k.queues)).toEqual(
          other === shard ? [queue] : expect.not.arrayContaining([queue]),
        );
      }
      expect(await resque.size(queue!)).toBe(3);
      expect((await resque.peek(queue!, 0, 3)).map((j) => j.payload?.args)).toEqual([[shard], [10], [11]]);
    }
    expect(layout.namespaceOf(queues[2]!)).toBe(layout.namespaces[2]);

    expect(await resque.dequeueFrom(queues[1]!, 'Plain', 10)).toBe(1);
    expect(await redis.llen(keys[1]!.queue(queues[1]!))).toBe(2);
    await resque.removeQueue(queues[2]!);
    expect(await redis.exists(keys[2]!.queue(queues[2]!))).toBe(0);
    expect(await redis.smembers(keys[2]!.queues)).toEqual([]);
    expect(await resque.queues()).toEqual([queues[0], queues[1]].sort());
  });

  it('enqueues a class to its own queue’s shard, and dequeues it there', async () => {
    const { resque, layout, keys } = setUp('class');
    const shard = layout.shardOf('reports');
    await resque.enqueue(Report, 1);
    await resque.enqueue(Report, 2);
    expect(await redis.llen(keys[shard]!.queue('reports'))).toBe(2);
    expect(await resque.dequeue(Report, 1)).toBe(1);
    expect(await redis.llen(keys[shard]!.queue('reports'))).toBe(1);
  });

  it('pauses, limits, rate-limits and makes fair a queue on its shard; lists them merged', async () => {
    const { resque, keys, queues } = setUp('flow');
    const [q0, q1, q2] = queues as [string, string, string];
    expect(await resque.pauseQueue(q0)).toBe(true);
    expect(await resque.pauseQueue(q2)).toBe(true);
    expect(await redis.hkeys(keys[0]!.pausedQueues)).toEqual([q0]);
    expect(await redis.hkeys(keys[1]!.pausedQueues)).toEqual([]);
    expect(await redis.hkeys(keys[2]!.pausedQueues)).toEqual([q2]);
    expect([...(await resque.pausedQueues()).keys()]).toEqual([q0, q2].sort());
    expect(await resque.resumeQueue(q2)).toBe(true);
    expect([...(await resque.pausedQueues()).keys()]).toEqual([q0]);

    await resque.limitQueue(q1, 2);
    await resque.limitQueue(q2, 3);
    await resque.limitQueueRate(q0, 5, 1000);
    expect(await redis.hgetall(keys[1]!.limits)).toEqual({ [`queue:${q1}`]: '2' });
    expect(await redis.hgetall(keys[2]!.limits)).toEqual({ [`queue:${q2}`]: '3' });
    expect(await resque.limits()).toEqual(
      [
        { name: `queue:${q1}`, limit: 2 },
        { name: `queue:${q2}`, limit: 3 },
      ].sort((a, b) => (a.name < b.name ? -1 : 1)),
    );
    expect(await resque.rateLimits()).toEqual([{ name: `queue:${q0}`, limit: 5, windowMs: 1000 }]);
    expect(await redis.hlen(keys[0]!.rateLimits)).toBe(1);
    expect(await resque.unlimitQueue(q2)).toBe(true);
    expect(await resque.unlimitQueueRate(q0)).toBe(true);
    expect(await resque.limits()).toEqual([{ name: `queue:${q1}`, limit: 2 }]);

    expect(await resque.fairQueue(q1)).toBe(true);
    expect(await redis.hkeys(keys[1]!.fairQueues)).toEqual([q1]);
    await resque.weighTenant(q1, 'acme', 3);
    expect(await resque.tenantWeights(q1)).toEqual(new Map([['acme', 3]]));
    expect(await redis.hgetall(keys[1]!.fairWeights(q1))).toEqual({ acme: '3' });
    expect([...(await resque.fairQueues()).keys()]).toEqual([q1]);
    expect(await resque.tenantSizes(q1)).toEqual(new Map());
    expect(await resque.unfairQueue(q1)).toBe(true);
  });

  it('reads a queue’s limit usage on its shard and adds up a class limit’s over every shard', async () => {
    const { resque, keys, queues } = setUp('usage');
    const q2 = queues[2]!;
    await redis.sadd(keys[2]!.limitHolders(`queue:${q2}`), 'a', 'b');
    await redis.sadd(keys[0]!.limitHolders(`queue:${q2}`), 'stray');
    await redis.sadd(keys[0]!.limitHolders('class:Report'), 'a');
    await redis.sadd(keys[1]!.limitHolders('class:Report'), 'b', 'c');
    await redis.rpush(keys[2]!.parked('class:Report'), 'x');
    expect(await resque.limitUsage(`queue:${q2}`)).toEqual({ running: 2, parked: 0 });
    expect(await resque.limitUsage('class:Report')).toEqual({ running: 3, parked: 1 });
    await redis.rpush(keys[1]!.rateParked('class:Report'), 'x', 'y');
    expect(await resque.rateUsage('class:Report')).toEqual({ starts: 0, parked: 2 });
  });

  it('files delayed jobs in their queue’s shard and reads them over every shard', async () => {
    const { resque, keys, queues, layout } = setUp('delayed');
    const at = Date.now() + 3_600_000;
    await resque.enqueueAtTo(queues[2]!, at, 'Later', 1);
    await resque.enqueueInTo(queues[1]!, 7_200_000, 'Later', 2);
    await resque.enqueueAtBulk(Report, [{ at, args: [3] }]);
    const reportShard = layout.shardOf('reports');
    expect(await redis.zcard(keys[2]!.delayedSchedule)).toBe(1);
    expect(await redis.zcard(keys[1]!.delayedSchedule)).toBe(reportShard === 1 ? 2 : 1);
    expect(await redis.zcard(keys[0]!.delayedSchedule)).toBe(reportShard === 0 ? 1 : 0);
    expect(await resque.delayed.count()).toBe(3);
    await expect(resque.delayed.scheduledAt('Later', 1)).rejects.toMatchObject({ name: 'NoQueueError' });
    expect(await resque.delayed.isDelayed(Report, 3)).toBe(true);
    expect(await resque.delayed.peekTimestamps(0, 10)).toHaveLength(2);
    expect(await resque.delayed.removeInQueue(queues[2]!, 'Later', 1)).toBe(1);
    expect(await redis.zcard(keys[2]!.delayedSchedule)).toBe(reportShard === 2 ? 1 : 0);
    expect(await resque.delayed.reset()).toBe(2);
    expect(await resque.delayed.count()).toBe(0);
  });

  it('keeps a unique lock on its queue’s shard and finds or frees it there', async () => {
    const { resque, layout, keys } = setUp('unique');
    const shard = layout.shardOf('once');
    const first = await resque.enqueue(Once);
    const again = await resque.enqueue(Once);
    expect(again).toEqual({ queue: 'once', id: first!.id, duplicate: true });
    const locks = await Promise.all(keys.map((k) => redis.keys(k.uniqueLock('*'))));
    expect(locks.map((found) => found.length)).toEqual(keys.map((_, i) => (i === shard ? 1 : 0)));
    expect(await resque.uniqueHolder(Once)).toBe(first!.id);
    expect(await resque.releaseUnique(Once)).toBe(true);
    expect(await resque.uniqueHolder(Once)).toBeNull();
  });
});

describe('sharded client: calls naming no queue ask every shard', () => {
  it('merges queues, sizes and info; pauses and resumes every shard', async () => {
    const { resque, keys, queues } = setUp('fanout');
    for (const [shard, queue] of queues.entries())
      await resque.enqueueBulk(
        'Plain',
        Array.from({ length: shard + 1 }, (_, i) => [i]),
        { queue: queue! },
      );
    await redis.set(keys[0]!.processed, '5');
    await redis.set(keys[2]!.processed, '7');
    await redis.rpush(keys[1]!.failed, 'f1', 'f2');
    await redis.sadd(keys[0]!.workers, 'host:1:a');
    await redis.sadd(keys[2]!.workers, 'host:1:a', 'host:2:b');
    await redis.set(keys[2]!.worker('host:1:a'), '{"queue":"x"}');
    expect(await resque.queues()).toEqual([...queues].sort());
    expect(await resque.queueSizes()).toEqual(
      Object.fromEntries([...queues].sort().map((q) => [q, queues.indexOf(q) + 1])),
    );
    const info = await resque.info();
    expect(info).toMatchObject({ pending: 6, processed: 12, queues: 3, workers: 2, working: 1, failed: 2 });
    expect(info.servers).toHaveLength(SHARDS);

    await resque.pauseAll();
    for (const k of keys) expect(await redis.get(k.pauseAll)).toBe('true');
    await resque.resumeAll();
    for (const k of keys) expect(await redis.exists(k.pauseAll)).toBe(0);
  });
});

describe('sharded client: calls by job id', () => {
  const workers: Worker[] = [];
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((worker) => worker.stop('term')));
  });

  it('finds, waits for and cancels a job on shard 2 only', async () => {
    const { resque, layout, keys, queues } = setUp('ids', { jobs: [Tracked] });
    const q2 = queues[2]!;
    const queued = await resque.enqueueTo(q2, Tracked, 21);
    const status = await resque.status(queued!.id!);
    expect(status).toMatchObject({ state: 'queued', source: 'record', queue: q2 });
    expect(await redis.exists(keys[2]!.jobStatus(queued!.id!))).toBe(1);
    expect(await redis.exists(keys[0]!.jobStatus(queued!.id!))).toBe(0);

    const cancelled = await resque.cancel(queued!.id!);
    expect(cancelled).toEqual({ id: queued!.id, was: 'queued' });
    expect(await redis.zrange(keys[2]!.cancelledQueued, 0, -1)).toEqual([queued!.id]);
    expect(await redis.zcard(keys[0]!.cancelledQueued)).toBe(0);
    expect(await redis.zcard(keys[1]!.cancelledQueued)).toBe(0);

    const toRun = await resque.enqueueTo(q2, Tracked, 4);
    const waited = resque.waitFor(toRun!.id!, { timeoutMs: 20_000 });
    const worker = new Worker({
      redis: sharedRedisUrl(),
      namespace: layout.namespaces[2]!,
      queues: [q2],
      jobs: [Tracked],
      isolation: 'none',
      logLevel: 'silent',
      setProcessTitle: false,
      intervalMs: 50,
    });
    workers.push(worker);
    void worker.start();
    expect(await waited).toMatchObject({ state: 'completed', result: 8 });
    expect(await resque.status(toRun!.id!)).toMatchObject({ state: 'completed', result: 8 });
    // The cancelled job was dropped by the worker, not run.
    await waitFor(async () => (await redis.llen(keys[2]!.queue(q2))) === 0);
    expect(await resque.status(queued!.id!)).toMatchObject({ state: 'cancelled' });
  });

  it('cancels a delayed job where it is filed; an id no shard knows is tombstoned on every shard', async () => {
    const { resque, keys, queues } = setUp('cancel');
    const later = await resque.enqueueAtTo(queues[1]!, Date.now() + 3_600_000, Tracked, 1);
    expect(await resque.cancel(later!.id!)).toEqual({ id: later!.id, was: 'delayed' });
    expect(await resque.delayed.count()).toBe(0);
    for (const k of keys) expect(await redis.zcard(k.cancelledQueued)).toBe(0);

    expect(await resque.status('no-such-job')).toMatchObject({ state: 'unknown' });
    expect(await resque.cancel('no-such-job')).toEqual({ id: 'no-such-job', was: 'unknown' });
    for (const k of keys) expect(await redis.zrange(k.cancelledQueued, 0, -1)).toEqual(['no-such-job']);
    await expect(resque.cancel('bad id!')).rejects.toThrow();
    await expect(resque.waitFor('never-tracked', { timeoutMs: 1000 })).rejects.toMatchObject({
      name: 'JobNotTrackedError',
    });
  });
});

describe('sharded client: configuration and connections', () => {
  it('refuses a queue placed on a shard out of range, a tagged base namespace, a shard out of range', () => {
    expect(
      () => new Resque({ redis: sharedRedisUrl(), namespace: 'base', shards: 3, queueShards: { mail: 3 } }),
    ).toThrow(ConfigError);
    expect(() => new Resque({ redis: sharedRedisUrl(), namespace: '{base}', shards: 3 })).toThrow(
      /namespace/,
    );
    const { resque } = setUp('range');
    expect(() => resque.shard(3)).toThrow(/shards are numbered 0 to 2/);
    expect(resque.shard(1).config.namespace).toBe(resque.layout!.namespaces[1]);
  });

  it('places queues by queueShards', async () => {
    const { resque, keys } = setUp('placed', { queueShards: { a: 2, b: 2 } });
    await resque.enqueueTo('a', 'Plain');
    await resque.enqueueTo('b', 'Plain');
    expect(await redis.llen(keys[2]!.queue('a'))).toBe(1);
    expect(await redis.llen(keys[2]!.queue('b'))).toBe(1);
  });

  it('rejects a bad queue name as an unsharded client does, before anything is written', async () => {
    const { resque, keys } = setUp('bad');
    await expect(resque.enqueueTo('', 'Plain')).rejects.toMatchObject({ name: 'InvalidQueueNameError' });
    await expect(resque.size('a b')).rejects.toMatchObject({ name: 'InvalidQueueNameError' });
    await expect(
      resque.enqueue(defineJob({ className: 'NoQueue', perform: () => {} })),
    ).rejects.toMatchObject({ name: 'NoQueueError' });
    for (const k of keys) expect(await redis.exists(k.queues)).toBe(0);
  });

  it('talks to every shard of a single Redis over one connection', async () => {
    const server = await startRedis();
    closers.push(() => server.stop());
    const admin = rawRedis(server.url);
    closers.push(async () => admin.disconnect());
    const clients = async () => Number(/connected_clients:(\d+)/.exec(await admin.info('clients'))![1]);
    const before = await clients();
    const resque = new Resque({ redis: server.url, namespace: 'one', shards: 8 });
    closers.push(() => resque.close());
    for (const queue of queuesPerShard(resque.layout!)) await resque.enqueueTo(queue, 'Plain');
    expect(Object.keys(await resque.queueSizes())).toHaveLength(8);
    expect(await clients()).toBe(before + 1);
  });
});

describe('an unsharded client', () => {
  it('sends the same commands as before: one per call, no lookup of other shards', async () => {
    const resque = new Resque({ redis: sharedRedisUrl(), namespace: uniqueNamespace('plain') });
    closers.push(() => resque.close());
    expect(resque.layout).toBeUndefined();
    expect(resque.shard(0)).toBe(resque);
    await resque.enqueueTo('warm', 'Plain'); // the first call checks the server's mode and loads the script
    const recorder = await recordCommands(sharedRedisUrl(), resque.redis);
    await resque.enqueueTo('q', 'Plain', 1);
    await resque.size('q');
    await resque.queues();
    await resque.pauseQueue('q');
    await resque.status('some-id');
    const names = (await recorder.stop()).map((command) => command.name);
    expect(names.slice(0, 4)).toEqual(['EVALSHA', 'LLEN', 'SMEMBERS', 'HSETNX']);
    expect(names.slice(4)[0]).toBe('HGETALL');
  });
});
