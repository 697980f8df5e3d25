// A worker's queue list lives in Redis (`ts:queue-list:<digest>`): reserve.lua stores it from the first call that
// sends it, later calls carry the digest only, and a list that has gone (expiry, FLUSHALL, a restart without
// persistence) is answered with nothing done and sent again, so no acknowledgement is lost or counted twice.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Resque } from '../../src/index.js';
import { createLogger } from '../../src/logging/logger.js';
import { Keys } from '../../src/protocol/keys.js';
import { Fetcher } from '../../src/worker/fetch/fetcher.js';
import { QueuePatterns } from '../../src/worker/queue-patterns.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace } from '../harness/context.js';
import { startRedis } from '../harness/redis-server.js';

let redis: Redis;
beforeAll(() => {
  redis = rawRedis();
});
afterAll(async () => {
  await redis.quit();
});

const config = { failureBackend: 'redis' as const, release: 'test' };
const item = (n: number) => `{"class":"A","args":[${n}]}`;

/** `connection` with the argument count of every EVALSHA it sends recorded (the script's ARGV plus KEYS). */
function counting(connection: Redis): { connection: Redis; sizes: number[] } {
  const sizes: number[] = [];
  const wrapped = Object.create(connection) as Redis;
  wrapped.evalsha = ((...args: unknown[]) => {
    sizes.push(args.length);
    return (connection.evalsha as (...a: unknown[]) => Promise<unknown>)(...args);
  }) as Redis['evalsha'];
  return { connection: wrapped, sizes };
}

/** Jobs pushed as a client that announces its queue would leave them: on the list and in the non-empty index. */
async function push(connection: Redis, keys: Keys, queue: string, ...items: string[]): Promise<void> {
  await connection
    .multi()
    .rpush(keys.queue(queue), ...items)
    .zadd(keys.nonEmptyQueues, 0, queue)
    .exec();
}

function queueNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `q${String(i).padStart(4, '0')}`);
}

describe('the stored queue list', () => {
  it('is sent with the first call only; later calls name it by digest', async () => {
    const keys = new Keys(uniqueNamespace('list-store'));
    const names = queueNames(100);
    const patterns = new QueuePatterns(names);
    const { connection, sizes } = counting(redis);
    const fetcher = new Fetcher(connection, keys, patterns, config, createLogger('silent'), () => {});
    await push(redis, keys, 'q0099', item(1), item(2));
    const first = await fetcher.reserve(['s1']);
    expect(first.reservations.map((r) => r.queue)).toEqual(['q0099']);
    const listKey = keys.queueList(patterns.storedList.digest);
    expect(await redis.lrange(listKey, 0, -1)).toEqual(patterns.storedList.values.map(String));
    expect(await redis.pttl(listKey)).toBeGreaterThan(0);
    await first.reservations[0]!.ack({ kind: 'performed' });
    const second = await fetcher.reserve(['s1']);
    expect(second.reservations.map((r) => r.raw)).toEqual([item(2)]);
    // The first call carried the 301 values of the list; the second only the digest's key.
    expect(sizes[0]! - sizes[1]!).toBe(patterns.storedList.values.length);
  });

  it('is sent again when it has gone, and the call it was missing from does nothing until then', async () => {
    const keys = new Keys(uniqueNamespace('list-gone'));
    const patterns = new QueuePatterns(['a', 'b', 'c', 'd', 'e']);
    const { connection, sizes } = counting(redis);
    const fetcher = new Fetcher(connection, keys, patterns, config, createLogger('silent'), () => {});
    await push(redis, keys, 'c', item(1), item(2));
    const [job] = (await fetcher.reserve(['s1'])).reservations;
    await job!.ack({ kind: 'performed' });
    // As if it had expired: the acknowledgement waiting in the next call must apply exactly once.
    await redis.del(keys.queueList(patterns.storedList.digest));
    const next = await fetcher.reserve(['s1']);
    expect(next.reservations.map((r) => r.raw)).toEqual([item(2)]);
    expect(await redis.get(keys.processed)).toBe('1');
    expect(sizes).toHaveLength(3);
    expect(sizes[2]! - sizes[1]!).toBe(patterns.storedList.values.length);
    expect(await redis.exists(keys.queueList(patterns.storedList.digest))).toBe(1);
  });

  it('survives FLUSHALL and a restart of Redis without persistence', async () => {
    const server = await startRedis();
    const direct = new Redis(server.url, { maxRetriesPerRequest: null });
    try {
      const keys = new Keys(uniqueNamespace('list-restart'));
      const fetcher = new Fetcher(
        direct,
        keys,
        new QueuePatterns(queueNames(10)),
        config,
        createLogger('silent'),
        () => {},
      );
      await push(direct, keys, 'q0003', item(1));
      expect((await fetcher.reserve(['s1'])).reservations).toHaveLength(1);
      await direct.flushall();
      await push(direct, keys, 'q0005', item(2));
      expect((await fetcher.reserve(['s2'])).reservations.map((r) => r.queue)).toEqual(['q0005']);
      await server.stop();
      await server.restart();
      await push(direct, keys, 'q0007', item(3));
      expect((await fetcher.reserve(['s3'])).reservations.map((r) => r.queue)).toEqual(['q0007']);
    } finally {
      direct.disconnect();
      await server.stop();
    }
  });

  it('keeps the list order across pages of entries, with globs and exclusions among them', async () => {
    const keys = new Keys(uniqueNamespace('list-pages'));
    const named = queueNames(150);
    // Long enough for several pages and for the list to be stored in more than one push.
    const list = [...named.slice(0, 70), 'm*', '!m2', ...named.slice(70), 'z1'];
    const patterns = new QueuePatterns([...list, ...queueNames(400).slice(150)]);
    const filled = ['q0149', 'z1', 'm3', 'q0000', 'm2', 'm1', 'q0071', 'q0069', 'q0299'];
    const client = new Resque({ redis: sharedRedisUrl(), namespace: keys.namespace });
    for (const queue of filled) await client.enqueueTo(queue, 'A', queue);
    await client.close();
    const fetcher = new Fetcher(redis, keys, patterns, config, createLogger('silent'), () => {});
    const order: string[] = [];
    for (;;) {
      const [reservation] = (await fetcher.reserve(['s1'])).reservations;
      if (!reservation) break;
      order.push(reservation.queue);
      await reservation.ack({ kind: 'performed' });
    }
    expect(order).toEqual(['q0000', 'q0069', 'm1', 'm3', 'q0071', 'q0149', 'z1', 'q0299']);
  });
});
