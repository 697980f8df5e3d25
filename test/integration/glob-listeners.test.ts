import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Resque } from '../../src/index.js';
import { Keys } from '../../src/protocol/keys.js';
import {
  GLOB_LISTENER_TTL_MS,
  pruneGlobListeners,
  registerGlobListener,
} from '../../src/worker/glob-listeners.js';
import { QueuePatterns } from '../../src/worker/queue-patterns.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace } from '../harness/context.js';

// Glob listeners (`ts:wake-globs`) that no worker registers any more are dropped with their wake lists, so that
// announcements stop testing them; live ones, registered again every minute, stay. Time is injected.
let redis: Redis;
beforeAll(() => {
  redis = rawRedis();
});
afterAll(async () => {
  await redis.quit();
});

const T0 = 1_800_000_000_000;

function listenerOf(list: string[]) {
  const listener = new QueuePatterns(list).globListener;
  if (!listener) throw new Error(`no glob in ${list}`);
  return listener;
}

describe('glob listener pruning', () => {
  it('drops a listener not registered for the whole TTL, with its wake list, and keeps one registered since', async () => {
    const keys = new Keys(uniqueNamespace('glob-prune'));
    const gone = listenerOf(['mail_*']);
    const live = listenerOf(['*']);
    await registerGlobListener(redis, keys, gone, T0);
    await registerGlobListener(redis, keys, live, T0);
    const resque = new Resque({ redis: sharedRedisUrl(), namespace: keys.namespace });
    try {
      await resque.enqueueTo('mail_out', 'Note', 1);
      expect(await redis.llen(keys.globWake(gone.name))).toBe(1);

      await registerGlobListener(redis, keys, live, T0 + GLOB_LISTENER_TTL_MS - 1000);
      expect(await pruneGlobListeners(redis, keys, T0 + GLOB_LISTENER_TTL_MS - 1)).toEqual([]);
      expect(await pruneGlobListeners(redis, keys, T0 + GLOB_LISTENER_TTL_MS + 1)).toEqual([gone.name]);
      expect(await redis.hkeys(keys.wakeGlobs)).toEqual([live.name]);
      expect(await redis.zrange(keys.wakeGlobsSeen, 0, -1)).toEqual([live.name]);
      expect(await redis.exists(keys.globWake(gone.name))).toBe(0);

      // A later push to a queue only the dropped listener covered leaves no token for it.
      await resque.enqueueTo('mail_in', 'Note', 1);
      expect(await redis.exists(keys.globWake(gone.name))).toBe(0);
      expect(await redis.llen(keys.globWake(live.name))).toBe(1);
    } finally {
      await resque.close();
    }
  });

  it('gives a listener written without a registration time the whole TTL from the first pass that sees it', async () => {
    const keys = new Keys(uniqueNamespace('glob-untimed'));
    const old = listenerOf(['report_*']);
    await redis.hset(keys.wakeGlobs, old.name, old.rules);
    expect(await pruneGlobListeners(redis, keys, T0)).toEqual([]);
    expect(Number(await redis.zscore(keys.wakeGlobsSeen, old.name))).toBe(T0);
    expect(await pruneGlobListeners(redis, keys, T0 + GLOB_LISTENER_TTL_MS + 1)).toEqual([old.name]);
    expect(await redis.exists(keys.wakeGlobs)).toBe(0);
  });

  it('registers on the Redis clock when no time is given', async () => {
    const keys = new Keys(uniqueNamespace('glob-clock'));
    const [seconds] = await redis.time();
    await registerGlobListener(redis, keys, listenerOf(['*']));
    const seen = Number(await redis.zscore(keys.wakeGlobsSeen, '*'));
    expect(Math.abs(seen - Number(seconds) * 1000)).toBeLessThan(60_000);
  });
});
