import type { Redis } from 'ioredis';
import { DuplicateScheduleError } from '../errors/index.js';
import type { JobRegistry } from '../jobs/registry.js';
import type { JsonObject } from '../protocol/json.js';
import type { Keys } from '../protocol/keys.js';
import { parseSchedule, type RecurringSchedule, type ScheduleConfig } from './schedule-config.js';

/** resque-ts's additions to a persistent schedule, kept beside Ruby's JSON in `ts:schedule:options`. */
interface ScheduleExtras {
  missed?: ScheduleConfig['missed'];
  missedLimit?: number;
}

export interface StoredSchedule {
  name: string;
  config: ScheduleConfig;
  enabled: boolean;
}

/**
 * Schedules shared through Redis in resque-scheduler's format: `persistent_schedules` (name → JSON without
 * `persist`), `schedules_changed` (names a master must reload), `delayed:last_enqueued_at`. Disabled schedules move
 * out of `persistent_schedules` so that no master, Ruby's or ours, fires them.
 */
export class ScheduleStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly jobs?: JobRegistry,
    /**
     * The other shards of a sharded namespace (docs/cluster.md, Shards): a schedule stored here keeps its tick records
     * on its queue's shard, where the scheduler fires it, so a removal clears them there too.
     */
    private readonly otherShards: ReadonlyArray<{ readonly redis: Redis; readonly keys: Keys }> = [],
  ) {}

  /** Validates and stores a schedule (resque-scheduler's set_schedule with persist); `create` refuses an existing name. */
  async set(
    name: string,
    config: ScheduleConfig,
    options: { create?: boolean } = {},
  ): Promise<RecurringSchedule> {
    const schedule = parseSchedule(name, config, this.jobs);
    const { keys } = this;
    if (options.create && (await this.exists(name))) throw new DuplicateScheduleError(name);
    const extras: ScheduleExtras = { missed: schedule.missed, missedLimit: schedule.missedLimit };
    await this.redis
      .multi()
      .hset(keys.persistentSchedules, name, JSON.stringify(schedule.rubyConfig))
      .hset(keys.scheduleOptions, name, JSON.stringify(extras))
      .hdel(keys.schedulesDisabled, name)
      .sadd(keys.schedulesChanged, name)
      .exec();
    return schedule;
  }

  /** resque-scheduler's remove_schedule; returns whether it existed. */
  async remove(name: string): Promise<boolean> {
    const { keys } = this;
    const results = await this.redis
      .multi()
      .hdel(keys.persistentSchedules, name)
      .hdel(keys.schedulesDisabled, name)
      .hdel(keys.scheduleOptions, name)
      .hdel(keys.scheduleLastTick, name)
      .sadd(keys.schedulesChanged, name)
      .exec();
    await Promise.all(this.otherShards.map((shard) => shard.redis.hdel(shard.keys.scheduleLastTick, name)));
    return results?.slice(0, 2).some(([, removed]) => Number(removed) > 0) ?? false;
  }

  /** Switches a persistent schedule off or on; returns false when there is no such schedule in that state. */
  async setEnabled(name: string, enabled: boolean): Promise<boolean> {
    const { keys } = this;
    const [from, to] = enabled
      ? [keys.schedulesDisabled, keys.persistentSchedules]
      : [keys.persistentSchedules, keys.schedulesDisabled];
    const json = await this.redis.hget(from, name);
    if (json === null) return false;
    await this.redis.multi().hset(to, name, json).hdel(from, name).sadd(keys.schedulesChanged, name).exec();
    return true;
  }

  async exists(name: string): Promise<boolean> {
    const [active, disabled] = await Promise.all([
      this.redis.hexists(this.keys.persistentSchedules, name),
      this.redis.hexists(this.keys.schedulesDisabled, name),
    ]);
    return active === 1 || disabled === 1;
  }

  /** Every stored schedule, enabled ones and disabled ones, with resque-ts's extras merged in. Sorted by name. */
  async all(): Promise<StoredSchedule[]> {
    const { keys } = this;
    const [active, disabled, extras] = await Promise.all([
      this.redis.hgetall(keys.persistentSchedules),
      this.redis.hgetall(keys.schedulesDisabled),
      this.redis.hgetall(keys.scheduleOptions),
    ]);
    const stored: StoredSchedule[] = [];
    for (const [source, enabled] of [
      [active, true],
      [disabled, false],
    ] as const) {
      for (const [name, json] of Object.entries(source)) {
        const config = parseJson(json);
        if (config) stored.push({ name, config: { ...config, ...parseJson(extras[name] ?? '') }, enabled });
      }
    }
    return stored.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Names changed since a master last looked; taking them clears the set (as resque-scheduler's master does). */
  async takeChanged(): Promise<boolean> {
    const results = await this.redis
      .multi()
      .scard(this.keys.schedulesChanged)
      .del(this.keys.schedulesChanged)
      .exec();
    return Number(results?.[0]?.[1] ?? 0) > 0;
  }

  /** `delayed:last_enqueued_at`: when each schedule last enqueued, as Ruby's `Time#to_s`. */
  lastEnqueued(): Promise<Record<string, string>> {
    return this.redis.hgetall(this.keys.lastEnqueuedAt);
  }
}

function parseJson(text: string): JsonObject | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as JsonObject)
      : undefined;
  } catch {
    return undefined;
  }
}
