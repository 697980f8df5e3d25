// The admin model over a sharded namespace (docs/cluster.md, Shards → Dashboard and CLI), on one redis-server: jobs,
// failures, retries, workers and delayed jobs are put into each shard's namespace directly, and the sharded Admin's
// reads merge them, calls naming a queue act on its shard, and references handed out act on the shard they name.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Admin } from '../../src/api/admin.js';
import { Resque } from '../../src/client/resque.js';
import { defineJob, withStatus } from '../../src/jobs/define.js';
import { Keys } from '../../src/protocol/keys.js';
import { ShardLayout } from '../../src/protocol/shard-layout.js';
import { onCluster, rawRedis, sharedRedisUrl, uniqueNamespace } from '../harness/context.js';
import { registerWorker } from '../web/client.js';
import { newFailure, writeFailures } from './failure-helpers.js';

const base = uniqueNamespace('shards').replace(/[{}]/g, '');
const layout = new ShardLayout(base, 3);
const redis = rawRedis();
/** A queue name of each shard: `mail-<n>` for the first n that lands there. */
const queueOn = (shard: number, prefix = 'q'): string => {
  for (let n = 0; ; n++) if (layout.shardOf(`${prefix}${n}`) === shard) return `${prefix}${n}`;
};
const queues = [0, 1, 2].map((shard) => queueOn(shard));
const DUE = 1_900_000_000_000;
const retryMember = (n: number, queue: string) =>
  `${String(n).padStart(16, 'a')}\n${queue}\n{"class":"Remind","args":[${n}],"id":"rid${n}","attempt":2}`;
let admin: Admin;

beforeAll(async () => {
  for (const [shard, namespace] of layout.namespaces.entries()) {
    const queue = queues[shard]!;
    const resque = new Resque({ redis: sharedRedisUrl(), namespace });
    await resque.enqueueBulk(
      'Mailer',
      Array.from({ length: shard + 1 }, (_, i) => [i]),
      { queue },
    );
    await resque.enqueueAtTo(queue, new Date(DUE), 'Later', shard);
    await resque.close();
    const keys = new Keys(namespace);
    await writeFailures(
      redis,
      namespace,
      Array.from({ length: 2 }, (_, i) =>
        newFailure({
          queue,
          className: 'Export',
          args: [shard, i],
          failedAt: new Date(Date.UTC(2026, 10, 27, 10, shard * 10 + i)),
        }),
      ),
    );
    await redis.zadd(keys.retrySet, DUE + shard, retryMember(shard, queue));
    await redis.set(keys.processed, String(10 * (shard + 1)));
    await redis.set(keys.failedCount, String(shard + 1));
    await registerWorker(redis, namespace, `host-${shard}:1${shard}:${queue}`, {
      heartbeat: new Date().toISOString(),
    });
  }
  // One worker of queues on two shards is registered on both.
  await registerWorker(redis, layout.namespaces[0]!, `both:99:${queues[0]},${queues[2]}`);
  await registerWorker(redis, layout.namespaces[2]!, `both:99:${queues[0]},${queues[2]}`);
  admin = new Admin({ redis: sharedRedisUrl(), namespace: base, shards: 3 });
});

afterAll(async () => {
  await admin?.close();
  redis.disconnect();
});

