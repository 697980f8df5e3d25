// A sharded namespace end to end: the sharded client enqueues (plain, tracked, delayed, retried, failing jobs) to
// queues on three shards, one sharded worker runs them all, and each job's traces (status record, failure, retry,
// stats) are on its queue's shard; merged reads add the shards up.
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/resolve.js';
import { shardLayoutOf } from '../../src/config/shards.js';
import { defineJob, Resque, withRetry, withStatus } from '../../src/index.js';
import { Keys } from '../../src/protocol/keys.js';
import type { ShardLayout } from '../../src/protocol/shard-layout.js';
import { Worker } from '../../src/worker/worker.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace, waitFor } from '../harness/context.js';

let redis: Redis;
beforeAll(() => {
  redis = rawRedis();
});
afterAll(() => redis.quit());

const ran: string[] = [];
let flakyAttempts = 0;
const Note = defineJob({
  className: 'Note',
  queue: 'notes',
  perform: async (ctx, label: string) => {
    ran.push(`${ctx.queue}:${label}`);
    return label.toUpperCase();
  },
});
const Broken = defineJob({
  className: 'Broken',
  perform: async () => {
    throw new Error('broken on purpose');
  },
});
const Flaky = defineJob({
  className: 'Flaky',
  perform: async () => {
    flakyAttempts += 1;
    if (flakyAttempts === 1) throw new Error('first attempt fails');
  },
});

function queueOn(layout: ShardLayout, shard: number, prefix: string): string {
  for (let n = 0; ; n++) if (layout.shardOf(`${prefix}${n}`) === shard) return `${prefix}${n}`;
}

describe('a sharded namespace end to end', () => {
  it('runs every kind of job from three shards with one client and one worker, each job kept on its shard', async () => {
    const namespace = uniqueNamespace('sh-e2e');
    const options = { redis: sharedRedisUrl(), namespace, shards: 3 };
    const layout = shardLayoutOf(resolveConfig(options, {}))!;
    const keys = layout.namespaces.map((ns) => new Keys(ns));
    const queues = [0, 1, 2].flatMap((shard) => [queueOn(layout, shard, 'a'), queueOn(layout, shard, 'b')]);
    const resque = new Resque({ ...options, jobs: [Note, Broken, Flaky] });
    const worker = new Worker({
      ...options,
      queues: ['*'],
      jobs: [Note, Broken, Flaky],
      isolation: 'none',
      concurrency: 4,
      intervalMs: 100,
      logLevel: 'silent',
      setProcessTitle: false,
    });
    try {
      for (const queue of queues)
        for (let n = 0; n < 5; n++) await resque.enqueueTo(queue, Note, `${queue}-${n}`);
      const brokenQueue = queueOn(layout, 1, 'broken');
      const flakyQueue = queueOn(layout, 2, 'flaky');
      const delayedQueue = queueOn(layout, 0, 'later');
      await resque.enqueueTo(brokenQueue, Broken);
      await resque.enqueueTo(
        flakyQueue,
        withRetry(Flaky, { attempts: 2, backoff: { type: 'fixed', delayMs: 0 } }),
      );
      await resque.enqueueAtTo(delayedQueue, new Date(Date.now() - 1000), Note, 'delayed');
      const tracked = await resque.enqueueTo(queues[5]!, withStatus(Note), 'tracked');
      // Before any worker runs: each queue's jobs sit in its shard only.
      for (const [i, queue] of queues.entries()) {
        const shard = Math.floor(i / 2);
        expect(await redis.llen(keys[shard]!.queue(queue))).toBe(queue === queues[5] ? 6 : 5);
        for (const other of [0, 1, 2].filter((s) => s !== shard))
          expect(await redis.exists(keys[other]!.queue(queue))).toBe(0);
      }
      expect(await resque.queueSizes()).toMatchObject({ [queues[0]!]: 5, [brokenQueue]: 1, [flakyQueue]: 1 });

      await worker.start();
      const status = await resque.waitFor(tracked!.id!, { timeoutMs: 20_000 });
      expect(status.state).toBe('completed');
      expect(await redis.exists(keys[2]!.jobStatus(tracked!.id!))).toBe(1);
      await waitFor(() => ran.length === 32 && flakyAttempts === 2, 20_000, 'every job');
      expect(ran).toContain(`${delayedQueue}:delayed`);

      // The failure is on the broken queue's shard, the retried job left no failure, stats add up.
      await waitFor(async () => (await redis.llen(keys[1]!.failed)) === 1, 10_000, 'the failure');
      expect(await redis.llen(keys[0]!.failed)).toBe(0);
      expect(await redis.llen(keys[2]!.failed)).toBe(0);
      const info = await resque.info();
      expect(info.failed).toBe(1);
      expect(info.pending).toBe(0);
      await waitFor(async () => (await resque.info()).processed === 35, 10_000, 'processed counts');
    } finally {
      await worker.stop('graceful');
      await resque.close();
    }
  });
});
