// The scheduler of a sharded namespace (docs/cluster.md, Shards): master lock and persistent schedules on shard 0,
// each tick fired on its queue's shard, delayed jobs of every shard promoted there.
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/resolve.js';
import { shardLayoutOf } from '../../src/config/shards.js';
import { Resque } from '../../src/index.js';
import { createLogger } from '../../src/logging/logger.js';
import type { ShardLayout } from '../../src/protocol/shard-layout.js';
import { Scheduler, type SchedulerOptions } from '../../src/scheduler/scheduler.js';
import { openSchedulerConnections, type SchedulerConnections } from '../../src/scheduler/shard-targets.js';
import { resqueInProcess } from '../harness/cli-in-process.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace } from '../harness/context.js';

const HOUR_START = Date.UTC(2026, 5, 1, 12, 0, 0);
const logger = createLogger('silent');

describe('the scheduler of a sharded namespace', () => {
  const redis = rawRedis();
  const opened: SchedulerConnections[] = [];
  const made: Scheduler[] = [];
  const clients: Resque[] = [];
  afterEach(async () => {
    await Promise.all(made.splice(0).map((s) => s.stop()));
    for (const c of opened.splice(0)) for (const r of c.connections) r.disconnect();
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });

  function setUp(label: string): { layout: ShardLayout; make: (o?: Partial<SchedulerOptions>) => Scheduler } {
    const namespace = uniqueNamespace(label);
    const config = resolveConfig({ redis: sharedRedisUrl(), namespace, shards: 3 }, {});
    const layout = shardLayoutOf(config)!;
    const make = (options: Partial<SchedulerOptions> = {}) => {
      const connections = openSchedulerConnections(config);
      opened.push(connections);
      const { redis: shard0, keys, shards } = connections;
      const scheduler = new Scheduler({ redis: shard0, keys, shards, logger, ...options });
      made.push(scheduler);
      return scheduler;
    };
    return { layout, make };
  }

  const queueOn = (layout: ShardLayout, shard: number) => {
    for (let n = 0; ; n++) if (layout.shardOf(`r${n}`) === shard) return `r${n}`;
  };
  const queued = async (namespace: string, queue: string) =>
    (await redis.lrange(`${namespace}:queue:${queue}`, 0, -1)).map((raw) => JSON.parse(raw).args[0]);

  it('holds one master lock on shard 0 and fires each tick into its queue’s shard, its records there', async () => {
    const { layout, make } = setUp('shsched');
    const [q1, q2] = [queueOn(layout, 1), queueOn(layout, 2)];
    const schedules: SchedulerOptions['schedules'] = [
      ['one', { cron: '* * * * *', class: 'Report', queue: q1, args: ['one'] }],
      ['two', { cron: '* * * * *', class: 'Report', queue: q2, args: ['two'] }],
    ];
    const a = make({ identity: 'a:1', schedules });
    const b = make({ identity: 'b:2', schedules });
    // A persistent schedule (shard 0's store) fires too, on its queue's shard.
    await a.store.set('stored', { cron: '* * * * *', class: 'Report', queue: q2, args: ['stored'] });
    expect((await a.pass(HOUR_START - 1000)).master).toBe(true);
    expect((await b.pass(HOUR_START - 1000)).master).toBe(false);
    const [ns0, ns1, ns2] = layout.namespaces as [string, string, string];
    expect(await redis.get(`${ns0}:${ns0}:resque_scheduler_master_lock`)).toBe('a:1');
    for (const ns of [ns1, ns2])
      expect(await redis.exists(`${ns}:${ns}:resque_scheduler_master_lock`)).toBe(0);
    const fired = await a.pass(HOUR_START + 500);
    expect(fired.fired.map((f) => f.name).sort()).toEqual(['one', 'stored', 'two']);
    expect(await queued(ns1, q1)).toEqual(['one']);
    expect((await queued(ns2, q2)).sort()).toEqual(['stored', 'two']);
    expect(await redis.exists(`${ns0}:queue:${q1}`, `${ns0}:queue:${q2}`)).toBe(0);
    // The tick records live with the queue they were enqueued to.
    expect(await redis.hget(`${ns1}:delayed:last_enqueued_at`, 'one')).not.toBeNull();
    expect(await redis.hget(`${ns2}:delayed:last_enqueued_at`, 'two')).not.toBeNull();
    expect(await redis.hget(`${ns0}:delayed:last_enqueued_at`, 'one')).toBeNull();
    // Fired once: the second scheduler, made master by a handover, finds the ticks claimed.
    await redis.del(`${ns0}:${ns0}:resque_scheduler_master_lock`);
    await a.stop();
    const again = await b.pass(HOUR_START + 800);
    expect(again.master).toBe(true);
    expect(again.fired.every((f) => !f.enqueued)).toBe(true);
    expect(await queued(ns1, q1)).toEqual(['one']);
  });

  it('promotes the due delayed jobs of every shard into that shard’s queues', async () => {
    const { layout, make } = setUp('shsched-delayed');
    const now = Date.now();
    const queues = [queueOn(layout, 0), queueOn(layout, 2)];
    for (const [i, shard] of [0, 2].entries()) {
      const client = new Resque({ redis: sharedRedisUrl(), namespace: layout.namespaces[shard]! });
      clients.push(client);
      await client.enqueueAtTo(queues[i]!, new Date(now + 60_000), 'Report', `due-${shard}`);
      await client.enqueueAtTo(queues[i]!, new Date(now + 3_600_000), 'Report', `later-${shard}`);
    }
    const scheduler = make();
    expect(await queued(layout.namespaces[0]!, queues[0]!)).toEqual([]);
    const result = await scheduler.pass(now + 120_000);
    expect(result.promoted).toBe(2);
    expect(await queued(layout.namespaces[0]!, queues[0]!)).toEqual(['due-0']);
    expect(await queued(layout.namespaces[2]!, queues[1]!)).toEqual(['due-2']);
    for (const shard of [0, 2])
      expect(await redis.zcard(`${layout.namespaces[shard]}:delayed_queue_schedule`)).toBe(1);
  });

  it('resque scheduler --shards 3 promotes on every shard, and releases its lock on shard 0 when it stops', async () => {
    const namespace = uniqueNamespace('shsched-cli');
    const layout = shardLayoutOf(resolveConfig({ redis: sharedRedisUrl(), namespace, shards: 3 }, {}))!;
    const queues = [queueOn(layout, 1), queueOn(layout, 2)];
    for (const [i, shard] of [1, 2].entries()) {
      const client = new Resque({ redis: sharedRedisUrl(), namespace: layout.namespaces[shard]! });
      clients.push(client);
      await client.enqueueInTo(queues[i]!, 300, 'Report', `due-${shard}`);
    }
    const result = await resqueInProcess([
      'scheduler',
      '--redis',
      sharedRedisUrl(),
      '--namespace',
      namespace,
      '--shards',
      '3',
      '--seconds',
      '1.5',
    ]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`namespace "${namespace}" in 3 shards (schedules and lock on shard 0)`);
    expect(await queued(layout.namespaces[1]!, queues[0]!)).toEqual(['due-1']);
    expect(await queued(layout.namespaces[2]!, queues[1]!)).toEqual(['due-2']);
    const ns0 = layout.namespaces[0]!;
    expect(await redis.exists(`${ns0}:${ns0}:resque_scheduler_master_lock`)).toBe(0);
  });
});
