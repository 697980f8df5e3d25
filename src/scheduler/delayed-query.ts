import type { ClientContext } from '../client/context.js';
import { decodeDelayedItem } from './delayed-item.js';

/** Seconds read per step when walking the whole schedule, and items per LRANGE: no call blocks Redis for long. */
export const WALK_CHUNK = 100;

export interface DelayedItemView {
  /** The item's exact bytes in `delayed:<second>`. */
  raw: string;
  className: string | undefined;
  args: unknown[] | undefined;
  queue: string | undefined;
  /** Why the item could not be decoded, when it could not. */
  malformed?: string;
}

export function viewItem(raw: string): DelayedItemView {
  try {
    const decoded = decodeDelayedItem(raw);
    return { raw, className: decoded.className, args: decoded.args, queue: decoded.queue };
  } catch (error) {
    return {
      raw,
      className: undefined,
      args: undefined,
      queue: undefined,
      malformed: (error as Error).message,
    };
  }
}

/** The seconds a delayed item is filed under (Ruby's scheduled_at), ascending. */
export async function secondsOf(ctx: ClientContext, item: string): Promise<number[]> {
  const members = await ctx.redis.smembers(ctx.keys.timestamps(item));
  return members
    .map((member) => Number(member.slice(member.lastIndexOf(':') + 1)))
    .filter(Number.isFinite)
    .sort((a, b) => a - b);
}

/** `count` due seconds from position `start` (Ruby's delayed_queue_peek). */
export async function peekSeconds(ctx: ClientContext, start: number, count: number): Promise<number[]> {
  if (count <= 0) return [];
  const members = await ctx.redis.zrange(ctx.keys.delayedSchedule, start, start + count - 1);
  return members.map(Number);
}

/** The first second at or before `atSecond` (Ruby's next_delayed_timestamp), if any. */
export async function nextSecond(ctx: ClientContext, atSecond: number): Promise<number | undefined> {
  const [first] = await ctx.redis.zrangebyscore(ctx.keys.delayedSchedule, '-inf', atSecond, 'LIMIT', 0, 1);
  return first === undefined ? undefined : Number(first);
}

/** Items of one second, `count` from `start` (Ruby's delayed_timestamp_peek). */
export async function peekAt(
  ctx: ClientContext,
  second: number,
  start: number,
  count: number,
): Promise<DelayedItemView[]> {
  if (count <= 0) return [];
  const raws = await ctx.redis.lrange(ctx.keys.delayedAt(second), start, start + count - 1);
  return raws.map(viewItem);
}

/**
 * Every due second in order, WALK_CHUNK at a time by score, so seconds added or removed meanwhile neither repeat nor
 * shift the walk.
 */
export async function* eachSecond(ctx: ClientContext): AsyncGenerator<number> {
  let after = '-inf';
  for (;;) {
    const chunk = await ctx.redis.zrangebyscore(
      ctx.keys.delayedSchedule,
      after,
      '+inf',
      'LIMIT',
      0,
      WALK_CHUNK,
    );
    for (const member of chunk) yield Number(member);
    if (chunk.length < WALK_CHUNK) return;
    after = `(${chunk.at(-1)}`;
  }
}

/** Every item of one second, WALK_CHUNK per LRANGE. */
export async function* eachItemAt(ctx: ClientContext, second: number): AsyncGenerator<string> {
  for (let start = 0; ; start += WALK_CHUNK) {
    const raws = await ctx.redis.lrange(ctx.keys.delayedAt(second), start, start + WALK_CHUNK - 1);
    yield* raws;
    if (raws.length < WALK_CHUNK) return;
  }
}

/** Ruby's count_all_scheduled_jobs: the lengths of every second's list, one pipeline per chunk of seconds. */
export async function countAll(ctx: ClientContext): Promise<number> {
  let total = 0;
  let chunk: number[] = [];
  const flush = async () => {
    const pipeline = ctx.redis.pipeline();
    for (const second of chunk) pipeline.llen(ctx.keys.delayedAt(second));
    for (const [, length] of (await pipeline.exec()) ?? []) total += Number(length ?? 0);
    chunk = [];
  };
  for await (const second of eachSecond(ctx)) {
    chunk.push(second);
    if (chunk.length === WALK_CHUNK) await flush();
  }
  if (chunk.length > 0) await flush();
  return total;
}
