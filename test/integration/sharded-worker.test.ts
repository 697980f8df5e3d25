// A worker of a sharded namespace (docs/cluster.md, Shards): one part per shard its queues touch, each a whole worker
// of that shard's namespace. Jobs are enqueued straight into each shard's namespace with a plain Resque.
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/resolve.js';
import { shardLayoutOf } from '../../src/config/shards.js';
import { defineJob, Resque } from '../../src/index.js';
import type { ShardLayout } from '../../src/protocol/shard-layout.js';
import { ShardedWorker } from '../../src/worker/sharded-worker.js';
import { Worker, type WorkerOptions } from '../../src/worker/worker.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace, waitFor } from '../harness/context.js';

let redis: Redis;
const workers: Worker[] = [];
const clients: Resque[] = [];
beforeAll(() => {
  redis = rawRedis();
});
afterAll(() => redis.disconnect());
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop('term')));
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

function startWorker(options: Omit<WorkerOptions, 'redis'>): Worker {
  const worker = new Worker({
    redis: sharedRedisUrl(),
    setProcessTitle: false,
    logLevel: 'silent',
    ...options,
  });
  workers.push(worker);
  return worker;
}

function layoutOf(namespace: string, shards: number, queueShards: Record<string, number> = {}): ShardLayout {
  return shardLayoutOf(resolveConfig({ redis: sharedRedisUrl(), namespace, shards, queueShards }, {}))!;
}

/** A plain client of one shard's namespace. */
function shardClient(layout: ShardLayout, shard: number): Resque {
  const client = new Resque({ redis: sharedRedisUrl(), namespace: layout.namespaces[shard]! });
  clients.push(client);
  return client;
}

/** A queue name the layout puts on `shard` by its hash. */
function queueOn(layout: ShardLayout, shard: number, prefix = 'q'): string {
  for (let n = 0; ; n++) if (layout.shardOf(`${prefix}${n}`) === shard) return `${prefix}${n}`;
}

const done: string[] = [];
const Track = defineJob({
  className: 'Track',
  perform: async (ctx, label: string) => {
    done.push(`${ctx.queue}:${label}`);
  },
});

