import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { Keys } from '../../src/index.js';
import { createLogger } from '../../src/logging/logger.js';
import { ScheduleStore } from '../../src/scheduler/schedule-store.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import { keysUnder, rawRedis, uniqueNamespace } from '../harness/context.js';

describe('persistent schedules in resque-scheduler format', () => {
  const redis = rawRedis();
  let namespace: string;
  let keys: Keys;
  let store: ScheduleStore;

  beforeEach(() => {
    namespace = uniqueNamespace('schedules');
    keys = new Keys(namespace);
    store = new ScheduleStore(redis, keys);
  });
  afterAll(() => redis.disconnect());

  it("stores Ruby's JSON in persistent_schedules, flags schedules_changed, keeps our options aside", async () => {
    await store.set('nightly', {
      cron: '0 3 * * *',
      class: 'Report',
      queue: 'reports',
      args: [1],
      description: 'n',
      missed: 'once',
    });
    expect(await redis.hget(`${namespace}:persistent_schedules`, 'nightly')).toBe(
      '{"cron":"0 3 * * *","class":"Report","queue":"reports","args":[1],"description":"n"}',
    );
    expect(await redis.smembers(`${namespace}:schedules_changed`)).toEqual(['nightly']);
    expect(JSON.parse((await redis.hget(keys.scheduleOptions, 'nightly'))!)).toEqual({
      missed: 'once',
      missedLimit: 10,
    });
  });

  it('fires a schedule a Ruby process persisted (set_schedule with persist)', async () => {
    await redis.hset(
      keys.persistentSchedules,
      'ruby-made',
      '{"every":"10s","class":"Report","queue":"reports","args":"x"}',
    );
    await redis.sadd(keys.schedulesChanged, 'ruby-made');
    const scheduler = new Scheduler({ redis, keys, logger: createLogger('silent') });
    const t = Date.UTC(2026, 0, 1);
    await scheduler.pass(t);
    await scheduler.pass(t + 10_000);
    expect(await redis.lrange(keys.queue('reports'), 0, -1)).toEqual([
      expect.stringMatching(/^\{"class":"Report","args":\["x"\]/),
    ]);
    expect(await redis.exists(keys.schedulesChanged)).toBe(0);
    await scheduler.stop();
  });

  it('refuses to create a duplicate name and writes nothing for an invalid schedule', async () => {
    await store.set('a', { every: '5s', class: 'A', queue: 'q' }, { create: true });
    await expect(
      store.set('a', { every: '5s', class: 'A', queue: 'q' }, { create: true }),
    ).rejects.toMatchObject({
      code: 'DUPLICATE_SCHEDULE',
    });
    const before = await keysUnder(redis, namespace);
    await expect(store.set('b', { cron: 'every day', class: 'A', queue: 'q' })).rejects.toMatchObject({
      code: 'INVALID_SCHEDULE',
    });
    expect(await keysUnder(redis, namespace)).toEqual(before);
  });

  it('disabling moves a schedule out of persistent_schedules so no master fires it; enabling puts it back', async () => {
    await store.set('a', { every: '5s', class: 'A', queue: 'q' });
    expect(await store.setEnabled('a', false)).toBe(true);
    expect(await redis.hexists(keys.persistentSchedules, 'a')).toBe(0);
    expect((await store.all()).map((s) => [s.name, s.enabled])).toEqual([['a', false]]);
    expect(await store.setEnabled('a', true)).toBe(true);
    expect(await redis.hget(keys.persistentSchedules, 'a')).toBe('{"every":"5s","class":"A","queue":"q"}');
    expect(await store.remove('a')).toBe(true);
    expect(await store.all()).toEqual([]);
  });
});

describe('schedules_changed', () => {
  it('is left for the master: a scheduler that is not master does not consume it', async () => {
    const redis = rawRedis();
    const namespace = uniqueNamespace('changed');
    const keys = new Keys(namespace);
    try {
      await new ScheduleStore(redis, keys).set('a', { every: '5s', class: 'A', queue: 'q' });
      await redis.set(keys.schedulerMasterLock(), 'ruby-host:1', 'EX', 60);
      const follower = new Scheduler({ redis, keys, logger: createLogger('silent') });
      expect((await follower.pass(Date.UTC(2026, 0, 1))).master).toBe(false);
      expect(follower.schedules.has('a')).toBe(true);
      expect(await redis.smembers(keys.schedulesChanged)).toEqual(['a']);
      await redis.del(keys.schedulerMasterLock());
      expect((await follower.pass(Date.UTC(2026, 0, 1, 0, 0, 1))).master).toBe(true);
      expect(await redis.exists(keys.schedulesChanged)).toBe(0);
      await follower.stop();
    } finally {
      redis.disconnect();
    }
  });
});
