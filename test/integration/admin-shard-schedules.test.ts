// Stored schedules of a sharded namespace as the admin side shows and runs them: a schedule is stored on shard 0, and
// the scheduler keeps its runs (`delayed:last_enqueued_at`) on its queue's shard, where it fires the ticks.
import { afterAll, describe, expect, it } from 'vitest';
import { Admin } from '../../src/api/admin.js';
import { resolveConfig } from '../../src/config/resolve.js';
import { shardLayoutOf } from '../../src/config/shards.js';
import { createLogger } from '../../src/logging/logger.js';
import { Keys } from '../../src/protocol/keys.js';
import type { ShardLayout } from '../../src/protocol/shard-layout.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import { openSchedulerConnections, type SchedulerConnections } from '../../src/scheduler/shard-targets.js';
import { onCluster, rawRedis, sharedRedisUrl, uniqueNamespace } from '../harness/context.js';

const HOUR_START = Date.UTC(2026, 5, 1, 12, 0, 0);
const redis = rawRedis();
const admins: Admin[] = [];
const opened: SchedulerConnections[] = [];
const schedulers: Scheduler[] = [];

afterAll(async () => {
  await Promise.all(schedulers.map((s) => s.stop()));
  for (const c of opened) for (const r of c.connections) r.disconnect();
  await Promise.all(admins.map((a) => a.close()));
  redis.disconnect();
});

function setUp(label: string) {
  const namespace = uniqueNamespace(label).replace(/[{}]/g, '');
  const config = resolveConfig({ redis: sharedRedisUrl(), namespace, shards: 3 }, {});
  const layout = shardLayoutOf(config)!;
  const admin = new Admin({ redis: sharedRedisUrl(), namespace, shards: 3 });
  admins.push(admin);
  const connections = openSchedulerConnections(config);
  opened.push(connections);
  const scheduler = new Scheduler({
    redis: connections.redis,
    keys: connections.keys,
    shards: connections.shards,
    logger: createLogger('silent'),
  });
  schedulers.push(scheduler);
  return { layout, admin, scheduler };
}

const queueOn = (layout: ShardLayout, shard: number) => {
  for (let n = 0; ; n++) if (layout.shardOf(`s${n}`) === shard) return `s${n}`;
};

describe.skipIf(onCluster)('stored schedules of a sharded namespace', () => {
  it('shows the last run the scheduler recorded on the queue’s shard', async () => {
    const { layout, admin, scheduler } = setUp('shsched-view');
    const queue = queueOn(layout, 2);
    await admin.schedules.set('hourly', { cron: '* * * * *', class: 'Report', queue, args: [] });
    await scheduler.pass(HOUR_START - 1000);
    const fired = await scheduler.pass(HOUR_START + 500);
    expect(fired.fired.map((f) => [f.name, f.enqueued])).toEqual([['hourly', true]]);
    const [row] = (await admin.scheduleOverview()).schedules;
    expect(row?.name).toBe('hourly');
    expect(row?.lastEnqueuedAt).toBe(
      await redis.hget(new Keys(layout.namespaces[2]!).lastEnqueuedAt, 'hourly'),
    );
    expect(row?.lastEnqueuedAt).toBeDefined();
  });

  it('records a run now where the scheduler reads the schedule’s runs: its queue’s shard', async () => {
    const { layout, admin } = setUp('shsched-run');
    const queue = queueOn(layout, 1);
    await admin.schedules.set('nightly', { every: '1h', class: 'Nightly', queue, args: [] });
    expect(await admin.runSchedule('nightly')).toBe(true);
    expect(await redis.llen(new Keys(layout.namespaces[1]!).queue(queue))).toBe(1);
    expect(await redis.hexists(new Keys(layout.namespaces[1]!).lastEnqueuedAt, 'nightly')).toBe(1);
    expect((await admin.scheduleOverview()).schedules[0]?.lastEnqueuedAt).toBeDefined();
  });

  it('starts a schedule removed and stored again afresh, as on one Redis: no catch-up from its old ticks', async () => {
    const { layout, admin, scheduler } = setUp('shsched-remove');
    const config = {
      cron: '* * * * *',
      class: 'Report',
      queue: queueOn(layout, 2),
      args: [],
      missed: 'all' as const,
    };
    await admin.schedules.set('minutely', config);
    await scheduler.pass(HOUR_START - 1000);
    expect((await scheduler.pass(HOUR_START + 500)).fired.length).toBe(1);
    expect(await admin.schedules.remove('minutely')).toBe(true);
    await scheduler.pass(HOUR_START + 1000);
    await admin.schedules.set('minutely', config);
    expect((await scheduler.pass(HOUR_START + 10 * 60_000 + 500)).fired).toEqual([]);
  });
});
