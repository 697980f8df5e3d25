// Rate limits in the reservation script, with the clock injected: never more than N starts in any window, across
// fetchers; jobs past a limit parked without blocking other keys, and let back by the promoters once the window has
// room; RateLimited from a job parks it and holds its key shut; bad input.
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Resque } from '../../src/client/resque.js';
import { ConfigError, RateLimited } from '../../src/errors/index.js';
import { defineJob } from '../../src/jobs/define.js';
import { JobRegistry } from '../../src/jobs/registry.js';
import { publishClassLimits } from '../../src/limits/definitions.js';
import { releaseRateParked } from '../../src/limits/rate-release.js';
import { createLogger } from '../../src/logging/logger.js';
import { Keys } from '../../src/protocol/keys.js';
import { Promoter } from '../../src/scheduler/promoter.js';
import { Fetcher, type FetchReply } from '../../src/worker/fetch/fetcher.js';
import { InProcessExecutor } from '../../src/worker/in-process-executor.js';
import { QueuePatterns } from '../../src/worker/queue-patterns.js';
import { keysUnder, rawRedis, sharedRedisUrl, uniqueNamespace } from '../harness/context.js';

let redis: Redis;
beforeAll(() => {
  redis = rawRedis();
});
afterAll(async () => {
  await redis.quit();
});

const config = { failureBackend: 'redis' as const, release: 'test' };
const logger = createLogger('silent');
const WINDOW = 60_000;
const T0 = 1_800_000_000_000;

let limitedFor = 0;
const Call = defineJob({
  className: 'Call',
  queue: 'q',
  rate: { limit: 2, windowMs: WINDOW, key: (account: number) => `account:${account}` },
  perform: (_ctx, _account: number) => {
    if (limitedFor > 0) throw new RateLimited(limitedFor);
  },
});
const Plain = defineJob({ className: 'Plain', queue: 'q', perform: () => {} });
const jobs = new JobRegistry([Call, Plain]);

async function setup() {
  const keys = new Keys(uniqueNamespace('rate'));
  const resque = new Resque({ redis: sharedRedisUrl(), namespace: keys.namespace });
  await publishClassLimits({ redis, keys }, jobs);
  const clock = { now: T0 };
  const fetcher = () =>
    new Fetcher(
      redis,
      keys,
      new QueuePatterns(['q']),
      config,
      logger,
      () => {},
      async () => clock.now,
    );
  return { keys, resque, clock, fetcher };
}

const names = (reply: FetchReply) =>
  reply.reservations.map((r) => `${r.payload?.class}(${r.payload?.args.join(',')})`);

async function finish(reply: FetchReply) {
  for (const r of reply.reservations) await r.ack({ kind: 'performed' });
}

