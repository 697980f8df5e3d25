// The plain enqueue (client/plain-enqueue.ts): a job definition with nothing beyond an id and an enqueue time is
// pushed from what was worked out once per client, definition and queue, by enqueue.lua with the namespace's announce
// spec in its text. It must push the bytes the general path pushes, announce an empty queue as before (whatever the
// namespace's characters), refuse bad input with nothing written however often the definition was used, and leave
// definitions that need more to the general path.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  defineJob,
  InvalidArgumentsError,
  InvalidQueueNameError,
  type JsonValue,
  Resque,
  withRetry,
} from '../../src/index.js';
import { Keys } from '../../src/protocol/keys.js';
import { encodePayload } from '../../src/protocol/payload.js';
import { keysUnder, rawRedis, sharedRedisUrl, uniqueNamespace } from '../harness/context.js';
import { type RedisServer, removeDir, startRedis } from '../harness/redis-server.js';

const Plain = defineJob({
  className: 'App::Plain',
  queue: 'plain',
  perform: async (_ctx, ..._args: JsonValue[]) => {},
});

describe('plain enqueue', () => {
  const redis = rawRedis();
  let namespace: string;
  let keys: Keys;
  let resque: Resque;

  beforeAll(() => {
    namespace = uniqueNamespace('plain');
    keys = new Keys(namespace);
    resque = new Resque({ redis: sharedRedisUrl(), namespace });
  });
  afterAll(async () => {
    await resque.close();
    redis.disconnect();
  });

  it('pushes the bytes the general encoder writes, queue after queue', async () => {
    const argsList: JsonValue[][] = [[], [1, 'a'], [{ b: [true, null] }, -0.5, 'é"\\\n'], [12345678901234]];
    for (const queue of ['plain', 'other']) {
      for (const args of argsList) {
        const result = await resque.enqueueTo(queue, Plain, ...args);
        const raw = await redis.rpop(keys.queue(queue));
        const decoded = JSON.parse(raw ?? 'null') as { id: string; enqueued_at: number };
        expect(result).toEqual({ queue, id: decoded.id });
        expect(raw).toBe(
          encodePayload('App::Plain', args, { id: decoded.id, enqueuedAt: decoded.enqueued_at }),
        );
      }
    }
    expect((await redis.smembers(keys.queues)).sort()).toEqual(['other', 'plain']);
  });

  it('refuses bad arguments and queue names with nothing written, before and after a successful enqueue', async () => {
    const cyclic: Record<string, JsonValue> = {};
    cyclic['self'] = cyclic;
    const fresh = uniqueNamespace('plain-bad');
    const client = new Resque({ redis: sharedRedisUrl(), namespace: fresh });
    try {
      for (let round = 0; round < 2; round++) {
        await expect(client.enqueue(Plain, 1, undefined as unknown as JsonValue)).rejects.toThrow(
          InvalidArgumentsError,
        );
        await expect(client.enqueue(Plain, Number.NaN)).rejects.toThrow(/args\[0\] is NaN/);
        await expect(client.enqueue(Plain, { when: new Date() } as unknown as JsonValue)).rejects.toThrow(
          /args\[0\]\.when is a Date/,
        );
        await expect(client.enqueue(Plain, cyclic)).rejects.toThrow(/cycle/);
        await expect(client.enqueueTo('bad:queue', Plain, 1)).rejects.toThrow(InvalidQueueNameError);
        await expect(client.enqueueTo('bad:queue', Plain, 1)).rejects.toThrow(InvalidQueueNameError);
        expect(await keysUnder(redis, fresh)).toEqual(
          round === 0 ? [] : [`${fresh}:queue:plain`, `${fresh}:queues`],
        );
        if (round === 0) {
          await client.enqueue(Plain, 1);
          await redis.del(new Keys(fresh).nonEmptyQueues, new Keys(fresh).queueWake('plain'));
        }
      }
      expect(await client.size('plain')).toBe(1);
    } finally {
      await client.close();
    }
  });

  it('leaves a definition with more to write to the general path', async () => {
    await resque.enqueue(withRetry(Plain, { attempts: 3 }), 7);
    const raw = await redis.rpop(keys.queue('plain'));
    expect(raw).toMatch(
      /^\{"class":"App::Plain","args":\[7\],"id":"[0-9a-f]{24}","enqueued_at":[\d.]+,"retry":/,
    );
  });
});

describe('plain enqueue, announcing', () => {
  let server: RedisServer;

  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    await server.stop();
    removeDir(server.dir);
  });

  it('announces an empty queue under a namespace with quotes, backslashes and non-ASCII characters', async () => {
    const namespace = `q"\\é€\u0001-${randomBytes(3).toString('hex')}`;
    const keys = new Keys(namespace);
    const resque = new Resque({ redis: server.url, namespace });
    const redis = rawRedis(server.url);
    try {
      await resque.enqueue(Plain, 1);
      await resque.enqueue(Plain, 2);
      expect(await redis.zrange(keys.nonEmptyQueues, 0, -1)).toEqual(['plain']);
      expect(await redis.lrange(keys.queueWake('plain'), 0, -1)).toEqual(['plain']);
      expect(await redis.llen(keys.queue('plain'))).toBe(2);
    } finally {
      await resque.close();
      redis.disconnect();
    }
  });

  it('sends the script again to a Redis that lost it', async () => {
    const namespace = uniqueNamespace('plain-noscript');
    const resque = new Resque({ redis: server.url, namespace });
    const redis = rawRedis(server.url);
    try {
      await resque.enqueue(Plain, 1);
      await redis.script('FLUSH');
      await resque.enqueue(Plain, 2);
      expect(await resque.size('plain')).toBe(2);
    } finally {
      await resque.close();
      redis.disconnect();
    }
  });
});
