import type { Redis } from 'ioredis';
import type { Keys } from '../protocol/keys.js';
import { runScript } from '../redis/scripts.js';
import { parseInflight } from '../worker/fetch/inflight.js';
import type { BatchResult } from './promotion.js';
import { DELAYED_SCRIPTS } from './scripts.js';

export interface RetryPromotionContext {
  readonly redis: Redis;
  readonly keys: Keys;
}

/** One batch of the retries due by `nowMs`, earliest first, moved to their queues in one script call. */
export async function promoteRetryBatch(
  ctx: RetryPromotionContext,
  nowMs: number,
  limit: number,
): Promise<BatchResult> {
  const members = await ctx.redis.zrangebyscore(ctx.keys.retrySet, '-inf', nowMs, 'LIMIT', 0, limit);
  if (members.length === 0) return { moved: 0, seen: 0 };
  return { moved: await moveRetries(ctx, members, nowMs), seen: members.length };
}

/**
 * Moves these members of the retry set to the tail of their queues if they are still there and due by `nowMs`
 * (promote_retries.lua); returns how many moved.
 */
export async function moveRetries(
  ctx: RetryPromotionContext,
  members: readonly string[],
  nowMs: number,
): Promise<number> {
  const { keys } = ctx;
  const scriptKeys = [keys.retrySet, keys.queues];
  const args: Array<string | number> = [nowMs, keys.announce];
  for (const member of members) {
    const entry = parseInflight(member);
    if (!entry) continue;
    scriptKeys.push(keys.queue(entry.queue));
    args.push(member, entry.queue);
  }
  if (scriptKeys.length === 2) return 0;
  return runScript<number>(ctx.redis, DELAYED_SCRIPTS.promoteRetries, scriptKeys, args);
}
