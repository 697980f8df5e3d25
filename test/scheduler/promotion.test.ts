import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defineJob, Keys, Resque } from '../../src/index.js';
import { createLogger } from '../../src/logging/logger.js';
import { Promoter } from '../../src/scheduler/promoter.js';
import { goldenCase } from '../compat/golden-fixture.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace } from '../harness/context.js';
import { keysLeft, rubyDelayedPush, rubyMasterMove } from './delayed-helpers.js';

const Archive = defineJob({
  className: 'Archive',
  queue: 'file_serve',
  perform: async (_ctx, _id: number, _name: string) => {},
});

const T = 1_900_000_000_000; // a whole second, in ms
const goldenItem = (goldenCase('delayed item').value as string[])[0]!;

describe('promotion of due delayed jobs', () => {
  const redis = rawRedis();
  let namespace: string;
  let keys: Keys;
  let resque: Resque;
  let promoter: Promoter;

  const newPromoter = (strictPayloads = false) =>
    new Promoter({
      redis: resque.redis,
      keys,
      strictPayloads,
      logger: createLogger('silent'),
      batchSize: 50,
    });

  beforeEach(() => {
    namespace = uniqueNamespace('promote');
    keys = new Keys(namespace);
    resque = new Resque({ redis: sharedRedisUrl(), namespace });
    promoter = newPromoter();
  });
  afterEach(async () => {
    await resque.close();
  });
  afterAll(() => redis.disconnect());

  it('moves a job at its millisecond, not before, with its id, and leaves no delayed key behind', async () => {
    // Filed while "now" is far before T: enqueueAt decides by this machine's clock, so T lies in the future.
    const scheduled = await resque.enqueueAt(T + 1500, Archive, 7, 'x');
    expect(await promoter.promoteDue(T + 1499)).toEqual({ moved: 0, nextDueMs: T + 1500 });
    expect(await promoter.promoteDue(T + 1500)).toEqual({ moved: 1, nextDueMs: undefined });
    const [payload] = await redis.lrange(keys.queue('file_serve'), 0, -1);
    expect(JSON.parse(payload!)).toEqual({
      class: 'Archive',
      args: [7, 'x'],
      id: scheduled!.id,
      enqueued_at: (T + 1500) / 1000,
    });
    expect(payload!.startsWith('{"class":"Archive","args":[7,"x"],"id":')).toBe(true);
    expect(await keysLeft(redis, namespace)).toEqual([keys.queue('file_serve'), keys.queues]);
  });

  it('moves a Ruby-written item once its whole second has come, keeping its bytes (2.0 stays 2.0)', async () => {
    const second = T / 1000;
    await rubyDelayedPush(redis, namespace, second, goldenItem);
    promoter = newPromoter(true);
    expect((await promoter.promoteDue(T - 1)).moved).toBe(0);
    expect(await promoter.promoteDue(T)).toEqual({ moved: 1, nextDueMs: undefined });
    expect(await redis.lrange(keys.queue('file_serve'), 0, -1)).toEqual([
      '{"class":"Archive","args":[1,"x",2.0]}',
    ]);
    expect(await keysLeft(redis, namespace)).toEqual([keys.queue('file_serve'), keys.queues]);
  });

  it('sets aside an item naming no queue instead of dropping it', async () => {
    await rubyDelayedPush(redis, namespace, T / 1000, '{"class":"NoQueue","args":[]}');
    await rubyDelayedPush(redis, namespace, T / 1000, 'not json');
    expect((await promoter.promoteDue(T)).moved).toBe(2);
    const aside = (await redis.lrange(keys.delayedUnpromotable, 0, -1)).map((t) => JSON.parse(t));
    expect(aside).toEqual([
      { item: '{"class":"NoQueue","args":[]}', second: T / 1000, reason: 'the item names no queue' },
      { item: 'not json', second: T / 1000, reason: expect.stringContaining('not JSON') },
    ]);
    expect(await redis.exists(keys.delayedAt(T / 1000), keys.delayedSchedule)).toBe(0);
  });

  it('keeps the timestamps entry while another copy of the item waits in the same second', async () => {
    await resque.enqueueAt(T + 200, Archive, 1, 'dup');
    await resque.enqueueAt(T + 700, Archive, 1, 'dup');
    const item = '{"class":"Archive","args":[1,"dup"],"queue":"file_serve"}';
    expect((await promoter.promoteDue(T + 200)).moved).toBe(1);
    expect(await redis.smembers(keys.timestamps(item))).toEqual([`delayed:${T / 1000 + 1}`]);
    expect(await resque.delayed.isDelayed(Archive, 1, 'dup')).toBe(true);
    expect((await promoter.promoteDue(T + 700)).moved).toBe(1);
    expect(await resque.delayed.isDelayed(Archive, 1, 'dup')).toBe(false);
    expect(await keysLeft(redis, namespace)).toEqual([keys.queue('file_serve'), keys.queues]);
  });

  it('a Ruby-format master moving our items leaves side data that the next pass clears, running nothing twice', async () => {
    await resque.enqueueAt(T + 300, Archive, 1, 'a');
    await resque.enqueueAt(T + 900, Archive, 2, 'b');
    expect(await rubyMasterMove(redis, namespace, T / 1000 + 1)).toBe(2);
    expect(await redis.hlen(keys.delayedRecords)).toBe(2);
    expect((await promoter.promoteDue(T + 1000)).moved).toBe(0);
    expect(await redis.lrange(keys.queue('file_serve'), 0, -1)).toEqual([
      '{"class":"Archive","args":[1,"a"]}',
      '{"class":"Archive","args":[2,"b"]}',
    ]);
    expect(await keysLeft(redis, namespace)).toEqual([keys.queue('file_serve'), keys.queues]);
  });

  it('a job Ruby removed (LREM by bytes) is not enqueued; its record goes', async () => {
    await resque.enqueueAt(T + 300, Archive, 1, 'gone');
    const item = '{"class":"Archive","args":[1,"gone"],"queue":"file_serve"}';
    await redis.lrem(keys.delayedAt(T / 1000 + 1), 0, item);
    await redis.srem(keys.timestamps(item), `delayed:${T / 1000 + 1}`);
    expect((await promoter.promoteDue(T + 2000)).moved).toBe(0);
    expect(await keysLeft(redis, namespace)).toEqual([]);
  });

  it('two promoters racing over 2,000 due jobs move each exactly once', async () => {
    const jobs = Array.from({ length: 2000 }, (_, i) => ({
      at: T + (i % 37) * 10,
      args: [i, 'race'] as [number, string],
    }));
    await resque.enqueueAtBulk(Archive, jobs);
    for (let i = 0; i < 100; i++)
      await rubyDelayedPush(
        redis,
        namespace,
        T / 1000 + 1,
        `{"class":"Archive","args":[${i},"ruby"],"queue":"file_serve"}`,
      );
    const other = newPromoter();
    const [a, b] = await Promise.all([promoter.promoteDue(T + 1000), other.promoteDue(T + 1000)]);
    expect(a.moved + b.moved).toBe(2100);
    const queued = (await redis.lrange(keys.queue('file_serve'), 0, -1)).map(
      (t) => JSON.parse(t) as { args: [number, string] },
    );
    expect(new Set(queued.map((p) => p.args.join(':'))).size).toBe(2100);
    expect(await keysLeft(redis, namespace)).toEqual([keys.queue('file_serve'), keys.queues]);
  });

  it('moves copies of one item spread over many batches of a second once each, with their own ids', async () => {
    // Batches of 50 read ahead of the move in flight; the same item in both must not be taken for the wrong copy.
    const jobs = Array.from({ length: 400 }, (_, i) => ({
      at: T + 1 + (i % 7),
      args: (i % 3 === 0 ? [1, 'same'] : [i, 'own']) as [number, string],
    }));
    const filed = await resque.enqueueAtBulk(Archive, jobs);
    for (let i = 0; i < 30; i++)
      await rubyDelayedPush(
        redis,
        namespace,
        T / 1000 + 1,
        '{"class":"Archive","args":[1,"same"],"queue":"file_serve"}',
      );
    expect((await promoter.promoteDue(T + 1000)).moved).toBe(430);
    const queued = (await redis.lrange(keys.queue('file_serve'), 0, -1)).map(
      (t) => JSON.parse(t) as { args: [number, string]; id?: string },
    );
    const same = queued.filter((p) => p.args[1] === 'same');
    expect(same.length).toBe(134 + 30);
    const ids = queued.flatMap((p) => (p.id === undefined ? [] : [p.id]));
    expect(new Set(ids).size).toBe(430); // Ruby's items get fresh ids
    expect(ids).toEqual(expect.arrayContaining(filed.map((job) => job!.id)));
    expect(await keysLeft(redis, namespace)).toEqual([keys.queue('file_serve'), keys.queues]);
  });

  it('the running promoter wakes for a newly announced job instead of sleeping its full interval', async () => {
    let now = T;
    const running = new Promoter({
      redis: resque.redis,
      keys,
      strictPayloads: false,
      logger: createLogger('silent'),
      now: async () => now,
      maxSleepMs: 60_000,
      openSubscriber: () => resque.redis.duplicate(),
    });
    running.start();
    try {
      // Idle: the first pass found nothing and sleeps up to a minute; the announcement must wake it.
      await new Promise((resolve) => setTimeout(resolve, 100));
      now = T + 5000;
      await resque.enqueueAt(T + 100, Archive, 9, 'wake');
      const deadline = Date.now() + 10_000;
      while ((await redis.llen(keys.queue('file_serve'))) === 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(await redis.llen(keys.queue('file_serve'))).toBe(1);
    } finally {
      await running.stop();
    }
  });
});
