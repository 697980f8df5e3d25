// Failures Ruby Resque 3.0 wrote (test/fixtures/golden) are read, retried and removed by the failure store with
// exactly the bytes Ruby's own Failure.requeue(0) and Failure.remove(1) leave behind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Failures } from '../../src/failure/store.js';
import { Keys } from '../../src/protocol/keys.js';
import { parseResqueTime } from '../../src/protocol/time.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace } from '../harness/context.js';
import { anyRetriedAt, newFailure, writeFailures } from '../integration/failure-helpers.js';
import { goldenCase, goldenList, logicalKey } from './golden-fixture.js';

describe('Ruby-written failures', () => {
  const redis = rawRedis();
  afterAll(() => redis.disconnect());

  function storeFor(namespace: string): Failures {
    return new Failures(redis, new Keys(namespace), { redis: sharedRedisUrl() });
  }

  async function loadRubyFailures(namespace: string): Promise<void> {
    const failed = goldenList('failures after worker run');
    await redis.rpush(`${namespace}:failed`, ...failed);
  }

  it('reads every record Ruby wrote, newest first', async () => {
    const namespace = uniqueNamespace('golden-read');
    await loadRubyFailures(namespace);
    const page = await storeFor(namespace).page();
    const ruby = goldenList('failures after worker run');
    expect(page.total).toBe(ruby.length);
    expect(page.failures.map((f) => f.raw)).toEqual([...ruby].reverse());
    const [latest] = page.failures;
    expect(latest?.className).toBe('Failing');
    expect(latest?.args).toEqual(['x']);
    expect(latest?.queue).toBe('golden_fail');
    expect(latest?.failedAt?.toISOString()).toBe('2026-11-27T22:09:46.000Z');
    expect(latest?.id).toMatch(/^failed:3:[0-9a-f]{10}$/);
  });

  it('retries like Failure.requeue(0): retried_at appended, clean job pushed, then removes like remove(1)', async () => {
    const namespace = uniqueNamespace('golden-retry');
    await loadRubyFailures(namespace);
    const store = storeFor(namespace);
    const oldest = (await store.page({ order: 'asc', limit: 2 })).failures;
    const result = await store.retry(oldest[0]!.id);
    expect(result.queue).toBe('golden_fail');

    const afterRetry = await redis.lrange(`${namespace}:failed`, 0, -1);
    expect(afterRetry.map(anyRetriedAt)).toEqual(goldenList('failure after requeue(0)').map(anyRetriedAt));
    expect(afterRetry[0]).toMatch(/"retried_at":"\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2} UTC"\}$/);
    const queued = goldenCase('queue after requeue(0)');
    expect(await redis.lrange(`${namespace}:${logicalKey(queued.key)}`, 0, -1)).toEqual(queued.value);
    expect(await redis.smembers(`${namespace}:queues`)).toEqual(['golden_fail']);

    // The id read before the retry still names the retried record (its digest ignores retried_at).
    expect((await store.get(oldest[0]!.id)).record.retried_at).toBeDefined();

    await store.remove(oldest[1]!.id);
    const afterRemove = await redis.lrange(`${namespace}:failed`, 0, -1);
    expect(afterRemove.map(anyRetriedAt)).toEqual(goldenList('failure after remove(1)').map(anyRetriedAt));
  });

  it('reads, retries and clears the RedisMultiQueue layout Ruby wrote', async () => {
    const namespace = uniqueNamespace('golden-multi');
    const list = goldenCase('multi-queue failure list');
    const set = goldenCase('failed_queues set');
    await redis.rpush(`${namespace}:${logicalKey(list.key)}`, ...(list.value as string[]));
    await redis.sadd(`${namespace}:${logicalKey(set.key)}`, ...(set.value as string[]));
    const store = storeFor(namespace);

    expect(await store.lists()).toEqual([
      { list: 'failed', count: 0 },
      { list: 'golden_fail_failed', count: 2 },
    ]);
    expect(await store.count({ queue: 'golden_fail' })).toBe(2);
    const page = await store.page({ queue: 'golden_fail' });
    expect(page.failures.map((f) => f.args)).toEqual([['mq'], ['report-42']]);
    expect(page.failures[0]?.id).toMatch(/^golden_fail_failed:1:/);

    await store.retry(page.failures[0]!.id);
    expect(await redis.lrange(`${namespace}:queue:golden_fail`, 0, -1)).toEqual([
      '{"class":"Failing","args":["mq"]}',
    ]);
    const cleared = await store.clear({ queue: 'golden_fail' });
    expect(cleared.done).toBe(2);
    expect(await redis.exists(`${namespace}:golden_fail_failed`)).toBe(0);
    expect(await redis.smembers(`${namespace}:failed_queues`)).toEqual([]);
  });

  it("keeps Ruby's number bytes when retrying (floats, integers beyond 2^53)", async () => {
    const namespace = uniqueNamespace('golden-numbers');
    const record =
      '{"failed_at":"2026/11/27 22:09:46 UTC","payload":{"class":"Archive","args":[1.0,2.5,-0.0,1.0e+20,9007199254740993],' +
      '"enqueued_at":1764000000.5},"exception":"Boom","error":"x","backtrace":[],"worker":"vm:1:q","queue":"q"}';
    await redis.rpush(`${namespace}:failed`, record);
    const store = storeFor(namespace);
    const [failure] = (await store.page()).failures;
    await store.retry(failure!.id);
    expect(await redis.lrange(`${namespace}:queue:q`, 0, -1)).toEqual([
      '{"class":"Archive","args":[1.0,2.5,-0.0,1.0e+20,9007199254740993]}',
    ]);
    const [stored] = await redis.lrange(`${namespace}:failed`, 0, -1);
    expect(stored?.startsWith(record.slice(0, -1))).toBe(true);
    expect(stored).toMatch(/,"retried_at":"[^"]+"\}$/);
  });

  it('a second retry replaces retried_at where it is, as Ruby Hash#[]= does', async () => {
    const namespace = uniqueNamespace('golden-twice');
    const [retried] = goldenList('failure after requeue(0)');
    await redis.rpush(`${namespace}:failed`, retried!);
    const store = storeFor(namespace);
    const [failure] = (await store.page()).failures;
    await store.retry(failure!.id);
    const [stored] = await redis.lrange(`${namespace}:failed`, 0, -1);
    expect(anyRetriedAt(stored!)).toBe(anyRetriedAt(retried!));
    expect(stored!.match(/retried_at/g)).toHaveLength(1);
  });

  it('writes records resque-web can render', async () => {
    const namespace = uniqueNamespace('golden-ours');
    await writeFailures(redis, namespace, [newFailure()]);
    const store = storeFor(namespace);
    const [failure] = (await store.page()).failures;
    await store.retry(failure!.id);
    const [raw] = await redis.lrange(`${namespace}:failed`, 0, -1);
    const record = JSON.parse(raw!) as Record<string, unknown>;
    expect(Object.keys(record)).toEqual([
      'failed_at',
      'payload',
      'exception',
      'error',
      'backtrace',
      'worker',
      'queue',
      'retried_at',
    ]);
    for (const field of ['failed_at', 'retried_at'] as const) {
      expect(record[field]).toMatch(/^\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2} UTC$/);
      expect(parseResqueTime(record[field] as string)).toBeInstanceOf(Date);
    }
    expect(String(record['worker'])).toContain(':');
    expect(Array.isArray(record['backtrace'])).toBe(true);
  });
});

describe('golden records through the store, newest-first paging', () => {
  const redis = rawRedis();
  let namespace: string;
  beforeAll(async () => {
    namespace = uniqueNamespace('golden-page');
    await redis.rpush(`${namespace}:failed`, ...goldenList('failures after worker run'));
  });
  afterAll(() => redis.disconnect());

  it('pages newest first across page boundaries, and oldest first', async () => {
    const store = new Failures(redis, new Keys(namespace), { redis: sharedRedisUrl() });
    const first = await store.page({ limit: 3 });
    const second = await store.page({ limit: 3, offset: 3 });
    expect(first.failures.map((f) => f.index)).toEqual([3, 2, 1]);
    expect(first.hasMore).toBe(true);
    expect(second.failures.map((f) => f.index)).toEqual([0]);
    expect(second.hasMore).toBe(false);
    const asc = await store.page({ order: 'asc', limit: 3 });
    expect(asc.failures.map((f) => f.index)).toEqual([0, 1, 2]);
    const byClass = await store.page({ className: 'Failing' });
    expect(byClass.failures.map((f) => f.index)).toEqual([3, 0]);
    expect(byClass.total).toBeUndefined();
  });
});
