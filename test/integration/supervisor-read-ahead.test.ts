// Jobs reserved ahead of a supervised worker's children (src/worker/supervisor/): while jobs are short, each child
// holds more jobs than it runs, each in a slot of its own; a job waiting in a child has not started, so whatever
// ends the child, the job goes back untouched, and a cancel or a TERM ends it without running it.
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Resque } from '../../src/index.js';
import { Keys } from '../../src/protocol/keys.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace, waitFor } from '../harness/context.js';
import {
  awaitPerformed,
  awaitStarted,
  childrenOf,
  kill,
  performedBy,
  readyChildren,
  startSupervised,
} from '../harness/supervised.js';

let redis: Redis;
beforeAll(() => {
  redis = rawRedis();
});
afterAll(() => redis.disconnect());

const inflight = async (namespace: string) => (await redis.keys(`${namespace}:ts:inflight:*`)).length;

/** No-op jobs until the worker has finished them all: it has seen that its jobs are short. */
async function warmUp(resque: Resque, namespace: string): Promise<void> {
  for (let n = 0; n < 20; n++) await resque.enqueueTo('q', 'Noop');
  await waitFor(
    async () => (await redis.get(new Keys(namespace).processed)) === '20',
    20_000,
    'the no-op jobs',
  );
}

describe('jobs reserved ahead of supervised children', () => {
  it('kill -9 of a child: the jobs waiting in it never ran there, go back untouched and run once', async () => {
    const namespace = uniqueNamespace('ahead-kill');
    const resque = new Resque({ redis: sharedRedisUrl(), namespace });
    const worker = startSupervised(namespace);
    const [child] = await readyChildren(worker);
    await warmUp(resque, namespace);
    await resque.enqueueTo('q', 'Slow', 1, 1500);
    for (let n = 2; n <= 5; n++) await resque.enqueueTo('q', 'Ok', n);
    expect(await awaitStarted(redis, namespace, 1)).toBe(child);
    // One slot runs the slow job; the short ones wait in the child, each in a slot of its own.
    await waitFor(async () => (await inflight(namespace)) === 5, 10_000, 'five jobs reserved');
    kill(child!);
    for (let n = 1; n <= 5; n++) await awaitPerformed(redis, namespace, n);
    for (let n = 2; n <= 5; n++) {
      const pids = await performedBy(redis, namespace, n);
      expect(pids).toHaveLength(1);
      expect(pids[0]).not.toBe(child);
    }
    expect(await redis.llen(new Keys(namespace).failed)).toBe(0);
    await resque.close();
  });

  it('a cancelled job that waits in its child ends as cancelled without running; the child keeps its job', async () => {
    const namespace = uniqueNamespace('ahead-cancel');
    const keys = new Keys(namespace);
    const resque = new Resque({ redis: sharedRedisUrl(), namespace });
    const worker = startSupervised(namespace);
    const [child] = await readyChildren(worker);
    await warmUp(resque, namespace);
    await resque.enqueueTo('q', 'Slow', 1, 1500);
    const waiting = await resque.enqueueTo('q', 'Ok', 2);
    expect(await awaitStarted(redis, namespace, 1)).toBe(child);
    await waitFor(async () => (await inflight(namespace)) === 2, 10_000, 'two jobs reserved');
    expect((await resque.cancel(waiting!.id!)).was).toBe('running');
    await waitFor(async () => (await redis.get(keys.cancelledCount)) === '1', 10_000, 'the cancel');
    expect(await awaitPerformed(redis, namespace, 1)).toBe(child);
    expect(await performedBy(redis, namespace, 2)).toEqual([]);
    expect(childrenOf(worker.pid)).toEqual([child]);
    expect(await redis.llen(keys.failed)).toBe(0);
    await resque.close();
  });

  it('TERM: the jobs waiting in a child go back to their queue untouched, in order', async () => {
    const namespace = uniqueNamespace('ahead-term');
    const keys = new Keys(namespace);
    const resque = new Resque({ redis: sharedRedisUrl(), namespace });
    const worker = startSupervised(namespace);
    const [child] = await readyChildren(worker);
    await warmUp(resque, namespace);
    await resque.enqueueTo('q', 'Slow', 1, 1000);
    for (let n = 2; n <= 4; n++) await resque.enqueueTo('q', 'Ok', n);
    expect(await awaitStarted(redis, namespace, 1)).toBe(child);
    await waitFor(async () => (await inflight(namespace)) === 4, 10_000, 'four jobs reserved');
    worker.signal('SIGTERM');
    await worker.exited;
    const queued = (await redis.lrange(keys.queue('q'), 0, -1)).map((raw) => JSON.parse(raw));
    expect(queued.map((job) => job.args)).toEqual([[2], [3], [4]]);
    expect(queued.every((job) => job.returns === undefined)).toBe(true);
    for (let n = 2; n <= 4; n++) expect(await performedBy(redis, namespace, n)).toEqual([]);
    // The slow job ignores its AbortSignal and ends within the TERM timeout.
    expect(await performedBy(redis, namespace, 1)).toEqual([child]);
    expect(await redis.llen(keys.failed)).toBe(0);
    await resque.close();
  });

  it('long jobs are reserved only when a child can start them', async () => {
    const namespace = uniqueNamespace('ahead-long');
    const resque = new Resque({ redis: sharedRedisUrl(), namespace });
    const worker = startSupervised(namespace);
    await readyChildren(worker);
    for (let n = 1; n <= 5; n++) await resque.enqueueTo('q', 'Slow', n, 100);
    let most = 0;
    for (let n = 1; n <= 5; n++) {
      await waitFor(
        async () => {
          most = Math.max(most, await inflight(namespace));
          return (await performedBy(redis, namespace, n)).length > 0;
        },
        20_000,
        `job ${n}`,
      );
    }
    expect(most).toBe(1);
    await resque.close();
  });

  it('an idle worker whose jobs are short takes each new job when it is pushed, not at its next poll', async () => {
    const namespace = uniqueNamespace('ahead-idle');
    const resque = new Resque({ redis: sharedRedisUrl(), namespace });
    // A poll interval no wait in this test comes near: a job is found only through its wake-up.
    const worker = startSupervised(namespace, { INTERVAL: '120' });
    await readyChildren(worker);
    await warmUp(resque, namespace);
    // Each job: the worker takes it with slots to spare, waits on its wake lists while it runs, and is idle again
    // when it ends, with that wait still blocked.
    for (let n = 1; n <= 4; n++) {
      await resque.enqueueTo('q', 'Ok', n);
      await awaitPerformed(redis, namespace, n);
    }
    await resque.close();
  });
});
