import type { Redis } from 'ioredis';
import type { Keys } from '../protocol/keys.js';
import { redisTime } from '../redis/replies.js';

/** Delayed jobs this late are overdue: promoters (every worker, the scheduler) move them within a second or two. */
export const OVERDUE_AFTER_MS = 60_000;

/** Overdue seconds whose jobs are counted (one LLEN each); beyond them the count is a lower bound. */
const COUNTED_SECONDS = 100;

export interface DelayedBacklog {
  /** The clock the figures were taken by (epoch ms): Redis `TIME` unless given. */
  nowMs: number;
  /** The earliest due time of a delayed job (epoch ms), if any. */
  earliestDueMs: number | undefined;
  /** How late that job is (ms; 0 when not yet due). */
  lateMs: number;
  /** True when it is later than OVERDUE_AFTER_MS: no process is promoting delayed jobs. */
  overdue: boolean;
  /** Seconds (`delayed:<second>` lists) holding overdue jobs; 0 unless overdue. */
  overdueSeconds: number;
  /** Jobs in the first COUNTED_SECONDS of those seconds; 0 unless overdue. */
  overdueJobs: number;
  /** False when more seconds are overdue than were counted: `overdueJobs` is then a lower bound. */
  overdueJobsExact: boolean;
}

/**
 * Is anyone promoting? Two O(1) reads (the earliest entry of resque-ts's index and of Ruby's schedule); when the
 * earliest job is overdue, a count of the overdue jobs: one ZCOUNT and an LLEN for each of the first 100 overdue
 * seconds. `nowMs` is for tests; production reads Redis `TIME`, the clock promoters decide by.
 */
export async function delayedBacklog(redis: Redis, keys: Keys, nowMs?: number): Promise<DelayedBacklog> {
  const [own, second, now] = await Promise.all([
    redis.zrange(keys.delayedDue, 0, 0, 'WITHSCORES'),
    redis.zrange(keys.delayedSchedule, 0, 0),
    nowMs ?? redisTime(redis).then((date) => date.getTime()),
  ]);
  const candidates = [own[1], second[0] === undefined ? undefined : Number(second[0]) * 1000]
    .filter((value) => value !== undefined)
    .map(Number);
  const earliestDueMs = candidates.length === 0 ? undefined : Math.min(...candidates);
  const lateMs = earliestDueMs === undefined ? 0 : Math.max(0, now - earliestDueMs);
  const overdue = lateMs > OVERDUE_AFTER_MS;
  const backlog = { nowMs: now, earliestDueMs, lateMs, overdue };
  if (!overdue) return { ...backlog, overdueSeconds: 0, overdueJobs: 0, overdueJobsExact: true };
  return { ...backlog, ...(await countOverdue(redis, keys, now)) };
}

/**
 * The jobs of the seconds whose earliest possible due time is over the threshold: a second S holds jobs due in
 * (S - 1, S], so the earliest overdue job's second is always among them.
 */
async function countOverdue(
  redis: Redis,
  keys: Keys,
  nowMs: number,
): Promise<Pick<DelayedBacklog, 'overdueSeconds' | 'overdueJobs' | 'overdueJobsExact'>> {
  const last = Math.ceil((nowMs - OVERDUE_AFTER_MS) / 1000);
  const [overdueSeconds, seconds] = await Promise.all([
    redis.zcount(keys.delayedSchedule, '-inf', last),
    redis.zrangebyscore(keys.delayedSchedule, '-inf', last, 'LIMIT', 0, COUNTED_SECONDS),
  ]);
  const sizes = await Promise.all(seconds.map((s) => redis.llen(keys.delayedAt(Number(s)))));
  return {
    overdueSeconds,
    overdueJobs: sizes.reduce((sum, size) => sum + size, 0),
    overdueJobsExact: overdueSeconds <= COUNTED_SECONDS,
  };
}

/** `45 s`, `12 min`, `5 h`, `3 days`: how late, in the unit an operator reads at a glance. */
export function lateness(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 1) return `${Math.floor(ms / 1000)} s`;
  if (minutes < 120) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return hours < 48 ? `${hours} h` : `${Math.floor(hours / 24)} days`;
}

/** What to run so that delayed jobs move again. */
export const OVERDUE_HINT =
  'run `resque work` (it promotes delayed jobs unless promoteDelayed is off) or `resque scheduler`';

/** The warning `resque info` and the dashboard show when delayed jobs are overdue. */
export function overdueWarning(backlog: DelayedBacklog): string | undefined {
  if (!backlog.overdue || backlog.earliestDueMs === undefined) return undefined;
  const jobs = backlog.overdueJobs;
  const counted = `${backlog.overdueJobsExact ? '' : 'at least '}${jobs.toLocaleString('en-US')}`;
  return (
    `${counted} delayed job${jobs === 1 && backlog.overdueJobsExact ? ' is' : 's are'} overdue: the earliest was due ` +
    `${new Date(backlog.earliestDueMs).toISOString()} (${lateness(backlog.lateMs)} ago) and no process is promoting ` +
    `delayed jobs; ${OVERDUE_HINT}`
  );
}
