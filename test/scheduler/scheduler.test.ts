import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Keys, Resque } from '../../src/index.js';
import { createLogger } from '../../src/logging/logger.js';
import { Scheduler, type SchedulerOptions } from '../../src/scheduler/scheduler.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace } from '../harness/context.js';

const HOUR_START = Date.UTC(2026, 5, 1, 12, 0, 0);
const logger = createLogger('silent');

describe('the scheduler', () => {
  const redis = rawRedis();
  let namespace: string;
  let keys: Keys;
  const made: Scheduler[] = [];

  const scheduler = (options: Partial<SchedulerOptions> = {}) => {
    const s = new Scheduler({ redis, keys, logger, pollIntervalMs: 1000, ...options });
    made.push(s);
    return s;
  };
  const queued = async (queue = 'reports') =>
    (await redis.lrange(keys.queue(queue), 0, -1)).map(
      (raw) => JSON.parse(raw) as { class: string; args: unknown[] },
    );

  beforeEach(() => {
    namespace = uniqueNamespace('sched');
    keys = new Keys(namespace);
  });
  afterEach(async () => {
    await Promise.all(made.splice(0).map((s) => s.stop()));
  });

  it("elects one master on resque-scheduler's lock key, value host:pid, with our TTL", async () => {
    const a = scheduler({ identity: 'alpha:1' });
    const b = scheduler({ identity: 'beta:2' });
    expect((await a.pass(HOUR_START)).master).toBe(true);
    expect((await b.pass(HOUR_START)).master).toBe(false);
    const lockKey = `${namespace}:${namespace}:resque_scheduler_master_lock`;
    expect(await redis.get(lockKey)).toBe('alpha:1');
    const ttl = await redis.pttl(lockKey);
    expect(ttl).toBeGreaterThan(25_000);
    expect(ttl).toBeLessThanOrEqual(30_000);
    expect(keys.schedulerMasterLock('MyApp')).toBe(
      `${namespace}:${namespace}:MyApp:resque_scheduler_master_lock`,
    );
  });

  it('defers to a Ruby master holding the lock, and takes over once it is released', async () => {
    const lockKey = keys.schedulerMasterLock();
    await redis.set(lockKey, 'ruby-host:4242', 'EX', 180);
    const ours = scheduler({
      identity: 'node:1',
      schedules: [['hourly', { cron: '0 * * * *', class: 'Report', queue: 'reports' }]],
    });
    expect((await ours.pass(HOUR_START)).master).toBe(false);
    expect(await redis.get(lockKey)).toBe('ruby-host:4242');
    await redis.del(lockKey); // Ruby's master shuts down (DEL on TERM)
    expect((await ours.pass(HOUR_START + 1000)).master).toBe(true);
  });

  it('two schedulers and a leader handover fire each tick of a simulated hour exactly once', async () => {
    const schedules: SchedulerOptions['schedules'] = [
      ['every-minute', { cron: '* * * * *', class: 'Report', queue: 'reports', args: ['minute'] }],
      ['every-20s', { every: '20s', class: 'Report', queue: 'reports', args: ['twenty'] }],
    ];
    const a = scheduler({ identity: 'a:1', schedules, lockTimeoutMs: 5000 });
    const b = scheduler({ identity: 'b:2', schedules, lockTimeoutMs: 5000 });
    await a.pass(HOUR_START - 1000);
    await b.pass(HOUR_START - 1000);
    let aAlive = true;
    for (let now = HOUR_START; now < HOUR_START + 3_600_000; now += 1000) {
      // a dies at 20 min; its lock expires and b takes over.
      if (now === HOUR_START + 1_200_000) {
        aAlive = false;
        await redis.del(keys.schedulerMasterLock());
      }
      // At 40 min both believe they are master for a moment (split brain): claims keep ticks single.
      if (now === HOUR_START + 2_400_000) {
        await Promise.all([a.pass(now), b.pass(now)].map((p) => p.catch(() => undefined)));
        aAlive = true;
        continue;
      }
      if (aAlive) await a.pass(now);
      await b.pass(now);
    }
    const jobs = await queued();
    const minutes = jobs.filter((j) => j.args[0] === 'minute').length;
    const twenties = jobs.filter((j) => j.args[0] === 'twenty').length;
    expect(minutes).toBe(60);
    expect(twenties).toBe(180);
    expect(await redis.hget(keys.lastEnqueuedAt, 'every-minute')).toMatch(/^2026-06-01 12:59:00 \+0000$/);
  });

  it('missed runs: skip fires none, once fires the latest, all fires up to the limit, oldest first', async () => {
    const schedules: SchedulerOptions['schedules'] = [
      ['skip', { cron: '*/10 * * * *', class: 'Report', queue: 'skip' }],
      ['once', { cron: '*/10 * * * *', class: 'Report', queue: 'once', missed: 'once' }],
      ['all', { cron: '*/10 * * * *', class: 'Report', queue: 'all', missed: 'all', missedLimit: 4 }],
    ];
    const s = scheduler({ schedules });
    await s.pass(HOUR_START + 1000); // first seen: starts from here
    // No scheduler ran for an hour and a bit: six ticks were missed (12:10 … 13:00).
    const back = HOUR_START + 3_600_000 + 90_000;
    const result = await s.pass(back);
    expect(await redis.llen(keys.queue('skip'))).toBe(0);
    expect(await redis.llen(keys.queue('once'))).toBe(1);
    expect(await redis.llen(keys.queue('all'))).toBe(4);
    const allTicks = result.fired
      .filter((f) => f.name === 'all')
      .map((f) => new Date(f.tickMs).toISOString());
    expect(allTicks).toEqual([
      '2026-06-01T12:30:00.000Z',
      '2026-06-01T12:40:00.000Z',
      '2026-06-01T12:50:00.000Z',
      '2026-06-01T13:00:00.000Z',
    ]);
    // Nothing fires twice on the next pass, and the next tick fires on time for every policy.
    await s.pass(back + 1000);
    await s.pass(HOUR_START + 3_600_000 + 600_000);
    expect([
      await redis.llen(keys.queue('skip')),
      await redis.llen(keys.queue('once')),
      await redis.llen(keys.queue('all')),
    ]).toEqual([1, 2, 5]);
  });

  it('after a Ruby master ran the schedule, taking over does not count its ticks as missed', async () => {
    const schedules: SchedulerOptions['schedules'] = [
      ['hourly', { cron: '0 * * * *', class: 'Report', queue: 'reports', missed: 'all', missedLimit: 5 }],
    ];
    const ours = scheduler({ schedules, identity: 'node:1' });
    await ours.pass(HOUR_START - 3_600_000 + 1000); // first seen at 11:00:01
    await redis.set(keys.schedulerMasterLock(), 'ruby-host:7', 'EX', 180);
    // The Ruby master fires 12:00 (and records it as resque-scheduler does), then goes away.
    await redis.hset(keys.lastEnqueuedAt, 'hourly', '2026-06-01 12:00:00 +0000');
    await redis.del(keys.schedulerMasterLock());
    const result = await ours.pass(HOUR_START + 30_000);
    expect(result.master).toBe(true);
    expect(result.fired).toEqual([]);
    expect(await redis.llen(keys.queue('reports'))).toBe(0);
  });

  it('a restarted scheduler does not fire a tick its predecessor fired', async () => {
    const schedules: SchedulerOptions['schedules'] = [
      ['m', { cron: '* * * * *', class: 'Report', queue: 'reports' }],
    ];
    const first = scheduler({ schedules });
    await first.pass(HOUR_START - 1000);
    await first.pass(HOUR_START + 500);
    await first.stop();
    const second = scheduler({ schedules });
    await second.pass(HOUR_START + 700);
    await second.pass(HOUR_START + 60_200);
    expect((await queued()).length).toBe(2);
  });

  it('fires a cron in its time zone across DST: once on the fall-back day, at 03:00 on the spring-forward day', async () => {
    const schedules: SchedulerOptions['schedules'] = [
      [
        'berlin',
        {
          cron: '30 2 * * * Europe/Berlin',
          class: 'Report',
          queue: 'reports',
          missed: 'all',
          missedLimit: 10,
        },
      ],
    ];
    const s = scheduler({ schedules });
    const start = Date.UTC(2026, 2, 28, 0, 0); // 28 March, before the spring-forward night
    await s.pass(start);
    const fired: string[] = [];
    for (const end of [Date.UTC(2026, 2, 30, 0, 0)]) {
      const result = await s.pass(end);
      fired.push(...result.fired.map((f) => new Date(f.tickMs).toISOString()));
    }
    // 28 March 02:30 CET, then 29 March: 02:30 does not exist and runs at 03:00 CEST.
    expect(fired).toEqual(['2026-03-28T01:30:00.000Z', '2026-03-29T01:00:00.000Z']);
    await s.pass(Date.UTC(2026, 9, 24, 0, 0)); // skips ahead (all, limit 10): only the last ten
    const autumn = await s.pass(Date.UTC(2026, 9, 26, 0, 0));
    // 25 October: 02:30 happens twice (CEST, then CET); it fires once.
    expect(autumn.fired.map((f) => new Date(f.tickMs).toISOString())).toEqual([
      '2026-10-24T00:30:00.000Z',
      '2026-10-25T00:30:00.000Z',
    ]);
  });

  it('promotes due delayed jobs while master', async () => {
    const resque = new Resque({ redis: sharedRedisUrl(), namespace });
    try {
      const future = 1_900_000_000_000; // ahead of this machine's clock, so the job is filed, not enqueued
      await resque.enqueueAtTo('reports', future + 5000, 'Report', 'later');
      const s = scheduler();
      expect((await s.pass(future + 4999)).promoted).toBe(0);
      expect((await s.pass(future + 5000)).promoted).toBe(1);
      expect((await queued()).map((j) => j.args)).toEqual([['later']]);
    } finally {
      await resque.close();
    }
  });
});
