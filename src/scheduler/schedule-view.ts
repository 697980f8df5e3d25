import type { Redis } from 'ioredis';
import { enqueueScript } from '../client/enqueue-script.js';
import { newJobId } from '../client/job-id.js';
import type { JobRegistry } from '../jobs/registry.js';
import type { Keys } from '../protocol/keys.js';
import { encodePayload } from '../protocol/payload.js';
import { rubyTimeToS } from '../protocol/time.js';
import { redisTime } from '../redis/replies.js';
import { runScript } from '../redis/scripts.js';
import { parseSchedule } from './schedule-config.js';
import { ScheduleStore } from './schedule-store.js';
import { nextTick } from './timing.js';

export interface ScheduleRow {
  name: string;
  enabled: boolean;
  /** `cron: …` or `every: …`, as resque-scheduler's Schedule tab shows it. */
  interval: string;
  className: string | undefined;
  queue: string | undefined;
  args: unknown;
  description: string | undefined;
  missed: string | undefined;
  /** Next tick (epoch ms); undefined when disabled or unreadable. */
  nextRunMs: number | undefined;
  /** `delayed:last_enqueued_at`, Ruby's Time#to_s. */
  lastEnqueuedAt: string | undefined;
  /** Why this release cannot run it, when it cannot. */
  problem?: string;
}

export interface ScheduleOverview {
  /** The master's `host:pid`, if a master holds the lock. */
  master: string | null;
  schedules: ScheduleRow[];
}

/** The persistent schedules with their next and last runs and the current master (the CLI's and dashboard's view). */
export async function scheduleOverview(
  redis: Redis,
  keys: Keys,
  lockPrefix?: string,
): Promise<ScheduleOverview> {
  const store = new ScheduleStore(redis, keys);
  const [stored, last, master, now] = await Promise.all([
    store.all(),
    store.lastEnqueued(),
    redis.get(keys.schedulerMasterLock(lockPrefix)),
    redisTime(redis),
  ]);
  const schedules = stored.map(({ name, config, enabled }): ScheduleRow => {
    const interval =
      config.cron !== undefined ? `cron: ${config.cron}` : `every: ${JSON.stringify(config.every)}`;
    const row: ScheduleRow = {
      name,
      enabled,
      interval,
      className: typeof config.class === 'string' ? config.class : name,
      queue: typeof config.queue === 'string' ? config.queue : undefined,
      args: config.args ?? null,
      description: typeof config.description === 'string' ? config.description : undefined,
      missed: typeof config.missed === 'string' ? config.missed : undefined,
      nextRunMs: undefined,
      lastEnqueuedAt: last[name],
    };
    try {
      const schedule = parseSchedule(name, config);
      if (enabled) row.nextRunMs = nextTick(schedule.timing, now.getTime());
    } catch (error) {
      row.problem = (error as Error).message;
    }
    return row;
  });
  return { master, schedules };
}

/**
 * Enqueues one run of a persistent schedule now, outside its ticks (resque-scheduler's "Queue now"), and records it
 * in `delayed:last_enqueued_at`. Returns false when there is no such schedule.
 */
export async function runScheduleNow(
  redis: Redis,
  keys: Keys,
  name: string,
  options: { strictPayloads: boolean; jobs?: JobRegistry },
): Promise<boolean> {
  const stored = (await new ScheduleStore(redis, keys).all()).find((s) => s.name === name);
  if (!stored) return false;
  const schedule = parseSchedule(name, stored.config, options.jobs);
  const now = await redisTime(redis);
  const meta = options.strictPayloads ? undefined : { id: newJobId(), enqueuedAt: now.getTime() / 1000 };
  const payload = encodePayload(schedule.className, schedule.args, meta);
  await runScript(
    redis,
    enqueueScript(keys),
    [keys.queues, keys.queue(schedule.queue)],
    [schedule.queue, payload],
  );
  await redis.hset(keys.lastEnqueuedAt, name, rubyTimeToS(now));
  return true;
}
