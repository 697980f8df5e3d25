// The reaper's two rules, with a clock the test controls: resque-ts slots judged by their liveness beat, everything
// else by Ruby's heartbeat rule under Ruby's lock, held for a pass only.
import { spawnSync } from 'node:child_process';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/resolve.js';
import { hostIdentity } from '../../src/fleet/host-identity.js';
import { beat, writeProcessRecord } from '../../src/fleet/liveness.js';
import { Registration } from '../../src/fleet/registration.js';
import { createLogger } from '../../src/logging/logger.js';
import { Keys } from '../../src/protocol/keys.js';
import { isoOffset } from '../../src/protocol/time.js';
import { formatSlotIds } from '../../src/protocol/worker-id.js';
import { Fetcher } from '../../src/worker/fetch/fetcher.js';
import { QueuePatterns } from '../../src/worker/queue-patterns.js';
import { Reaper } from '../../src/worker/reaper.js';
import { rawRedis, uniqueNamespace } from '../harness/context.js';

const logger = createLogger('silent');
const T0 = 1_900_000_000_000;
let redis: Redis;
beforeAll(() => {
  redis = rawRedis();
});
afterAll(async () => {
  await redis.quit();
});

function setup() {
  const keys = new Keys(uniqueNamespace('reaper'));
  // A long reaper period: a host-check turn taken in one step of a test is still held in the next, however slow.
  const config = resolveConfig({ namespace: keys.namespace, reaperIntervalMs: 600_000 }, {});
  let now = T0;
  const clock = () => now;
  const advance = (ms: number) => {
    now += ms;
  };
  const reaperOf = (workerId: string) =>
    new Reaper({ redis, keys, config, logger, clock }, { workerId, host: workerId.split(':')[0]! });
  return { keys, config, clock, advance, reaperOf };
}

/** A registered resque-ts worker with `slots` slots, beating at the test clock; its first slot holds a job. */
async function workerWithJob(
  keys: Keys,
  clock: () => number,
  workerId: string,
  slots: number,
  identity = hostIdentity(),
) {
  const ids = formatSlotIds(workerId, slots);
  const [host, pid] = workerId.split(':');
  const registration = new Registration(
    redis,
    keys,
    { workerId, host: host!, pid: Number(pid), slots: ids, identity },
    clock,
  );
  await registration.register();
  await redis.rpush(keys.queue('q'), '{"class":"A","args":[1]}');
  const config = { failureBackend: 'redis' as const, release: 't', onTermTimeout: 'requeue' as const };
  const [job] = (
    await new Fetcher(redis, keys, new QueuePatterns(['q']), config, logger, () => {}).reserve([ids[0]!])
  ).reservations;
  return { ids, job: job! };
}

