// The failure store's behaviour beyond Ruby's: wake-ups on retry, counts, one time-ordered view over several
// failure lists, records that cannot be retried or read, retry-and-remove.
import { afterAll, describe, expect, it } from 'vitest';
import { FailureNotRetryableError } from '../../src/errors/index.js';
import { Failures } from '../../src/failure/store.js';
import { Keys } from '../../src/protocol/keys.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace } from '../harness/context.js';
import { newFailure, writeFailures } from './failure-helpers.js';

const minute = (m: number) => new Date(Date.UTC(2026, 10, 27, 10, m));

describe('the failure store', () => {
  const redis = rawRedis();
  afterAll(() => redis.disconnect());
  const storeFor = (namespace: string) =>
    new Failures(redis, new Keys(namespace), { redis: sharedRedisUrl() });

  it('announces the queue of a retried job: a wake token for an idle worker, and the non-empty index', async () => {
    const namespace = uniqueNamespace('store-wake');
    await writeFailures(redis, namespace, [newFailure({ queue: 'urgent' })]);
    const waiter = rawRedis();
    const woken = waiter.blpop(`${namespace}:ts:wake:urgent`, 5);
    const store = storeFor(namespace);
    await store.retry((await store.page()).failures[0]!.id);
    expect(await woken).toEqual([`${namespace}:ts:wake:urgent`, 'urgent']);
    expect(await redis.zrange(`${namespace}:ts:queues:non-empty`, 0, -1)).toEqual(['urgent']);
    waiter.disconnect();
  });

  it('merges the default and per-queue lists into one newest-first view, and counts every way', async () => {
    const namespace = uniqueNamespace('store-merge');
    await writeFailures(redis, namespace, [
      newFailure({ queue: 'a', args: [1], failedAt: minute(1) }),
      newFailure({ queue: 'b', args: [4], failedAt: minute(4) }),
    ]);
    await writeFailures(
      redis,
      namespace,
      [
        newFailure({ queue: 'a', args: [2], failedAt: minute(2), className: 'Other' }),
        newFailure({ queue: 'b', args: [3], failedAt: minute(3) }),
        newFailure({ queue: 'b', args: [5], failedAt: minute(5) }),
      ],
      { backend: 'redis_multi_queue' },
    );
    const store = storeFor(namespace);
    expect((await store.lists()).map((l) => [l.list, l.count])).toEqual([
      ['failed', 2],
      ['a_failed', 1],
      ['b_failed', 2],
    ]);
    const page = await store.page({ limit: 3 });
    expect(page.failures.map((f) => f.args?.[0])).toEqual([5, 4, 3]);
    expect(page).toMatchObject({ total: 5, hasMore: true });
    expect((await store.page({ offset: 3 })).failures.map((f) => f.args?.[0])).toEqual([2, 1]);
    expect((await store.page({ order: 'asc', queue: 'b' })).failures.map((f) => f.args?.[0])).toEqual([
      3, 4, 5,
    ]);
    expect(await store.count()).toBe(5);
    expect(await store.count({ queue: 'b' })).toBe(3);
    expect(await store.counts()).toEqual({
      total: 5,
      retried: 0,
      lists: { failed: 2, a_failed: 1, b_failed: 2 },
      queues: { a: 2, b: 3 },
      classes: { Archive: 4, Other: 1 },
    });
  });

  it('leaves records that cannot be retried, and still reads and removes unreadable ones', async () => {
    const namespace = uniqueNamespace('store-odd');
    await writeFailures(redis, namespace, [
      newFailure({ args: [1] }),
      { ...newFailure(), rawPayload: undefined, payload: null, extra: { raw: 'not json' } },
    ]);
    await redis.rpush(`${namespace}:failed`, 'garbage that is not JSON');
    const store = storeFor(namespace);
    const [garbage, noPayload] = (await store.page()).failures;
    expect(garbage).toMatchObject({ readable: false, queue: '' });
    expect(noPayload?.className).toBeUndefined();
    await expect(store.retry(noPayload!.id)).rejects.toBeInstanceOf(FailureNotRetryableError);
    await expect(store.retry(garbage!.id)).rejects.toMatchObject({ code: 'FAILURE_NOT_RETRYABLE' });
    expect(await store.retryAll()).toMatchObject({ done: 1, skipped: 2 });
    await store.remove(garbage!.id);
    expect(await store.count()).toBe(2);
  });

  it('retries and removes in one step when asked', async () => {
    const namespace = uniqueNamespace('store-remove');
    await writeFailures(redis, namespace, [newFailure({ args: [1] }), newFailure({ args: [2] })]);
    const store = storeFor(namespace);
    const [latest] = (await store.page()).failures;
    expect(await store.retry(latest!.id, { remove: true })).toEqual({ queue: 'default', failure: undefined });
    expect((await store.page()).failures.map((f) => f.args)).toEqual([[1]]);
    expect(await store.retryAll({}, { remove: true })).toMatchObject({ done: 1 });
    expect(await store.count()).toBe(0);
    expect(await redis.lrange(`${namespace}:queue:default`, 0, -1)).toEqual([
      '{"class":"Archive","args":[2]}',
      '{"class":"Archive","args":[1]}',
    ]);
  });
});