describe.skipIf(onCluster)('a sharded Admin', () => {
  it('lists every shard’s queues, each with its shard, and sums the counters and info', async () => {
    expect(admin.shardCount).toBe(3);
    const listed = await admin.queues();
    expect(listed.map((q) => [q.name, q.shard, q.size])).toEqual(
      queues.map((q, shard) => [q, shard, shard + 1]).sort((a, b) => (String(a[0]) < String(b[0]) ? -1 : 1)),
    );
    expect(await admin.counters()).toEqual({ processed: 60, failed: 6 });
    const info = await admin.info();
    expect(info).toMatchObject({ pending: 6, processed: 60, queues: 3, failed: 6 });
    expect(info.workers).toBe(5);
  });

  it('lists every shard’s workers with their shard, a worker of two shards once per shard', async () => {
    const workers = await admin.workers();
    expect(workers.map((w) => `${w.shard}:${w.id}`).sort()).toEqual(
      [
        ...queues.map((q, shard) => `${shard}:host-${shard}:1${shard}:${q}`),
        `0:both:99:${queues[0]},${queues[2]}`,
        `2:both:99:${queues[0]},${queues[2]}`,
      ].sort(),
    );
    expect((await admin.worker(`host-1:11:${queues[1]}`))?.shard).toBe(1);
    expect((await admin.worker(`both:99:${queues[0]},${queues[2]}`, 2))?.shard).toBe(2);
    expect(await admin.worker('nobody:1:x')).toBeUndefined();
  });

  it('merges a page of failures by failed_at across shards, ids carrying the shard', async () => {
    const page = await admin.failures.page({ offset: 1, limit: 3 });
    expect(page.total).toBe(6);
    expect(page.hasMore).toBe(true);
    // Newest first: shard 2's second, shard 2's first, shard 1's second, … — offset 1 skips the newest.
    expect(page.failures.map((f) => f.args)).toEqual([
      [2, 0],
      [1, 1],
      [1, 0],
    ]);
    expect(page.failures.map((f) => f.id.split('@')[0])).toEqual(['2', '1', '1']);
    expect(JSON.parse(JSON.stringify(page.failures[0]))).toMatchObject({ shard: 2, queue: queues[2] });
    expect(await admin.failures.count()).toBe(6);
    expect(await admin.failures.count({ queue: queues[1] })).toBe(2);
    expect(await admin.failures.lists()).toEqual([{ list: 'failed', count: 6 }]);
    const [group] = await admin.failures.groups();
    expect(group?.count).toBe(6);
    const onlyShard0 = await admin.failures.page({ shard: 0 } as never);
    expect(onlyShard0.failures.map((f) => f.args)).toEqual([
      [0, 1],
      [0, 0],
    ]);
  });

  it('retries and removes a failure of shard 2 on shard 2', async () => {
    const page = await admin.failures.page({ queue: queues[2] });
    const [newest, oldest] = page.failures;
    expect(newest?.id.startsWith('2@')).toBe(true);
    const queued = await redis.llen(new Keys(layout.namespaces[2]!).queue(queues[2]!));
    const result = await admin.failures.retry(newest!.id);
    expect(result.queue).toBe(queues[2]);
    expect(await redis.llen(new Keys(layout.namespaces[2]!).queue(queues[2]!))).toBe(queued + 1);
    expect(result.failure?.retriedAt).toBeInstanceOf(Date);
    expect(result.failure?.id.startsWith('2@')).toBe(true);
    const removed = await admin.failures.remove(oldest!.id);
    expect(removed.args).toEqual([2, 0]);
    expect(await redis.llen(new Keys(layout.namespaces[2]!).failed)).toBe(1);
    expect(await redis.llen(new Keys(layout.namespaces[1]!).failed)).toBe(2);
    await expect(admin.failures.get('failed:0:0123456789')).rejects.toThrow(/<shard>@/);
    await expect(admin.failures.get('7@failed:0:0123456789')).rejects.toThrow(/FAILURE|failure/);
  });

  it('pages the retry set across shards by due time, and retries one on its shard', async () => {
    const page = await admin.retries(1, 5);
    expect(page.total).toBe(3);
    expect(page.jobs.map((j) => [j.shard, j.queue])).toEqual([
      [1, queues[1]],
      [2, queues[2]],
    ]);
    expect(await admin.retryCount()).toBe(3);
    const keys1 = new Keys(layout.namespaces[1]!);
    const before = await redis.llen(keys1.queue(queues[1]!));
    expect(await admin.retryNow(page.jobs[0]!.ref)).toBe(true);
    expect(await redis.llen(keys1.queue(queues[1]!))).toBe(before + 1);
    expect(await redis.zcard(keys1.retrySet)).toBe(0);
    expect(await admin.removeRetry(page.jobs[1]!.ref)).toBe(true);
    expect(await redis.zcard(new Keys(layout.namespaces[2]!).retrySet)).toBe(0);
    expect(await admin.retryNow('not-a-ref')).toBe(false);
  });

  it('sends calls naming a queue to its shard', async () => {
    const queue = queues[1]!;
    const keys1 = new Keys(layout.namespaces[1]!);
    const jobs = await admin.queueJobs(queue);
    expect(jobs.jobs.length).toBe(await redis.llen(keys1.queue(queue)));
    expect(await admin.hasQueue(queue)).toBe(true);
    expect(await admin.pauseQueue(queue)).toBe(true);
    expect(await redis.hexists(keys1.pausedQueues, queue)).toBe(1);
    const paused = (await admin.queues()).find((q) => q.name === queue);
    expect(paused?.pausedAt).toBeInstanceOf(Date);
    expect(await admin.resumeQueue(queue)).toBe(true);
    await admin.limitQueue(queue, 2);
    expect((await admin.flowControl()).limits.map((l) => [l.target, l.shard])).toEqual([[queue, 1]]);
    expect(await admin.unlimitQueue(queue)).toBe(true);
    const found = await admin.searchQueue(queue, { className: 'Mailer' });
    expect(found.jobs.length).toBeGreaterThan(0);
    const cleared = await admin.clearQueue(queue);
    expect(cleared).toBeGreaterThan(0);
    expect(await redis.llen(keys1.queue(queue))).toBe(0);
    expect(await redis.llen(new Keys(layout.namespaces[2]!).queue(queues[2]!))).toBeGreaterThan(0);
  });

  it('finds a job by id on its shard, and cancels it there', async () => {
    const resque = new Resque({ redis: sharedRedisUrl(), namespace: layout.namespaces[2]! });
    const Findme = withStatus(defineJob({ className: 'Findme', queue: queues[2], perform: async () => {} }));
    const id = (await resque.enqueue(Findme))!.id!;
    await resque.close();
    const view = await admin.job(id);
    expect(view.shard).toBe(2);
    expect(view.status.state).toBe('queued');
    const cancelled = await admin.cancelJob(id);
    expect(cancelled.was).toBe('queued');
    const unknown = await admin.job('no-such-id');
    expect(unknown.status.state).toBe('unknown');
  });

  it('adds up the delayed backlog, the metrics snapshot, and scans keys shard by shard', async () => {
    const backlog = await admin.delayedBacklog(DUE - 1000);
    expect(backlog.earliestDueMs).toBe(DUE);
    expect(backlog.overdue).toBe(false);
    const snapshot = await admin.metricsSnapshot();
    expect(snapshot.queues.length).toBe(3);
    expect(snapshot.delayedJobs).toBe(3);
    expect(snapshot.processed).toBe(60);
    const seen = new Set<string>();
    let cursor = '0';
    let pages = 0;
    do {
      const page = await admin.scanKeys(cursor, 500);
      for (const key of page.keys) seen.add(key.name);
      cursor = page.cursor;
      pages += 1;
    } while (cursor !== '0' && pages < 100);
    const shardsSeen = new Set([...seen].map((name) => name.split('@')[0]));
    expect([...shardsSeen].sort()).toEqual(['0', '1', '2']);
    const queueKey = `2@queue:${queues[2]}`;
    expect(seen.has(queueKey)).toBe(true);
    expect((await admin.readKey(queueKey))?.type).toBe('list');
    expect(await admin.readKey(`queue:${queues[2]}`)).toBeUndefined();
    expect(await admin.keyTypeProblems()).toEqual([]);
  });

  it('runs a schedule stored on shard 0 onto its queue’s shard, and lists every shard’s schedules', async () => {
    await admin.schedules.set('nightly', { every: '1h', class: 'Nightly', queue: queues[2], args: [7] });
    const keys2 = new Keys(layout.namespaces[2]!);
    const before = await redis.llen(keys2.queue(queues[2]!));
    expect(await admin.runSchedule('nightly')).toBe(true);
    expect(await redis.llen(keys2.queue(queues[2]!))).toBe(before + 1);
    expect(await redis.hexists(keys2.lastEnqueuedAt, 'nightly')).toBe(1);
    expect((await admin.scheduleOverview()).schedules.map((s) => s.name)).toEqual(['nightly']);
    expect(await admin.runSchedule('no-such')).toBe(false);
  });

  it('reads Redis once per server and writes one stats sample for all shards', async () => {
    const sections = await admin.redisInfo();
    expect(sections.some((s) => s.name === 'Server')).toBe(true);
    const sample = await admin.sampleStats();
    if (sample) {
      expect(sample.processed).toBe(60);
      expect((await admin.samples(sample.at)).length).toBe(1);
    }
    expect((await admin.redisSafety()).risks).toBeInstanceOf(Array);
    expect(Array.isArray(await admin.liveness({}))).toBe(true);
  });
});