describe('reaper', () => {
  it('gives back the job of a slot whose liveness beat is older than livenessTimeoutMs, and unregisters it', async () => {
    const { keys, config, clock, advance, reaperOf } = setup();
    const { ids } = await workerWithJob(keys, clock, 'other:1:q', 2, undefined);
    await beat(redis, keys, ['me:2:q'], clock);
    advance(config.livenessTimeoutMs - 1);
    await beat(redis, keys, ['me:2:q'], clock);
    expect((await reaperOf('me:2:q').pass()).reaped).toEqual([]);
    advance(2);
    await beat(redis, keys, ['me:2:q'], clock);
    const report = await reaperOf('me:2:q').pass();
    expect(report).toMatchObject({ ran: true, givenBack: 1 });
    expect(report.reaped.sort()).toEqual([...ids].sort());
    expect(await redis.lrange(keys.queue('q'), 0, -1)).toEqual(['{"class":"A","args":[1],"returns":1}']);
    expect(await redis.smembers(keys.workers)).toEqual([]);
    expect(await redis.zscore(keys.liveness, ids[1]!)).toBeNull();
    expect(await redis.exists(keys.process('other:1:q'))).toBe(0);
  });

  it('judges no one while its own beat is late (it was cut off too)', async () => {
    const { keys, config, clock, advance, reaperOf } = setup();
    await workerWithJob(keys, clock, 'other:1:q', 1, undefined);
    await beat(redis, keys, ['me:2:q'], clock);
    advance(config.livenessTimeoutMs * 2);
    const report = await reaperOf('me:2:q').pass();
    expect(report).toMatchObject({ ran: false, reaped: [] });
    expect(await redis.llen(keys.queue('q'))).toBe(0);
  });

  it('gives back at once the jobs of a process on this host that is gone', async () => {
    const identity = hostIdentity();
    if (!identity) return;
    const { keys, clock, reaperOf } = setup();
    const gone = spawnSync(process.execPath, ['-e', '0']).pid!;
    const { ids } = await workerWithJob(keys, clock, `box:${gone}:q`, 2, identity);
    await beat(redis, keys, ['box:999999:q'], clock);
    // Another pid namespace (a container) on the same host: its pids are not ours to check.
    await writeProcessRecord(redis.pipeline(), keys, {
      workerId: `box:${gone + 1}:q`,
      host: 'box',
      pid: gone,
      slots: [`box:${gone + 1}:q`],
      identity: { ...identity, pidNamespace: 'pid:[1]' },
    }).exec();
    const report = await reaperOf('box:999999:q').pass();
    expect(report.givenBack).toBe(1);
    expect(report.reaped.sort()).toEqual([...ids].sort());
    expect(await redis.smembers(keys.hostWorkers('box'))).toEqual([`box:${gone + 1}:q`]);
  });

  it('drops the in-flight entry of a slot Ruby pruned (it recorded the failure); gives back any other orphan', async () => {
    const { keys, config, clock, advance, reaperOf } = setup();
    const pruned = await workerWithJob(keys, clock, 'a:1:q', 1, undefined);
    // What Ruby's unregister_worker does: the six deletes (and a failure record), not our in-flight key.
    await redis.srem(keys.workers, pruned.ids[0]!);
    await redis.del(keys.worker(pruned.ids[0]!));
    const orphan = await workerWithJob(keys, clock, 'b:1:q', 1, undefined);
    advance(config.livenessTimeoutMs + 1);
    await beat(redis, keys, ['me:2:q'], clock);
    const report = await reaperOf('me:2:q').pass();
    expect(report).toMatchObject({ dropped: 1, givenBack: 1 });
    expect(await redis.exists(keys.inflight(pruned.ids[0]!), keys.inflight(orphan.ids[0]!))).toBe(0);
    expect(await redis.lrange(keys.queue('q'), 0, -1)).toEqual(['{"class":"A","args":[1],"returns":1}']);
  });

  it('holds Ruby’s pruning lock for a pass only, takes one pass per period for the fleet, and leaves beating ids to its own rule', async () => {
    const { keys, clock, reaperOf } = setup();
    const [seconds] = await redis.time();
    const now = new Date(Number(seconds) * 1000);
    const old = isoOffset(new Date(now.getTime() - 3_600_000));
    // A dead Ruby worker, a resque-ts slot with an old Ruby heartbeat but a current liveness beat, and ourselves.
    await redis.sadd(keys.workers, 'ruby:7:q', 'ts:8:q');
    await redis.hset(keys.heartbeats, 'ruby:7:q', old, 'ts:8:q', old, 'me:2:q', isoOffset(now));
    await redis.set(
      keys.worker('ruby:7:q'),
      '{"queue":"q","run_at":"2026-01-01T00:00:00Z","payload":{"class":"A","args":[]}}',
    );
    await beat(redis, keys, ['ts:8:q'], clock);
    const report = await reaperOf('me:2:q').rubyPass();
    expect(report).toMatchObject({ ran: true, reaped: ['ruby:7:q'], failed: 1 });
    expect(await redis.ttl(keys.pruningLock)).toBe(-2);
    expect(await redis.sismember(keys.workers, 'ts:8:q')).toBe(1);
    // Another worker in the same period gets no turn, and Ruby's lock stays free for Ruby.
    expect(await reaperOf('you:3:q').rubyPass()).toMatchObject({ ran: false });
    expect(await redis.ttl(keys.pruningLock)).toBe(-2);
  });

  it('does not take a pass while a Ruby worker holds the lock, and never deletes a lock it does not hold', async () => {
    const { keys, reaperOf } = setup();
    await redis.set(keys.pruningLock, 'ruby:7:q', 'EX', 60);
    const [seconds] = await redis.time();
    await redis.hset(keys.heartbeats, 'me:2:q', isoOffset(new Date(Number(seconds) * 1000)));
    expect(await reaperOf('me:2:q').rubyPass()).toMatchObject({ ran: false });
    expect(await redis.get(keys.pruningLock)).toBe('ruby:7:q');
  });

  it('clears a worker killed during its start-up (a liveness beat and a heartbeat, never registered)', async () => {
    const { keys, config, clock, advance, reaperOf } = setup();
    const ids = formatSlotIds('gone:7:q', 2);
    const registration = new Registration(
      redis,
      keys,
      { workerId: 'gone:7:q', host: 'gone', pid: 7, slots: ids, identity: undefined },
      clock,
    );
    // Start-up's first writes, in order: the liveness beat, then Ruby's heartbeat.
    await registration.beat();
    await registration.heartbeat();
    advance(config.livenessTimeoutMs + 1);
    await beat(redis, keys, ['me:2:q'], clock);
    const report = await reaperOf('me:2:q').pass();
    expect(report.reaped.sort()).toEqual([...ids].sort());
    expect(await redis.hkeys(keys.heartbeats)).toEqual([]);
    expect(await redis.zscore(keys.liveness, ids[0]!)).toBeNull();
  });

  it('scans the host once per period for the whole host, and at every worker’s start-up', async () => {
    const identity = hostIdentity();
    if (!identity) return;
    const { keys, clock, reaperOf } = setup();
    const gonePid = () => spawnSync(process.execPath, ['-e', '0']).pid!;
    await beat(redis, keys, ['box:999998:q', 'box:999999:q'], clock);
    const first = await workerWithJob(keys, clock, `box:${gonePid()}:q`, 1, identity);
    expect((await reaperOf('box:999998:q').pass()).reaped).toEqual(first.ids);
    // Another worker of the host in the same period leaves the scan to the first...
    const second = await workerWithJob(keys, clock, `box:${gonePid()}:q`, 1, identity);
    expect((await reaperOf('box:999999:q').pass()).reaped).toEqual([]);
    // ...but scans anyway when it starts.
    expect((await reaperOf('box:999999:q').pass({ startingUp: true })).reaped).toEqual(second.ids);
  });
});
