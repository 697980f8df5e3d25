// Retry and remove while another client removes and pushes failures: ids and bulk sweeps must act on exactly the
// failures meant (docs/protocol.md, Known weaknesses of Ruby Resque, 7), never on whatever moved into their place.
import type { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { FailureNotFoundError } from '../../src/errors/index.js';
import { Failures } from '../../src/failure/store.js';
import { Keys } from '../../src/protocol/keys.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace } from '../harness/context.js';
import { newFailure, writeFailures } from './failure-helpers.js';

const SIZE = 2500;

/** Removes one record atomically only if it is still the one read: the disruptor never deletes our targets. */
const REMOVE_IF_SAME = `
if redis.call('LINDEX', KEYS[1], ARGV[1]) == ARGV[2] then
  redis.call('LSET', KEYS[1], ARGV[1], '__gone__')
  return redis.call('LREM', KEYS[1], 1, '__gone__')
end
return 0`;

/** Removes up to ARGV[1] Noise failures among the first 300: everything after them shifts towards the head. */
const REMOVE_NOISE_NEAR_HEAD = `
local items = redis.call('LRANGE', KEYS[1], 0, 299)
local n = 0
for i, item in ipairs(items) do
  if n < tonumber(ARGV[1]) and string.find(item, '"class":"Noise"', 1, true) then
    redis.call('LSET', KEYS[1], i - 1, '__gone__')
    n = n + 1
  end
end
if n > 0 then redis.call('LREM', KEYS[1], n, '__gone__') end
return n`;

/**
 * Shifts the list between two chunks of a sweep, every time: the removal is sent on the sweep's own connection from
 * its progress callback, so Redis runs it before the sweep's next read.
 */
function shiftBetweenChunks(redis: Redis, namespace: string) {
  const removals: Array<Promise<unknown>> = [];
  return {
    onProgress: () => {
      removals.push(redis.eval(REMOVE_NOISE_NEAR_HEAD, 1, `${namespace}:failed`, 3));
    },
    removed: async () => (await Promise.all(removals)).reduce<number>((sum, n) => sum + Number(n), 0),
  };
}

/** Interleaved Archive (targets) and Noise (what the other client removes and pushes) failures. */
async function seed(redis: Redis, namespace: string): Promise<void> {
  const failures = Array.from({ length: SIZE }, (_, i) =>
    newFailure({ className: i % 2 === 0 ? 'Archive' : 'Noise', args: [i] }),
  );
  await writeFailures(redis, namespace, failures, { groups: false });
}

/** Another client: removes random Noise failures (mostly before our targets) and pushes new ones, until stopped. */
function disrupt(namespace: string): { stop: () => Promise<{ removed: number; pushed: number }> } {
  const redis = rawRedis();
  const key = `${namespace}:failed`;
  let running = true;
  let removed = 0;
  let pushed = 0;
  const loop = (async () => {
    while (running) {
      const length = await redis.llen(key);
      const index = Math.floor(Math.random() * Math.max(1, length / 2));
      const raw = await redis.lindex(key, index);
      if (raw?.includes('"class":"Noise"')) {
        removed += Number(await redis.eval(REMOVE_IF_SAME, 1, key, index, raw));
      }
      await writeFailures(redis, namespace, [newFailure({ className: 'Noise', args: [`new-${pushed++}`] })], {
        groups: false,
      });
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      redis.disconnect();
      return { removed, pushed };
    },
  };
}

function parsed(raws: string[]) {
  return raws.map(
    (raw) =>
      JSON.parse(raw) as { payload: { class: string; args: Array<number | string> }; retried_at?: string },
  );
}

describe('failures under concurrent writes', () => {
  const redis = rawRedis();
  afterAll(() => redis.disconnect());
  const storeFor = (namespace: string) =>
    new Failures(redis, new Keys(namespace), { redis: sharedRedisUrl() });

  it('retry and remove by id act on exactly the failures meant while the list shifts', async () => {
    const namespace = uniqueNamespace('conc-id');
    await seed(redis, namespace);
    const store = storeFor(namespace);
    const all = (await store.page({ order: 'asc', limit: SIZE })).failures;
    const archive = all.filter((f) => f.className === 'Archive');
    const toRetry = archive.filter((_, i) => i % 50 === 0);
    const toRemove = archive.filter((_, i) => i % 50 === 25);

    const disruptor = disrupt(namespace);
    for (let i = 0; i < toRetry.length; i++) {
      await store.retry(toRetry[i]!.id);
      await store.remove(toRemove[i]!.id);
    }
    const { removed } = await disruptor.stop();
    expect(removed).toBeGreaterThan(0);

    const jobs = (await redis.lrange(`${namespace}:queue:default`, 0, -1)).sort();
    expect(jobs).toEqual(toRetry.map((f) => `{"class":"Archive","args":${JSON.stringify(f.args)}}`).sort());

    const records = parsed(await redis.lrange(`${namespace}:failed`, 0, -1));
    const archiveLeft = records.filter((r) => r.payload.class === 'Archive');
    const retriedArgs = archiveLeft.filter((r) => r.retried_at).map((r) => r.payload.args[0]);
    expect(retriedArgs.sort()).toEqual(toRetry.map((f) => f.args![0]).sort());
    const removedArgs = new Set(toRemove.map((f) => f.args![0]));
    expect(archiveLeft.filter((r) => removedArgs.has(r.payload.args[0]))).toEqual([]);
    expect(archiveLeft).toHaveLength(archive.length - toRemove.length);
    expect(records.filter((r) => r.payload.class === 'Noise' && r.retried_at)).toEqual([]);
  });

  it('finds a failure that moved far (chunked search) and refuses one that is gone', async () => {
    const namespace = uniqueNamespace('conc-far');
    await seed(redis, namespace);
    const store = storeFor(namespace);
    const target = (await store.page({ order: 'asc', offset: 2000, limit: 1 })).failures[0]!;
    const gone = (await store.page({ order: 'asc', offset: 10, limit: 1 })).failures[0]!;
    await redis.ltrim(`${namespace}:failed`, 1200, -1);
    const found = await store.get(target.id);
    expect(found.raw).toBe(target.raw);
    expect(found.index).toBe(800);
    await expect(store.retry(gone.id)).rejects.toBeInstanceOf(FailureNotFoundError);
    await expect(store.remove(gone.id)).rejects.toMatchObject({ code: 'FAILURE_NOT_FOUND' });
    expect(await redis.llen(`${namespace}:queue:default`)).toBe(0);
    expect(await redis.llen(`${namespace}:failed`)).toBe(SIZE - 1200);
  });

  it('never acts on another failure that took the same place', async () => {
    const namespace = uniqueNamespace('conc-swap');
    await writeFailures(redis, namespace, [newFailure({ args: ['a'] })], { groups: false });
    const store = storeFor(namespace);
    const [meant] = (await store.page()).failures;
    await redis.lset(`${namespace}:failed`, 0, JSON.stringify({ ...meant!.record, error: 'another' }));
    await expect(store.retry(meant!.id)).rejects.toBeInstanceOf(FailureNotFoundError);
    await expect(store.remove(meant!.id)).rejects.toBeInstanceOf(FailureNotFoundError);
    expect(await redis.llen(`${namespace}:failed`)).toBe(1);
    expect(await redis.exists(`${namespace}:queue:default`)).toBe(0);
  });

  it('bulk retry by class retries each matching failure exactly once while the list shifts', async () => {
    const namespace = uniqueNamespace('conc-bulk');
    await seed(redis, namespace);
    const store = storeFor(namespace);
    const disruptor = disrupt(namespace);
    const shifts = shiftBetweenChunks(redis, namespace);
    const result = await store.retryAll({ className: 'Archive' }, { onProgress: shifts.onProgress });
    await disruptor.stop();
    expect(await shifts.removed()).toBeGreaterThan(0);
    expect(result.done).toBe(SIZE / 2);
    const jobs = await redis.lrange(`${namespace}:queue:default`, 0, -1);
    const args = jobs.map((job) => (JSON.parse(job) as { args: number[] }).args[0]);
    expect(new Set(args).size).toBe(SIZE / 2);
    expect(args.every((n) => (n as number) % 2 === 0)).toBe(true);
    const records = parsed(await redis.lrange(`${namespace}:failed`, 0, -1));
    expect(records.filter((r) => r.payload.class === 'Archive' && !r.retried_at)).toEqual([]);
    expect(records.filter((r) => r.payload.class === 'Noise' && r.retried_at)).toEqual([]);
  });

  it('bulk clear by class removes exactly the matching failures while the list shifts', async () => {
    const namespace = uniqueNamespace('conc-clear');
    await seed(redis, namespace);
    const store = storeFor(namespace);
    const disruptor = disrupt(namespace);
    const shifts = shiftBetweenChunks(redis, namespace);
    const result = await store.clear({ className: 'Archive' }, { onProgress: shifts.onProgress });
    const { removed, pushed } = await disruptor.stop();
    const shifted = await shifts.removed();
    expect(shifted).toBeGreaterThan(0);
    expect(result.done).toBe(SIZE / 2);
    const records = parsed(await redis.lrange(`${namespace}:failed`, 0, -1));
    expect(records.filter((r) => r.payload.class === 'Archive')).toEqual([]);
    expect(records).toHaveLength(SIZE / 2 + pushed - removed - shifted);
  });
});