describe('a sharded worker', () => {
  it('works every shard its queues touch: one part per shard, jobs of each performed', async () => {
    done.length = 0;
    const namespace = uniqueNamespace('shw');
    const layout = layoutOf(namespace, 3);
    const queues = [0, 1, 2].map((shard) => queueOn(layout, shard));
    for (const [shard, queue] of queues.entries())
      for (const n of [1, 2]) await shardClient(layout, shard).enqueueTo(queue, 'Track', `${shard}-${n}`);
    const worker = startWorker({ namespace, shards: 3, queues: ['*'], jobs: [Track], intervalMs: 100 });
    expect(worker).toBeInstanceOf(Worker);
    expect(worker.shards.map((s) => [s.shard, s.namespace, s.queues])).toEqual(
      [0, 1, 2].map((shard) => [shard, layout.namespaces[shard], ['*']]),
    );
    expect(worker.id).toBe(worker.shards[0]!.id);
    const finished: string[] = [];
    worker.on('job:finish', (reservation) => finished.push(reservation.queue));
    await worker.start();
    await waitFor(() => done.length === 6, 10_000, 'six jobs');
    expect([...done].sort()).toEqual(
      queues.flatMap((queue, shard) => [`${queue}:${shard}-1`, `${queue}:${shard}-2`]).sort(),
    );
    expect(finished).toHaveLength(6);
    for (const [shard, part] of worker.shards.entries()) {
      const ns = layout.namespaces[shard]!;
      expect(await redis.smembers(`${ns}:workers`)).toEqual(expect.arrayContaining([part.id]));
      expect(await redis.get(`${ns}:stat:processed`)).toBe('2');
    }
    // Concurrency is per shard part.
    expect(worker.stats().slots).toBe(3);
    expect(worker.stats().processed).toBe(6);
    await worker.stop('graceful');
    for (const ns of layout.namespaces) expect(await redis.smembers(`${ns}:workers`)).toEqual([]);
  });

  it('keeps strict priority order within a shard', async () => {
    done.length = 0;
    const namespace = uniqueNamespace('shw-order');
    const placed = { high: 1, low: 1, other: 2 };
    const layout = layoutOf(namespace, 3, placed);
    const client = shardClient(layout, 1);
    for (const n of [1, 2, 3]) await client.enqueueTo('low', 'Track', String(n));
    for (const n of [1, 2, 3]) await client.enqueueTo('high', 'Track', String(n));
    await shardClient(layout, 2).enqueueTo('other', 'Track', '1');
    const worker = startWorker({
      namespace,
      shards: 3,
      queueShards: placed,
      queues: ['high', 'other', 'low'],
      jobs: [Track],
      concurrency: 1,
      intervalMs: 100,
    });
    expect(worker.shards.map((s) => [s.shard, s.queues])).toEqual([
      [1, ['high', 'low']],
      [2, ['other']],
    ]);
    await worker.start();
    await waitFor(() => done.length === 7, 10_000, 'seven jobs');
    expect(done.filter((d) => !d.startsWith('other'))).toEqual([
      'high:1',
      'high:2',
      'high:3',
      'low:1',
      'low:2',
      'low:3',
    ]);
  });

  it('registers only on the shard its queues are on', async () => {
    const namespace = uniqueNamespace('shw-one');
    const layout = layoutOf(namespace, 3);
    const queue = queueOn(layout, 2);
    const worker = startWorker({ namespace, shards: 3, queues: [queue], jobs: [Track] });
    await worker.start();
    expect(worker.shards).toHaveLength(1);
    expect(await redis.smembers(`${layout.namespaces[2]}:workers`)).toEqual([worker.id]);
    expect(await redis.smembers(`${layout.namespaces[0]}:workers`)).toEqual([]);
    expect(await redis.smembers(`${layout.namespaces[1]}:workers`)).toEqual([]);
  });

  it('pauses and resumes every part, and is idle once all are', async () => {
    done.length = 0;
    const namespace = uniqueNamespace('shw-pause');
    const layout = layoutOf(namespace, 2);
    const worker = startWorker({ namespace, shards: 2, queues: ['*'], jobs: [Track], intervalMs: 100 });
    await worker.start();
    await worker.pause();
    expect(worker.paused).toBe(true);
    const queues = [0, 1].map((shard) => queueOn(layout, shard));
    for (const [shard, queue] of queues.entries())
      await shardClient(layout, shard).enqueueTo(queue, 'Track', 'x');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(done).toEqual([]);
    const idle = new Promise((resolve) => worker.once('idle', () => resolve(true)));
    await worker.resume();
    expect(worker.paused).toBe(false);
    await waitFor(() => done.length === 2, 10_000, 'both jobs');
    expect(await idle).toBe(true);
  });

  it('with intervalMs 0 drains every shard, then finishes', async () => {
    done.length = 0;
    const namespace = uniqueNamespace('shw-drain');
    const layout = layoutOf(namespace, 2);
    const queues = [0, 1].map((shard) => queueOn(layout, shard));
    for (const [shard, queue] of queues.entries())
      await shardClient(layout, shard).enqueueTo(queue, 'Track', 'x');
    const worker = startWorker({ namespace, shards: 2, queues: ['*'], jobs: [Track], intervalMs: 0 });
    const stopped = new Promise((resolve) => worker.once('stopped', () => resolve(true)));
    await worker.start();
    await worker.finished;
    expect(await stopped).toBe(true);
    expect(done).toHaveLength(2);
  });

  it('promotes due delayed jobs of every shard into that shard’s queues', async () => {
    done.length = 0;
    const namespace = uniqueNamespace('shw-delayed');
    const layout = layoutOf(namespace, 3);
    const queues = [0, 2].map((shard) => queueOn(layout, shard));
    const worker = startWorker({ namespace, shards: 3, queues: ['*'], jobs: [Track], intervalMs: 100 });
    await worker.start();
    // Due in 300 ms by this machine's clock; the worker judges by Redis's, the same clock on one machine.
    await shardClient(layout, 0).enqueueInTo(queues[0]!, 300, 'Track', 'd0');
    await shardClient(layout, 2).enqueueInTo(queues[1]!, 300, 'Track', 'd2');
    for (const shard of [0, 2])
      expect(await redis.zcard(`${layout.namespaces[shard]}:delayed_queue_schedule`)).toBe(1);
    await waitFor(() => done.length === 2, 10_000, 'both delayed jobs');
    expect([...done].sort()).toEqual([`${queues[0]}:d0`, `${queues[1]}:d2`].sort());
    for (const shard of [0, 2])
      expect(await redis.zcard(`${layout.namespaces[shard]}:delayed_queue_schedule`)).toBe(0);
  });

  it('refuses an executor of its own when its queues touch several shards', () => {
    const namespace = uniqueNamespace('shw-exec');
    expect(
      () =>
        new Worker({
          redis: sharedRedisUrl(),
          namespace,
          shards: 2,
          queues: ['*'],
          jobs: [Track],
          executor: { slots: 1 } as unknown as WorkerOptions['executor'],
        }),
    ).toThrow(/one executor per shard/);
  });

  it('closes the parts already made when making a later one fails', async () => {
    const namespace = uniqueNamespace('shw-fail');
    const config = resolveConfig({ redis: sharedRedisUrl(), namespace, shards: 3, queues: ['*'] }, {});
    const made: Worker[] = [];
    expect(
      () =>
        new ShardedWorker(config, shardLayoutOf(config)!, false, (partConfig) => {
          if (made.length === 2) throw new Error('the third part cannot be made');
          const part = new Worker({ config: partConfig, jobs: [Track], setProcessTitle: false });
          made.push(part);
          return part;
        }),
    ).toThrow(/the third part cannot be made/);
    expect(made).toHaveLength(2);
    // Each made part stops as a worker never started does: its connections closed, `finished` settled.
    await Promise.all(made.map((part) => part.finished));
  });
});