describe('rate limits', () => {
  it('writes class limits at start-up and the rate key into the payload', async () => {
    const { keys, resque } = await setup();
    expect(await resque.rateLimits()).toEqual([{ name: 'key:Call', limit: 2, windowMs: WINDOW }]);
    await resque.enqueue(Call, 7);
    const [item] = await redis.lrange(keys.queue('q'), 0, -1);
    expect(JSON.parse(item!)).toMatchObject({ class: 'Call', args: [7], rate_key: 'account:7' });
    await resque.close();
  });

  it('never starts more than N per window across two fetchers; other keys run; parked jobs come back when the window opens', async () => {
    const { keys, resque, clock, fetcher } = await setup();
    for (let i = 0; i < 5; i++) await resque.enqueue(Call, 1);
    await resque.enqueue(Call, 2);
    await resque.enqueue(Plain);
    const a = fetcher();
    const b = fetcher();
    const starts: number[] = [];
    const take = async (f: Fetcher, slots: string[]) => {
      const reply = await f.reserve(slots);
      for (const r of reply.reservations) if (r.payload?.args[0] === 1) starts.push(clock.now);
      await finish(reply);
      return names(reply);
    };

    expect(await take(a, ['a1'])).toEqual(['Call(1)']);
    clock.now += 10_000;
    // The third job of account 1 is parked; the jobs of account 2 and Plain behind it are taken.
    expect(await take(b, ['b1', 'b2', 'b3'])).toEqual(['Call(1)', 'Call(2)', 'Plain()']);
    expect(await resque.rateUsage('key:Call account:1')).toEqual({ starts: 2, parked: 3 });
    expect(await redis.zscore(keys.rateParkedDue, 'key:Call account:1')).toBe(String(T0 + WINDOW));
    expect(await take(a, ['a1', 'a2'])).toEqual([]);

    // Before the window has room nothing moves.
    clock.now = T0 + WINDOW - 1;
    expect((await releaseRateParked(redis, keys, clock.now)).returned).toBe(0);
    // At T0 + WINDOW the first start leaves the window: one job comes back, announced to idle workers.
    clock.now = T0 + WINDOW;
    const promoter = new Promoter({ redis, keys, logger, strictPayloads: false, delayed: false });
    expect((await promoter.promoteDue(clock.now)).moved).toBe(1);
    expect(await redis.lrange(keys.queueWake('q'), 0, -1)).toEqual(['q']);
    expect(await take(b, ['b1', 'b2'])).toEqual(['Call(1)']);
    // The next room is when the second start leaves the window.
    expect(await redis.zscore(keys.rateParkedDue, 'key:Call account:1')).toBe(String(T0 + 10_000 + WINDOW));

    clock.now = T0 + 10_000 + WINDOW;
    expect((await releaseRateParked(redis, keys, clock.now)).returned).toBe(1);
    expect(await take(a, ['a1'])).toEqual(['Call(1)']);
    clock.now += WINDOW;
    await releaseRateParked(redis, keys, clock.now);
    expect(await take(b, ['b1', 'b2'])).toEqual(['Call(1)']);
    expect(await resque.rateUsage('key:Call account:1')).toMatchObject({ parked: 0 });
    expect(await redis.zcard(keys.rateParkedDue)).toBe(0);

    expect(starts).toHaveLength(5);
    for (const t of starts)
      expect(starts.filter((s) => s > t - WINDOW && s <= t).length).toBeLessThanOrEqual(2);
    await resque.close();
  });

  it('decides by the Redis clock when no clock is injected', async () => {
    const { keys, resque } = await setup();
    await resque.enqueue(Call, 5);
    const before = Number((await redis.time())[0]) * 1000;
    const f = new Fetcher(redis, keys, new QueuePatterns(['q']), config, logger, () => {});
    expect(names(await f.reserve(['s1']))).toEqual(['Call(5)']);
    const after = Number((await redis.time())[0]) * 1000 + 1000;
    const [, score] = await redis.zrangebyscore(keys.rateLog('key:Call account:5'), 0, '+inf', 'WITHSCORES');
    expect(Number(score)).toBeGreaterThanOrEqual(before);
    expect(Number(score)).toBeLessThanOrEqual(after);
    expect(await redis.pttl(keys.rateLog('key:Call account:5'))).toBeGreaterThan(0);
    await resque.close();
  });

  it('a queue rate limit holds jobs pushed by Ruby too', async () => {
    const { keys, resque, fetcher } = await setup();
    await resque.limitQueueRate('q', 1, 1000);
    await redis.rpush(keys.queue('q'), '{"class":"X","args":[1]}', '{"class":"X","args":[2]}');
    expect(names(await fetcher().reserve(['s1', 's2']))).toEqual(['X(1)']);
    expect(await resque.rateUsage('queue:q')).toEqual({ starts: 1, parked: 1 });
    // Removing the limit lets its parked jobs back at once.
    expect(await resque.unlimitQueueRate('q')).toBe(true);
    expect(await redis.lrange(keys.queue('q'), 0, -1)).toEqual(['{"class":"X","args":[2]}']);
    expect(await resque.rateUsage('queue:q')).toMatchObject({ parked: 0 });
    await resque.close();
  });

  it('RateLimited from a job gives it back parked, uses no attempt, and holds its key shut for that long', async () => {
    const { keys, resque, clock, fetcher } = await setup();
    await resque.enqueue(Call, 3);
    const f = fetcher();
    const [job] = (await f.reserve(['s1'])).reservations;
    limitedFor = 30_000;
    const outcome = await new InProcessExecutor(jobs).run(job!, new AbortController().signal);
    limitedFor = 0;
    expect(outcome).toMatchObject({ kind: 'given-back', rateLimitedMs: 30_000 });
    await job!.ack(outcome);
    expect(await redis.exists(keys.inflight('s1'))).toBe(0);
    expect(await redis.get(keys.processed)).toBeNull();
    expect(await resque.rateUsage('key:Call account:3')).toEqual({ starts: 1, parked: 1 });
    const [parked] = await redis.lrange(keys.rateParked('key:Call account:3'), 0, -1);
    expect(parked).toBe(`q\n${job!.raw}`);

    // The key is shut although its log has room; another key runs.
    await resque.enqueue(Call, 3);
    await resque.enqueue(Call, 4);
    expect(names(await f.reserve(['s1', 's2']))).toEqual(['Call(4)']);
    expect(await resque.rateUsage('key:Call account:3')).toEqual({ starts: 1, parked: 2 });
    expect(await redis.zscore(keys.rateParkedDue, 'key:Call account:3')).toBe(String(T0 + 30_000));

    clock.now = T0 + 29_999;
    expect((await releaseRateParked(redis, keys, clock.now)).returned).toBe(0);
    clock.now = T0 + 30_000;
    // One start is in the window, so one of the two parked jobs has room: the one that was limited, first.
    expect((await releaseRateParked(redis, keys, clock.now)).returned).toBe(1);
    const [back] = await redis.lrange(keys.queue('q'), 0, -1);
    expect(back).toBe(job!.raw);
    expect(JSON.parse(back!).returns).toBeUndefined();
    await resque.close();
  });

  it('refuses limits that are not whole numbers of 1 or more, and windows under 1 ms, writing nothing', async () => {
    const bad = [
      { limit: 0, windowMs: 1000 },
      { limit: -1, windowMs: 1000 },
      { limit: 1.5, windowMs: 1000 },
      { limit: 1, windowMs: 0 },
      { limit: 1, windowMs: 0.5 },
      { limit: 1, windowMs: Number.NaN },
      { limit: '2', windowMs: 1000 },
    ];
    for (const rate of bad)
      expect(() =>
        defineJob({ className: 'Bad', rate: rate as { limit: number; windowMs: number }, perform: () => {} }),
      ).toThrow(ConfigError);
    const keys = new Keys(uniqueNamespace('rate-bad'));
    const resque = new Resque({ redis: sharedRedisUrl(), namespace: keys.namespace });
    await expect(resque.limitQueueRate('q', 0, 1000)).rejects.toThrow(ConfigError);
    await expect(resque.limitQueueRate('q', 2, 0.5)).rejects.toThrow(/windowMs/);
    await expect(resque.limitQueueRate('q', 2.5, 1000)).rejects.toThrow(ConfigError);
    expect(() => new RateLimited(0)).toThrow(TypeError);
    expect(await keysUnder(redis, keys.namespace)).toEqual([]);
    await resque.close();
  });
});
