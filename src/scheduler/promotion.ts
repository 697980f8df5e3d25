import type { Redis } from 'ioredis';
import { newJobId } from '../client/job-id.js';
import type { Keys } from '../protocol/keys.js';
import { runScript } from '../redis/scripts.js';
import { copiesField, decodeDelayedItem, payloadFromItem } from './delayed-item.js';
import { decodeRecord } from './delayed-record.js';
import { DELAYED_SCRIPTS } from './scripts.js';

/** What a promotion batch needs. `beforeEnqueue` runs resque-scheduler's before_delayed_enqueue hooks. */
export interface PromotionContext {
  readonly redis: Redis;
  readonly keys: Keys;
  /** Push exactly `{"class","args"}` for items written by Ruby (resque-ts's own keep their record's choice). */
  readonly strictPayloads: boolean;
  readonly beforeEnqueue?: (className: string, args: unknown[]) => Promise<void>;
}

export interface BatchResult {
  /** Jobs now on their queues. */
  moved: number;
  /** Entries looked at: fewer than the limit means nothing more is due. */
  seen: number;
}

/**
 * One batch of resque-ts's own delayed jobs whose millisecond has come: read their records, then move them in one
 * script call (promote_own.lua), which checks each is still due and not taken by another promoter.
 */
export async function promoteOwnBatch(
  ctx: PromotionContext,
  nowMs: number,
  limit: number,
): Promise<BatchResult> {
  const { redis, keys } = ctx;
  const ids = await redis.zrangebyscore(keys.delayedDue, '-inf', nowMs, 'LIMIT', 0, limit);
  if (ids.length === 0) return { moved: 0, seen: 0 };
  const texts = await redis.hmget(keys.delayedRecords, ...ids);
  const scriptKeys = [
    keys.delayedSchedule,
    keys.delayedDue,
    keys.delayedRecords,
    keys.delayedCopies,
    keys.queues,
  ];
  const args: Array<string | number> = [nowMs, keys.wakeChannel];
  const orphans: string[] = [];
  for (const [i, id] of ids.entries()) {
    const record = decodeRecord(texts[i]);
    if (!record) {
      orphans.push(id);
      continue;
    }
    const decoded = decodeDelayedItem(record.item);
    await ctx.beforeEnqueue?.(decoded.className, decoded.args);
    const meta = record.withMetadata ? { id: record.id, enqueuedAt: nowMs / 1000 } : undefined;
    scriptKeys.push(keys.delayedAt(record.second), keys.timestamps(record.item), keys.queue(record.queue));
    args.push(
      id,
      record.second,
      keys.delayedMember(record.second),
      record.item,
      record.queue,
      payloadFromItem(record.item, { ...decoded, queue: record.queue }, meta),
      copiesField(record.second, record.item),
    );
  }
  // An index entry without a readable record cannot be moved; its item, if any, goes with its whole second.
  if (orphans.length > 0) await redis.zrem(keys.delayedDue, ...orphans);
  if (scriptKeys.length === 5) return { moved: 0, seen: ids.length };
  const [moved] = await runScript<[number, number]>(redis, DELAYED_SCRIPTS.promoteOwn, scriptKeys, args);
  return { moved, seen: ids.length };
}

/**
 * One batch from the head of the earliest second that has wholly come (items written by Ruby, or left by a
 * resque-ts job whose record is gone): read the head, then move exactly those items (promote_second.lua).
 */
export async function promoteSecondBatch(
  ctx: PromotionContext,
  nowMs: number,
  limit: number,
): Promise<BatchResult> {
  const { redis, keys } = ctx;
  const [first] = await redis.zrangebyscore(
    keys.delayedSchedule,
    '-inf',
    Math.floor(nowMs / 1000),
    'LIMIT',
    0,
    1,
  );
  if (first === undefined) return { moved: 0, seen: 0 };
  return moveHead(ctx, Number(first), limit, nowMs);
}

/**
 * Moves up to `limit` items from the head of `delayed:<second>` to their queues now, whatever their due time (also
 * the dashboard's and CLI's "queue now"). Returns `seen: 0` when the second had no items left.
 */
export async function moveHead(
  ctx: PromotionContext,
  second: number,
  limit: number,
  nowMs: number,
): Promise<BatchResult> {
  const { redis, keys } = ctx;
  for (;;) {
    const head = await redis.lrange(keys.delayedAt(second), 0, limit - 1);
    const scriptKeys = [keys.delayedSchedule, keys.delayedAt(second), keys.queues, keys.delayedUnpromotable];
    const args: Array<string | number> = [second, keys.delayedMember(second), keys.wakeChannel];
    for (const item of head) {
      const target = await targetOf(ctx, item, second, nowMs);
      scriptKeys.push(
        keys.timestamps(item),
        target.queue ? keys.queue(target.queue) : keys.delayedUnpromotable,
      );
      args.push(item, target.queue ?? '', target.payload);
    }
    const moved = await runScript<number>(redis, DELAYED_SCRIPTS.promoteSecond, scriptKeys, args);
    // -1: the head changed between the read and the move (another promoter, a removal): read it again.
    if (moved >= 0) return { moved, seen: head.length };
  }
}

async function targetOf(
  ctx: PromotionContext,
  item: string,
  second: number,
  nowMs: number,
): Promise<{ queue: string | undefined; payload: string }> {
  try {
    const decoded = decodeDelayedItem(item);
    if (decoded.queue === undefined) return setAside(item, second, 'the item names no queue');
    await ctx.beforeEnqueue?.(decoded.className, decoded.args);
    const meta = ctx.strictPayloads ? undefined : { id: newJobId(), enqueuedAt: nowMs / 1000 };
    return { queue: decoded.queue, payload: payloadFromItem(item, decoded, meta) };
  } catch (error) {
    return setAside(item, second, (error as Error).message);
  }
}

function setAside(item: string, second: number, reason: string): { queue: undefined; payload: string } {
  return { queue: undefined, payload: JSON.stringify({ item, second, reason }) };
}
