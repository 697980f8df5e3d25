// A fair queue across real `resque work` processes: a worker killed with kill -9 in the middle of tenant jobs loses
// and duplicates none of them; the reaper gives its jobs back to the head of their tenants' lists.
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Resque } from '../../src/client/resque.js';
import { defineJob } from '../../src/jobs/define.js';
import { Keys } from '../../src/protocol/keys.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace, waitFor } from '../harness/context.js';
import { spawnWorker, type WorkerProcess } from '../harness/processes.js';

const FAST_REAPER = {
  RESQUE_HEARTBEAT_INTERVAL: '0.2',
  RESQUE_PRUNE_INTERVAL: '1',
  RESQUE_REAPER_INTERVAL: '0.3',
};
let redis: Redis;
const spawned: WorkerProcess[] = [];
beforeAll(() => {
  redis = rawRedis();
});
afterAll(() => redis.disconnect());
afterEach(() => {
  for (const w of spawned.splice(0)) w.child.kill('SIGKILL');
});

// The enqueuing side's definitions of the fixture jobs (test/fixtures/jobs.mjs), with a tenant each.
const Slow = defineJob({
  className: 'Slow',
  queue: 'q',
  tenant: (n: number, _ms: number) => `t${n}`,
  perform: (_ctx, _n: number, _ms: number) => {},
});
const Record = defineJob({
  className: 'Record',
  queue: 'q',
  tenant: (n: number) => `t${n % 3}`,
  perform: (_ctx, _n: number) => {},
});

function start(namespace: string, concurrency: string): WorkerProcess {
  const worker = spawnWorker({
    REDIS_URL: sharedRedisUrl(),
    RESQUE_NAMESPACE: namespace,
    QUEUES: 'q',
    INTERVAL: '0.2',
    RESQUE_ISOLATION: 'none',
    CONCURRENCY: concurrency,
    ...FAST_REAPER,
  });
  spawned.push(worker);
  return worker;
}

describe('a fair queue across worker processes', () => {
  it("kill -9 mid-jobs: every tenant job runs once, the dead worker's come back to their tenants", async () => {
    const namespace = uniqueNamespace('fair-kill9');
    const keys = new Keys(namespace);
    const resque = new Resque({ redis: sharedRedisUrl(), namespace });
    await resque.fairQueue('q');
    const victim = start(namespace, '3');
    await waitFor(async () => (await redis.scard(keys.workers)) === 3, 15_000, 'three slots');
    for (const n of [0, 1, 2]) await resque.enqueue(Slow, n, 600_000);
    await waitFor(async () => (await redis.hlen(`${namespace}:test:started`)) === 3, 15_000, 'three running');
    const quick = Array.from({ length: 12 }, (_, i) => 100 + i);
    for (const n of quick) await resque.enqueue(Record, n);
    victim.signal('SIGKILL');
    await victim.exited;

    const rescuer = start(namespace, '4');
    const ledger = async (n: number) => redis.hlen(`${namespace}:test:ledger:${n}`);
    await waitFor(
      async () => (await Promise.all(quick.map(ledger))).every((n) => n === 1),
      20_000,
      'quick jobs',
    );
    const rescuerKeys = async () =>
      (await redis.keys(`${namespace}:ts:inflight:*`)).filter((key) => key.includes(`:${rescuer.pid}`));
    await waitFor(
      async () => (await rescuerKeys()).length === 3,
      20_000,
      'slow jobs re-reserved by the rescuer',
    );
    const held = await Promise.all((await rescuerKeys()).map((key) => redis.get(key)));
    expect(held.every((value) => value?.includes('"class":"Slow"') && value.includes('"returns":1'))).toBe(
      true,
    );
    expect(held.map((value) => /"tenant":"(t\d)"/.exec(value ?? '')?.[1]).sort()).toEqual(['t0', 't1', 't2']);
    expect(await redis.keys(`${namespace}:ts:inflight:*`)).toHaveLength(3);
    // Nothing went through the queue's own list, and nothing is left on the tenants' lists.
    expect(await redis.llen(keys.queue('q'))).toBe(0);
    expect(await redis.exists(keys.fairRotation('q'))).toBe(0);
    expect((await Promise.all(quick.map(ledger))).every((n) => n === 1)).toBe(true);
    await resque.close();
  });
});
