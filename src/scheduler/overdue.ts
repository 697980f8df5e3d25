import type { Redis } from 'ioredis';
import type { Keys } from '../protocol/keys.js';
import { redisTime } from '../redis/replies.js';

/** Delayed jobs this late are overdue: promoters (every worker, the scheduler) move them within a second or two. */
export const OVERDUE_AFTER_MS = 60_000;

export interface DelayedBacklog {
  /** The earliest due time of a delayed job (epoch ms), if any. */
  earliestDueMs: number | undefined;
  /** How late that job is (ms; 0 when not yet due). */
  lateMs: number;
  /** True when it is later than OVERDUE_AFTER_MS: no process is promoting delayed jobs. */
  overdue: boolean;
}

/** Is anyone promoting? Two O(1) reads: the earliest entry of resque-ts's index and of Ruby's schedule. */
export async function delayedBacklog(redis: Redis, keys: Keys): Promise<DelayedBacklog> {
  const [own, second, now] = await Promise.all([
    redis.zrange(keys.delayedDue, 0, 0, 'WITHSCORES'),
    redis.zrange(keys.delayedSchedule, 0, 0),
    redisTime(redis),
  ]);
  const candidates = [own[1], second[0] === undefined ? undefined : Number(second[0]) * 1000]
    .filter((value) => value !== undefined)
    .map(Number);
  const earliestDueMs = candidates.length === 0 ? undefined : Math.min(...candidates);
  const lateMs = earliestDueMs === undefined ? 0 : Math.max(0, now.getTime() - earliestDueMs);
  return { earliestDueMs, lateMs, overdue: lateMs > OVERDUE_AFTER_MS };
}

/** The warning `resque info` and the dashboard show when delayed jobs are overdue. */
export function overdueWarning(backlog: DelayedBacklog): string | undefined {
  if (!backlog.overdue || backlog.earliestDueMs === undefined) return undefined;
  const minutes = Math.round(backlog.lateMs / 60_000);
  return (
    `delayed jobs are overdue: the earliest was due ${new Date(backlog.earliestDueMs).toISOString()} ` +
    `(${minutes < 1 ? 'over a minute' : `${minutes} min`} ago) and no process is promoting them; run \`resque work\` ` +
    '(promoteDelayed on) or `resque scheduler`'
  );
}
