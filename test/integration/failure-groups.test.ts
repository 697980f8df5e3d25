// Error groups: counted as failures are written (same pipeline, no scanning), first-seen release kept, bounded,
// and usable to retry or clear exactly their members.
import { afterAll, describe, expect, it } from 'vitest';
import { groupId, groupSignature } from '../../src/failure/grouping.js';
import { Failures } from '../../src/failure/store.js';
import { Keys } from '../../src/protocol/keys.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace } from '../harness/context.js';
import { newFailure, writeFailures } from './failure-helpers.js';

const at = (minute: number) => new Date(Date.UTC(2026, 10, 27, 10, minute));

describe('error groups', () => {
  const redis = rawRedis();
  afterAll(() => redis.disconnect());
  const storeFor = (namespace: string) =>
    new Failures(redis, new Keys(namespace), { redis: sharedRedisUrl() });

  it('count failures by class + exception + normalised message + top frame, with first-seen release', async () => {
    const namespace = uniqueNamespace('groups');
    const timeout = (n: number, queue: string, minute: number) =>
      newFailure({
        className: 'Fetch',
        args: [n],
        queue,
        exception: 'TimeoutError',
        error: `request ${n} to "https://api/x/${n}" timed out after ${n * 10} ms`,
        backtrace: [`fetch (/app/jobs/fetch.js:${20}:${n})`, 'node:internal/process:1:1'],
        failedAt: at(minute),
      });
    await writeFailures(redis, namespace, [timeout(1, 'web', 5), timeout(2, 'mail', 3)], {
      release: 'v1.0.0',
    });
    await writeFailures(redis, namespace, [timeout(3, 'web', 9)], { release: 'v1.1.0' });
    await writeFailures(
      redis,
      namespace,
      [newFailure({ className: 'Fetch', exception: 'TypeError', failedAt: at(7) })],
      {
        release: 'v1.1.0',
      },
    );

    const groups = await storeFor(namespace).groups();
    expect(groups.map((g) => [g.exception, g.count])).toEqual([
      ['TimeoutError', 3],
      ['TypeError', 1],
    ]);
    const [timeouts, typeErrors] = groups;
    expect(timeouts).toMatchObject({
      className: 'Fetch',
      message: 'request <n> to <str> timed out after <n> ms',
      frame: '/app/jobs/fetch.js:20',
      firstRelease: 'v1.0.0',
      lastRelease: 'v1.1.0',
      sampleError: 'request 3 to "https://api/x/3" timed out after 30 ms',
    });
    expect(timeouts?.firstSeen).toEqual(at(3));
    expect(timeouts?.lastSeen).toEqual(at(9));
    expect([...(timeouts?.queues ?? [])].sort()).toEqual(['mail', 'web']);
    expect(timeouts?.classes).toEqual(['Fetch']);
    expect(typeErrors?.firstRelease).toBe('v1.1.0');
    expect((await storeFor(namespace).groups({ order: 'count', limit: 1 })).map((g) => g.count)).toEqual([3]);

    // Each failure read back carries the id of the group it was counted in.
    const page = await storeFor(namespace).page({ group: timeouts!.id });
    expect(page.failures).toHaveLength(3);
    expect(await storeFor(namespace).group(timeouts!.id)).toEqual(timeouts);
  });

  it('keep at most maxGroups, evicting the least recently seen, and cap remembered queues', async () => {
    const namespace = uniqueNamespace('groups-cap');
    const failures = Array.from({ length: 8 }, (_, i) =>
      newFailure({ exception: `E${i}`, queue: `q${i}`, failedAt: at(i) }),
    );
    await writeFailures(redis, namespace, failures, { groups: { maxGroups: 5, maxMembers: 2 } });
    await writeFailures(
      redis,
      namespace,
      ['a', 'b', 'c'].map((queue) => newFailure({ exception: 'E7', queue, failedAt: at(20) })),
      { groups: { maxGroups: 5, maxMembers: 2 } },
    );
    const groups = await storeFor(namespace).groups();
    expect(groups.map((g) => g.exception)).toEqual(['E7', 'E6', 'E5', 'E4', 'E3']);
    expect(groups[0]?.count).toBe(4);
    expect(groups[0]?.queues).toEqual(['q7', 'a']);
    expect(await redis.hlen(`${namespace}:ts:failure-group-details`)).toBe(5);
    expect(await redis.zcard(`${namespace}:ts:failure-groups`)).toBe(5);
  });

  it('retry and clear by group touch only its members', async () => {
    const namespace = uniqueNamespace('groups-act');
    const boom = (n: number) => newFailure({ args: [n], error: `boom ${n}` });
    const other = (n: number) => newFailure({ args: [n], error: 'different' });
    await writeFailures(redis, namespace, [boom(1), other(2), boom(3), other(4)]);
    const store = storeFor(namespace);
    const group = groupId(groupSignature({ ...boom(0), payload: boom(0).payload }));
    expect((await store.retryAll({ group })).done).toBe(2);
    expect((await redis.lrange(`${namespace}:queue:default`, 0, -1)).sort()).toEqual([
      '{"class":"Archive","args":[1]}',
      '{"class":"Archive","args":[3]}',
    ]);
    expect((await store.clear({ group })).done).toBe(2);
    expect((await store.page()).failures.map((f) => f.args)).toEqual([[4], [2]]);
  });
});
