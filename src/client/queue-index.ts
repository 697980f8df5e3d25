import type { Redis } from 'ioredis';
import type { Keys } from '../protocol/keys.js';
import { runScript, SCRIPTS } from '../redis/scripts.js';

const PAGE = 500;

/**
 * Sets the named queues' entries in the non-empty index (`ts:queues:non-empty`) from their lists, atomically per
 * call: after jobs are removed from a queue, and for the pages of a repair pass.
 */
export async function syncQueueIndex(
  redis: Redis,
  keys: Keys,
  queues: readonly string[],
): Promise<{ added: number; removed: number }> {
  let added = 0;
  let removed = 0;
  for (let i = 0; i < queues.length; i += PAGE) {
    const [a, r] = await runScript<[number, number]>(
      redis,
      SCRIPTS.indexQueues,
      [keys.nonEmptyQueues],
      [keys.announce, keys.queuePrefix, ...queues.slice(i, i + PAGE)],
    );
    added += a;
    removed += r;
  }
  return { added, removed };
}

/**
 * One repair pass over every known queue and every indexed one: finds queues other clients (Ruby, plain RPUSH)
 * filled or emptied. Reads in pages, so Redis is never held for long whatever the number of queues.
 */
export async function repairQueueIndex(
  redis: Redis,
  keys: Keys,
): Promise<{ added: number; removed: number }> {
  const total = { added: 0, removed: 0 };
  const add = (counts: { added: number; removed: number }) => {
    total.added += counts.added;
    total.removed += counts.removed;
  };
  let cursor = '0';
  do {
    const [next, names] = await redis.sscan(keys.queues, cursor, 'COUNT', PAGE);
    cursor = next;
    if (names.length > 0) add(await syncQueueIndex(redis, keys, names));
  } while (cursor !== '0');
  let after = '-';
  for (;;) {
    const names = await redis.zrangebylex(keys.nonEmptyQueues, after, '+', 'LIMIT', 0, PAGE);
    if (names.length === 0) break;
    add(await syncQueueIndex(redis, keys, names));
    if (names.length < PAGE) break;
    after = `(${names[names.length - 1]}`;
  }
  return total;
}
