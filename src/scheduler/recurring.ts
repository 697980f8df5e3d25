import type { Redis } from 'ioredis';
import { newJobId } from '../client/job-id.js';
import type { LimitKeys } from '../jobs/limit-keys.js';
import type { JsonValue } from '../protocol/json.js';
import type { Keys } from '../protocol/keys.js';
import { encodePayload } from '../protocol/payload.js';
import { parseResqueTime, rubyTimeToS } from '../protocol/time.js';
import { runScript } from '../redis/scripts.js';
import type { RecurringSchedule } from './schedule-config.js';
import { DELAYED_SCRIPTS } from './scripts.js';
import { ticksBetween } from './timing.js';

/** How long a tick's claim outlives the tick: far longer than two masters can overlap or clocks can disagree. */
export const TICK_CLAIM_TTL_MS = 3_600_000;

export interface TickContext {
  readonly redis: Redis;
  readonly keys: Keys;
  readonly strictPayloads: boolean;
  /** A tick this late (ms) under the `skip` policy counts as missed. */
  readonly onTimeMs: number;
  readonly beforeEnqueue?: (className: string, args: unknown[]) => Promise<void>;
  /** The keys and tenant of a tick's job, when this process knows its class (jobs/limit-keys.ts). */
  readonly limitKeys?: ((className: string, args: JsonValue[]) => LimitKeys) | undefined;
}

export interface FiredTick {
  name: string;
  tickMs: number;
  /** False when another scheduler had already fired this tick. */
  enqueued: boolean;
}

/**
 * The ticks of one schedule to fire at `nowMs`, by its missed-run policy: `skip` fires the latest tick only if it is
 * on time (Ruby's behaviour), `once` fires the latest whatever its age, `all` fires up to `missedLimit` of the missed
 * ticks, oldest first. The first time a schedule is seen it starts from now (plus `first_in`): no catch-up from the
 * past. A tick at or before the schedule's `delayed:last_enqueued_at` (a Ruby master's last run, or "run now") is not
 * missed.
 */
export async function fireDueTicks(
  ctx: TickContext,
  schedule: RecurringSchedule,
  nowMs: number,
): Promise<FiredTick[]> {
  const { redis, keys } = ctx;
  const [stored, rubyLast] = await Promise.all([
    redis.hget(keys.scheduleLastTick, schedule.name),
    redis.hget(keys.lastEnqueuedAt, schedule.name),
  ]);
  if (stored === null) {
    await redis.hsetnx(keys.scheduleLastTick, schedule.name, nowMs + schedule.firstInMs);
    return [];
  }
  // A Ruby master records only when it enqueued: nothing up to then counts as missed.
  const lastMs = Math.max(Number(stored), parseResqueTime(rubyLast)?.getTime() ?? 0);
  const limit = schedule.missed === 'all' ? schedule.missedLimit : 1;
  const ticks = ticksBetween(schedule.timing, lastMs, nowMs, limit);
  if (ticks.length === 0) return [];
  const latest = ticks.at(-1)!;
  if (schedule.missed === 'skip' && nowMs - latest > ctx.onTimeMs) {
    await redis.hset(keys.scheduleLastTick, schedule.name, latest);
    return [];
  }
  const fired: FiredTick[] = [];
  for (const tickMs of ticks) fired.push(await fireTick(ctx, schedule, tickMs, nowMs));
  return fired;
}

/** Enqueues one tick unless it was already fired (fire_tick.lua); runs before_delayed_enqueue hooks first. */
export async function fireTick(
  ctx: TickContext,
  schedule: RecurringSchedule,
  tickMs: number,
  nowMs: number,
): Promise<FiredTick> {
  const { redis, keys } = ctx;
  // Worked out before any hook runs: a key function that throws fails the tick before anything is written.
  const limitKeys = ctx.limitKeys?.(schedule.className, schedule.args) ?? {};
  await ctx.beforeEnqueue?.(schedule.className, schedule.args);
  const meta = ctx.strictPayloads ? undefined : { id: newJobId(), enqueuedAt: nowMs / 1000, ...limitKeys };
  const enqueued = await runScript<number>(
    redis,
    DELAYED_SCRIPTS.fireTick,
    [
      keys.scheduleTick(`${schedule.name}:${tickMs}`),
      keys.queues,
      keys.queue(schedule.queue),
      keys.lastEnqueuedAt,
      keys.scheduleLastTick,
    ],
    [
      TICK_CLAIM_TTL_MS,
      schedule.queue,
      encodePayload(schedule.className, schedule.args, meta),
      schedule.name,
      rubyTimeToS(new Date(nowMs)),
      tickMs,
      keys.announce,
      limitKeys.tenant ?? '',
    ],
  );
  return { name: schedule.name, tickMs, enqueued: enqueued === 1 };
}
