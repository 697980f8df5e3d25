import type { Redis } from 'ioredis';
import { Keys } from '../../src/protocol/keys.js';
import { keysUnder } from '../harness/context.js';

/** Writes a delayed item exactly as resque-scheduler's delayed_push does (three separate commands). */
export async function rubyDelayedPush(
  redis: Redis,
  namespace: string,
  second: number,
  item: string,
): Promise<void> {
  const keys = new Keys(namespace);
  await redis.rpush(keys.delayedAt(second), item);
  await redis.sadd(keys.timestamps(item), keys.delayedMember(second));
  await redis.zadd(keys.delayedSchedule, second, second);
}

/**
 * Moves one due second as resque-scheduler 5.0's master does (§ handle_delayed_items): read the items, SREM each
 * one's timestamps entry, push `{"class","args"}` to its queue, trim the list, then clean up the empty second.
 */
export async function rubyMasterMove(redis: Redis, namespace: string, second: number): Promise<number> {
  const keys = new Keys(namespace);
  const items = await redis.lrange(keys.delayedAt(second), 0, 99);
  const multi = redis.multi();
  for (const item of items) {
    const parsed = JSON.parse(item) as { class: string; args: unknown[]; queue: string };
    multi.srem(keys.timestamps(item), keys.delayedMember(second));
    multi.sadd(keys.queues, parsed.queue);
    multi.rpush(keys.queue(parsed.queue), JSON.stringify({ class: parsed.class, args: parsed.args }));
  }
  multi.ltrim(keys.delayedAt(second), items.length, -1);
  await multi.exec();
  if ((await redis.llen(keys.delayedAt(second))) === 0) {
    await redis.multi().del(keys.delayedAt(second)).zrem(keys.delayedSchedule, second).exec();
  }
  return items.length;
}

/** Every key under the namespace but the filing-sequence counter, which outlives the delayed jobs it numbered. */
/**
 * The keys under a namespace, less the ones a queue push writes beside the queue (index, wake lists) and the lease a
 * running worker's promoter holds.
 */
export async function keysLeft(redis: Redis, namespace: string): Promise<string[]> {
  const keys = new Keys(namespace);
  const wakeLists = keys.queueWake('');
  return (await keysUnder(redis, namespace)).filter(
    (key) =>
      key !== keys.delayedSequence &&
      key !== keys.nonEmptyQueues &&
      key !== keys.promoterLease &&
      !key.startsWith(wakeLists),
  );
}
