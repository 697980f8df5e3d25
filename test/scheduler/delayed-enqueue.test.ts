import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineJob, Resque } from '../../src/index.js';
import { goldenCase } from '../compat/golden-fixture.js';
import { keysUnder, rawRedis, sharedRedisUrl, uniqueNamespace } from '../harness/context.js';

const Archive = defineJob({
  className: 'Archive',
  queue: 'file_serve',
  perform: async (_ctx, _id: number, _name: string) => {},
});

const GOLDEN_SECOND = 1893456000;
/** Ruby wrote args [1, "x", 2.0]; JavaScript has no 2.0, so our vector drops the float and keeps every other byte. */
const goldenItem = (goldenCase('delayed item').value as string[])[0]!;
const ourGoldenItem = goldenItem.replace(',2.0]', ']');

describe('delayed enqueue on resque-scheduler keys', () => {
  const redis = rawRedis();
  let namespace: string;
  let resque: Resque;

  beforeAll(() => {
    namespace = uniqueNamespace('delayed');
    resque = new Resque({ redis: sharedRedisUrl(), namespace });
  });
  afterAll(async () => {
    await resque.close();
    redis.disconnect();
  });

  it('writes delayed:<second>, timestamps:<item> and delayed_queue_schedule byte for byte as Ruby', async () => {
    const scheduled = await resque.enqueueAtTo(
      'file_serve',
      new Date(GOLDEN_SECOND * 1000),
      'Archive',
      1,
      'x',
    );
    expect(scheduled).toMatchObject({ queue: 'file_serve', delayed: true, dueAtMs: GOLDEN_SECOND * 1000 });
    const list = goldenCase('delayed item');
    const zset = goldenCase('delayed schedule zset');
    const set = goldenCase('timestamps set');
    const under = (rubyKey: string) => `${namespace}:${rubyKey.slice('resque:'.length)}`;
    expect(await redis.lrange(under(list.key), 0, -1)).toEqual([ourGoldenItem]);
    expect(await redis.zrange(under(zset.key), 0, -1, 'WITHSCORES')).toEqual(
      (zset.value as Array<[string, number]>).flatMap(([member, score]) => [member, String(score)]),
    );
    const ourTimestampsKey = under(set.key).replace(goldenItem, ourGoldenItem);
    expect(await redis.smembers(ourTimestampsKey)).toEqual(set.value);
    const [member, score] = await redis.zrange(`${namespace}:ts:delayed:due`, 0, 0, 'WITHSCORES');
    expect(member).toMatch(new RegExp(`^\\d{15}-${scheduled!.id}$`));
    expect(score).toBe(String(GOLDEN_SECOND * 1000));
  });

  it('files a job due mid-second under the next second and keeps its millisecond in the side index', async () => {
    const at = GOLDEN_SECOND * 1000 + 100_300;
    const scheduled = await resque.enqueueAt(at, Archive, 2, 'y');
    const bucket = GOLDEN_SECOND + 101;
    expect(await redis.lrange(`${namespace}:delayed:${bucket}`, 0, -1)).toEqual([
      '{"class":"Archive","args":[2,"y"],"queue":"file_serve"}',
    ]);
    expect(await redis.zscore(`${namespace}:delayed_queue_schedule`, String(bucket))).toBe(String(bucket));
    const members = await redis.zrangebyscore(`${namespace}:ts:delayed:due`, at, at);
    expect(members).toEqual([expect.stringMatching(new RegExp(`-${scheduled!.id}$`))]);
    const record = JSON.parse((await redis.hget(`${namespace}:ts:delayed:records`, members[0]!))!);
    expect(record).toMatchObject({
      d: scheduled!.id,
      s: bucket,
      q: 'file_serve',
      i: '{"class":"Archive","args":[2,"y"],"queue":"file_serve"}',
    });
  });

  it('enqueues at once a job whose time has passed, as Ruby does', async () => {
    const ns = uniqueNamespace('delayed-past');
    const client = new Resque({ redis: sharedRedisUrl(), namespace: ns });
    try {
      const scheduled = await client.enqueueAt(new Date(Date.now() - 60_000), Archive, 3, 'z');
      expect(scheduled).toMatchObject({ delayed: false, queue: 'file_serve' });
      expect(await redis.llen(`${ns}:queue:file_serve`)).toBe(1);
      expect(await keysUnder(redis, ns)).toEqual([
        `${ns}:queue:file_serve`,
        `${ns}:queues`,
        `${ns}:ts:queues:non-empty`,
        `${ns}:ts:wake:file_serve`,
      ]);
    } finally {
      await client.close();
    }
  });

  it('files a bulk of 1,200 jobs across script calls, each findable', async () => {
    const ns = uniqueNamespace('delayed-bulk');
    const client = new Resque({ redis: sharedRedisUrl(), namespace: ns });
    try {
      const base = Date.now() + 3_600_000;
      const jobs = Array.from({ length: 1200 }, (_, i) => ({
        at: base + i * 10,
        args: [i, 'bulk'] as [number, string],
      }));
      const results = await client.enqueueAtBulk(Archive, jobs);
      expect(results.every((r) => r?.delayed)).toBe(true);
      expect(await client.delayed.count()).toBe(1200);
      expect(await redis.zcard(`${ns}:ts:delayed:due`)).toBe(1200);
      expect(await client.delayed.scheduledAt(Archive, 1199, 'bulk')).toEqual([
        Math.ceil((base + 11_990) / 1000),
      ]);
    } finally {
      await client.close();
    }
  });

  it('lets a before_schedule hook veto, writing nothing', async () => {
    const ns = uniqueNamespace('delayed-veto');
    const calls: string[] = [];
    const Vetoed = defineJob({
      className: 'Vetoed',
      queue: 'q',
      perform: async (_ctx, _n: number) => {},
      hooks: {
        before_schedule: () => false,
        after_schedule: () => void calls.push('after'),
      },
    });
    const client = new Resque({ redis: sharedRedisUrl(), namespace: ns });
    try {
      expect(await client.enqueueIn(60_000, Vetoed, 1)).toBeNull();
      expect(calls).toEqual([]);
      expect(await keysUnder(redis, ns)).toEqual([]);
    } finally {
      await client.close();
    }
  });
});
