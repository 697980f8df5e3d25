import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { defineJob, Keys, Resque } from '../../src/index.js';
import { goldenCase } from '../compat/golden-fixture.js';
import { keysUnder, rawRedis, sharedRedisUrl, uniqueNamespace } from '../harness/context.js';
import { rubyDelayedPush } from './delayed-helpers.js';

const Archive = defineJob({
  className: 'Archive',
  queue: 'file_serve',
  perform: async (_ctx, _id: number, _name: string) => {},
});
const T = 1_900_000_000_000;
const S = T / 1000;

describe('the delayed query and removal API', () => {
  const redis = rawRedis();
  let namespace: string;
  let keys: Keys;
  let resque: Resque;

  beforeEach(async () => {
    await resque?.close();
    namespace = uniqueNamespace('delayed-api');
    keys = new Keys(namespace);
    resque = new Resque({ redis: sharedRedisUrl(), namespace });
  });
  afterAll(async () => {
    await resque.close();
    redis.disconnect();
  });

  it('removes our items and Ruby-written ones by class and args (remove_delayed), cleaning empty timestamps', async () => {
    await resque.enqueueAt(T + 5000, Archive, 1, 'a');
    await resque.enqueueAt(T + 9000, Archive, 1, 'a');
    await rubyDelayedPush(
      redis,
      namespace,
      S + 20,
      '{"class":"Archive","args":[1,"a"],"queue":"file_serve"}',
    );
    await resque.enqueueAt(T + 9000, Archive, 2, 'keep');
    expect(await resque.delayed.scheduledAt(Archive, 1, 'a')).toEqual([S + 5, S + 9, S + 20]);
    expect(await resque.delayed.remove(Archive, 1, 'a')).toBe(3);
    expect(await resque.delayed.isDelayed(Archive, 1, 'a')).toBe(false);
    expect(await resque.delayed.peekTimestamps()).toEqual([S + 9]);
    expect(await resque.delayed.count()).toBe(1);
  });

  it('removes at one timestamp only (remove_delayed_job_from_timestamp)', async () => {
    await resque.enqueueAt(T + 5000, Archive, 1, 'a');
    await resque.enqueueAt(T + 9000, Archive, 1, 'a');
    expect(await resque.delayed.removeAt(S + 5, Archive, 1, 'a')).toBe(1);
    expect(await resque.delayed.scheduledAt(Archive, 1, 'a')).toEqual([S + 9]);
  });

  it('finds, removes and enqueues by selection across many timestamps, in chunks', async () => {
    const jobs = Array.from({ length: 450 }, (_, i) => ({
      at: T + i * 1000,
      args: [i, i % 3 === 0 ? 'three' : 'other'] as [number, string],
    }));
    await resque.enqueueAtBulk(Archive, jobs);
    await rubyDelayedPush(redis, namespace, S + 1, (goldenCase('delayed item').value as string[])[0]!);
    const found = await resque.delayed.find((args) => args[1] === 'three', { className: 'Archive' });
    expect(found.complete).toBe(true);
    expect(found.found).toHaveLength(150);
    const bounded = await resque.delayed.find(() => true, { limit: 10 });
    expect(bounded).toMatchObject({ complete: false });
    expect(bounded.found).toHaveLength(10);
    expect(await resque.delayed.removeSelection((args) => args[1] === 'three')).toBe(150);
    expect(await resque.delayed.enqueueSelection((args) => args[0] === 1 && args[1] === 'other')).toBe(1);
    expect(await redis.lrange(keys.queue('file_serve'), 0, -1)).toEqual([
      '{"class":"Archive","args":[1,"other"]}',
    ]);
    // Ruby's item (args [1,"x",2.0]) is found by its decoded args and moved with its bytes.
    expect(await resque.delayed.enqueueSelection((args) => args[1] === 'x')).toBe(1);
    expect((await redis.lrange(keys.queue('file_serve'), 1, 1))[0]).toBe(
      '{"class":"Archive","args":[1,"x",2.0]}',
    );
    expect(await resque.delayed.count()).toBe(299);
  });

  it('peeks, sizes and next timestamp, and queues one item of a timestamp now', async () => {
    await resque.enqueueAt(T + 1000, Archive, 1, 'a');
    await resque.enqueueAt(T + 1000, Archive, 2, 'b');
    await resque.enqueueAt(T + 3000, Archive, 3, 'c');
    expect(await resque.delayed.timestampCount()).toBe(2);
    expect(await resque.delayed.timestampSize(S + 1)).toBe(2);
    expect((await resque.delayed.peekAt(S + 1)).map((v) => v.args)).toEqual([
      [1, 'a'],
      [2, 'b'],
    ]);
    expect(await resque.delayed.nextTimestamp(T + 2000)).toBe(S + 1);
    expect(await resque.delayed.nextTimestamp(T)).toBeUndefined();
    expect(await resque.delayed.queueNextAt(S + 1)).toBe(1);
    expect((await resque.delayed.peekAt(S + 1)).map((v) => v.args)).toEqual([[2, 'b']]);
    expect(await resque.delayed.queueAllAt(S + 1)).toBe(1);
    expect(await resque.delayed.peekTimestamps()).toEqual([S + 3]);
  });

  it('enqueueNow moves matching jobs to the queue; delayOrEnqueueAt moves a job to a new time', async () => {
    await resque.enqueueAt(T + 1000, Archive, 1, 'a');
    expect(await resque.delayed.enqueueNow(Archive, 1, 'a')).toBe(1);
    expect(await redis.llen(keys.queue('file_serve'))).toBe(1);
    await resque.enqueueAt(T + 1000, Archive, 2, 'b');
    const moved = await resque.delayed.delayOrEnqueueAt(T + 60_000, Archive, 2, 'b');
    expect(moved).toHaveLength(1);
    expect(await resque.delayed.scheduledAt(Archive, 2, 'b')).toEqual([S + 60]);
  });

  it('reset removes every delayed key, ours included', async () => {
    await resque.enqueueAtBulk(
      Archive,
      Array.from({ length: 250 }, (_, i) => ({ at: T + i * 1000, args: [i, 'r'] as [number, string] })),
    );
    await rubyDelayedPush(redis, namespace, S + 3, '{"class":"Other","args":[],"queue":"x"}');
    expect(await resque.delayed.reset()).toBe(250);
    expect(await keysUnder(redis, namespace)).toEqual([]);
  });
});
