// 100,000 failures: bulk retry and clear work in chunks of at most 1000 per Redis call, report progress, and finish.
// A private redis-server, so INFO commandstats counts only this test's calls.
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failureRecordBytes } from '../../src/failure/save.js';
import { Failures } from '../../src/failure/store.js';
import type { BulkProgress } from '../../src/failure/sweep.js';
import { Keys } from '../../src/protocol/keys.js';
import { rawRedis, uniqueNamespace } from '../harness/context.js';
import { type RedisServer, startRedis } from '../harness/redis-server.js';
import { newFailure } from './failure-helpers.js';

const FAILURES = 100_000;
const CHUNK = 1000;

async function callsOf(redis: Redis, command: string): Promise<number> {
  const stats = await redis.info('commandstats');
  return Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(stats)?.[1] ?? 0);
}

describe('bulk operations on 100,000 failures', () => {
  let server: RedisServer;
  let redis: Redis;
  let store: Failures;
  let namespace: string;

  beforeAll(async () => {
    server = await startRedis();
    redis = rawRedis(server.url);
    namespace = uniqueNamespace('bulk');
    store = new Failures(redis, new Keys(namespace), { redis: server.url });
    for (let from = 0; from < FAILURES; from += CHUNK) {
      const records = Array.from({ length: CHUNK }, (_, i) =>
        failureRecordBytes(
          newFailure({ className: 'Export', args: [from + i], queue: `q${(from + i) % 3}` }),
        ),
      );
      await redis.rpush(`${namespace}:failed`, ...records);
    }
  }, 120_000);

  afterAll(async () => {
    redis.disconnect();
    await server.stop();
  });

  it('retries them all in chunks, with progress', async () => {
    const events: BulkProgress[] = [];
    await redis.config('RESETSTAT');
    const result = await store.retryAll({}, { onProgress: (progress) => events.push(progress) });

    expect(result).toEqual({ done: FAILURES, scanned: FAILURES, skipped: 0 });
    expect(await callsOf(redis, 'evalsha')).toBe(FAILURES / CHUNK);
    expect(events.length).toBeGreaterThanOrEqual(FAILURES / CHUNK);
    let previous = 0;
    for (const event of events) {
      expect(event.total).toBe(FAILURES);
      expect(event.scanned - previous).toBeLessThanOrEqual(CHUNK);
      previous = event.scanned;
    }
    expect(events.at(-1)).toMatchObject({ scanned: FAILURES, done: FAILURES });

    const sizes = await Promise.all(['q0', 'q1', 'q2'].map((q) => redis.llen(`${namespace}:queue:${q}`)));
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(FAILURES);
    expect(await redis.lindex(`${namespace}:queue:q1`, 0)).toBe('{"class":"Export","args":[1]}');
    expect(await store.count({ retried: false })).toBe(0);
  }, 120_000);

  it('a second retry-all skips what was retried, unless asked', async () => {
    expect((await store.retryAll({ queue: 'q0' })).done).toBe(0);
    expect((await store.retryAll({ queue: 'q0' }, { includeRetried: true })).done).toBe(
      Math.ceil(FAILURES / 3),
    );
  }, 120_000);

  it('clears one queue by filter in chunks, then the rest at once', async () => {
    await redis.config('RESETSTAT');
    const events: BulkProgress[] = [];
    const q1 = await store.clear({ queue: 'q1' }, { onProgress: (progress) => events.push(progress) });
    expect(q1.done).toBe(Math.floor(FAILURES / 3));
    expect(await callsOf(redis, 'evalsha')).toBeGreaterThanOrEqual(FAILURES / CHUNK);
    expect(events.length).toBeGreaterThanOrEqual(FAILURES / CHUNK);
    expect(await store.count()).toBe(FAILURES - q1.done);
    const rest = await store.clear();
    expect(rest.done).toBe(FAILURES - q1.done);
    expect(await redis.exists(`${namespace}:failed`)).toBe(0);
  }, 120_000);
});
