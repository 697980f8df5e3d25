// Concurrency limits across real `resque work` processes: a key's limit is never exceeded, other keys' jobs run
// while one key is full, and the tokens of a worker killed with kill -9 come back through the reaper.
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Resque } from '../../src/client/resque.js';
import { defineJob } from '../../src/jobs/define.js';
import { Keys } from '../../src/protocol/keys.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace, waitFor } from '../harness/context.js';
import { spawnWorker, type WorkerProcess } from '../harness/processes.js';

let redis: Redis;
const spawned: WorkerProcess[] = [];
beforeAll(() => {
  redis = rawRedis();
});
afterAll(() => redis.disconnect());
afterEach(() => {
  for (const w of spawned.splice(0)) w.child.kill('SIGKILL');
});

/** The enqueuing side's definition of the fixture job (test/fixtures/jobs.mjs): the key is worked out here. */
const Limited = defineJob({
  className: 'Limited',
  queue: 'q',
  concurrency: { limit: 2, key: (key: string) => key },
  perform: (_ctx, _key: string, _n: number, _ms: number) => {},
});

function start(namespace: string): WorkerProcess {
  const worker = spawnWorker({
    REDIS_URL: sharedRedisUrl(),
    RESQUE_NAMESPACE: namespace,
    QUEUES: 'q',
    INTERVAL: '0.2',
    RESQUE_ISOLATION: 'none',
    CONCURRENCY: '3',
    RESQUE_HEARTBEAT_INTERVAL: '0.2',
    RESQUE_REAPER_INTERVAL: '0.3',
  });
  spawned.push(worker);
  return worker;
}

describe('concurrency limits across worker processes', () => {
  it('holds a full key without blocking other keys, and gets its tokens back after kill -9', async () => {
    const namespace = uniqueNamespace('limits-workers');
    const keys = new Keys(namespace);
    const resque = new Resque({ redis: sharedRedisUrl(), namespace });
    const [w1, w2] = [start(namespace), start(namespace)];
    await waitFor(async () => (await redis.scard(keys.workers)) === 6, 20_000, 'six slots');
    const holders = keys.limitHolders('key:Limited a');

    // Key "a": four jobs that outlast the test; two run, two are parked.
    for (let n = 1; n <= 4; n++) await resque.enqueue(Limited, 'a', n, 600_000);
    await waitFor(
      async () => (await redis.hlen(`${namespace}:test:started`)) === 2,
      20_000,
      'two "a" running',
    );
    expect(await resque.limitUsage('key:Limited a')).toEqual({ running: 2, parked: 2 });

    // Key "b" runs meanwhile, never more than two at once either.
    for (let n = 101; n <= 108; n++) await resque.enqueue(Limited, 'b', n, 50);
    await waitFor(async () => {
      const done = await Promise.all(
        Array.from({ length: 8 }, (_, i) => redis.hlen(`${namespace}:test:ledger:${101 + i}`)),
      );
      return done.every((n) => n === 1);
    }, 30_000);
    expect(Number(await redis.get(`${namespace}:test:limit-max:b`))).toBeLessThanOrEqual(2);
    expect(Number(await redis.get(`${namespace}:test:limit-max:a`))).toBe(2);
    expect(await resque.limitUsage('key:Limited b')).toEqual({ running: 0, parked: 0 });

    // kill -9 a worker holding an "a" token: the survivor's reaper gives its jobs back and frees its tokens, and
    // the survivor ends up holding both tokens of "a", never more.
    const slots = await redis.smembers(holders);
    const victim = [w1!, w2!].find((w) => slots.some((slot) => slot.includes(`:${w.pid}`)))!;
    const survivor = victim === w1 ? w2! : w1!;
    victim.signal('SIGKILL');
    await victim.exited;
    await waitFor(
      async () => {
        const now = await redis.smembers(holders);
        return now.length === 2 && now.every((slot) => slot.includes(`:${survivor.pid}`));
      },
      30_000,
      'both "a" tokens held by the survivor',
    );
    expect(await resque.limitUsage('key:Limited a')).toEqual({ running: 2, parked: 2 });
    // One hold per running job, besides the field that keeps the hash out of the listpack encoding (limits.lua).
    const holdingSlots = (await redis.hkeys(keys.limitHolds)).filter((field) => field !== '~hashtable');
    expect(holdingSlots).toHaveLength(2);
    await resque.close();
  });
});
