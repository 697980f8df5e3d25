import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { InvalidArgumentsError } from '../errors/index.js';
import { registryLimitKeys } from '../jobs/limit-keys.js';
import type { JobRegistry } from '../jobs/registry.js';
import type { Logger } from '../logging/logger.js';
import type { Keys } from '../protocol/keys.js';
import { redisTime } from '../redis/replies.js';
import { delayedEnqueueHooks } from './enqueue-hooks.js';
import { MasterLock } from './master-lock.js';
import { Promoter } from './promoter.js';
import { type FiredTick, fireDueTicks, type TickContext } from './recurring.js';
import {
  parseSchedule,
  parseSchedules,
  type RecurringSchedule,
  type ScheduleConfig,
} from './schedule-config.js';
import { ScheduleStore } from './schedule-store.js';
import { nextTick } from './timing.js';

export interface SchedulerOptions {
  /** A connection that outlives Redis restarts (retrying forever), owned by the caller. */
  readonly redis: Redis;
  readonly keys: Keys;
  readonly logger: Logger;
  /** Job definitions: default queues for schedules naming none, and before_delayed_enqueue hooks. */
  readonly jobs?: JobRegistry;
  /** Schedules defined in code or a file: this process's own, like resque-scheduler's static schedule. */
  readonly schedules?: Iterable<[string, ScheduleConfig]>;
  /** The clock (epoch ms). Default: Redis `TIME`, shared by every scheduler. */
  readonly now?: () => Promise<number>;
  /** Master lock TTL, renewed every pass. Default 30000 (Ruby: 180 s). */
  readonly lockTimeoutMs?: number;
  /** resque-scheduler's RESQUE_SCHEDULER_MASTER_LOCK_PREFIX. */
  readonly lockPrefix?: string;
  /** This process's lock value. Default `host:pid`, Ruby's format. */
  readonly identity?: string;
  /** Longest time between passes. Default 1000. */
  readonly pollIntervalMs?: number;
  /** A tick later than this counts as missed under the `skip` policy. Default 10000. */
  readonly onTimeMs?: number;
  /** Also promote due delayed jobs while master. Default true. */
  readonly promoteDelayed?: boolean;
  readonly strictPayloads?: boolean;
  /** Called with resque-scheduler's process texts (`Master scheduler`, `Child scheduler`…). */
  readonly procline?: (text: string) => void;
  /**
   * A sharded namespace (docs/cluster.md, Shards): every shard's connection and keys, by index, and the shard of a
   * queue. `redis` and `keys` are then shard 0's, where the master lock and the persistent schedules live; each tick
   * is fired on its queue's shard (claim, push and last-run records together), and the delayed jobs of every shard
   * are promoted there.
   */
  readonly shards?: ShardTargets;
}

export interface ShardTargets {
  readonly targets: ReadonlyArray<{ readonly redis: Redis; readonly keys: Keys }>;
  shardOf(queue: string): number;
}

export interface PassResult {
  master: boolean;
  fired: FiredTick[];
  promoted: number;
}

/**
 * The recurring-job scheduler (`resque scheduler`): every pass it takes or keeps resque-scheduler's master lock; the
 * master promotes due delayed jobs and fires due ticks of every enabled schedule (its own and those persisted in
 * Redis). Each tick is claimed atomically with its enqueue, so a tick is enqueued once even if two schedulers both
 * believe they are master during a handover.
 */
export class Scheduler {
  readonly lock: MasterLock;
  readonly store: ScheduleStore;
  private readonly own: Map<string, RecurringSchedule>;
  /** One per shard (one for a namespace that is not sharded). */
  private readonly promoters: Promoter[];
  private readonly tickContexts: TickContext[];
  private readonly now: () => Promise<number>;
  private readonly pollIntervalMs: number;
  private master = false;
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private passing: Promise<unknown> = Promise.resolve();
  private active = new Map<string, RecurringSchedule>();

  constructor(private readonly options: SchedulerOptions) {
    const { redis, keys, logger, jobs } = options;
    this.own = parseSchedules(options.schedules ?? [], jobs);
    this.store = new ScheduleStore(redis, keys, jobs, options.shards?.targets.slice(1));
    this.lock = new MasterLock(
      redis,
      keys.schedulerMasterLock(options.lockPrefix),
      options.identity ?? `${hostname()}:${process.pid}`,
      options.lockTimeoutMs ?? 30_000,
    );
    this.now = options.now ?? (async () => (await redisTime(redis)).getTime());
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    const strictPayloads = options.strictPayloads ?? false;
    const beforeEnqueue = jobs ? delayedEnqueueHooks(jobs, logger) : undefined;
    const targets = options.shards?.targets ?? [{ redis, keys }];
    this.tickContexts = targets.map((target) => ({
      ...target,
      strictPayloads,
      onTimeMs: options.onTimeMs ?? 10_000,
      beforeEnqueue,
      limitKeys: jobs ? registryLimitKeys(jobs) : undefined,
    }));
    this.promoters =
      options.promoteDelayed === false
        ? []
        : targets.map((target) => new Promoter({ ...target, logger, strictPayloads, jobs, now: this.now }));
  }

  get isMaster(): boolean {
    return this.master;
  }

  /** The schedules the last pass worked from (own ∪ persistent, enabled only), by name. */
  get schedules(): ReadonlyMap<string, RecurringSchedule> {
    return this.active;
  }

  /** Writes this process's `persist: true` schedules to Redis, then passes every `pollIntervalMs` (or at the next tick). */
  async start(): Promise<void> {
    if (this.running) return;
    this.options.procline?.('Starting');
    for (const schedule of this.own.values()) {
      if (schedule.persist)
        await this.store.set(schedule.name, {
          ...schedule.rubyConfig,
          missed: schedule.missed,
          missedLimit: schedule.missedLimit,
        } as ScheduleConfig);
    }
    this.running = true;
    this.loop();
  }

  /** Stops passing and releases the lock if held (as resque-scheduler does on INT/TERM/QUIT). */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.passing.catch(() => {});
    if (this.master) await this.lock.release().catch(() => false);
    this.master = false;
  }

  /** One pass at `nowMs` (default: the clock): election, delayed promotion, recurring ticks. */
  async pass(nowMs?: number): Promise<PassResult> {
    const now = nowMs ?? (await this.now());
    const master = await this.lock.hold();
    if (master !== this.master) {
      this.master = master;
      this.options.procline?.(master ? 'Master scheduler' : 'Child scheduler');
      this.options.logger.info(master ? 'Became the master scheduler' : 'Another scheduler is master');
    }
    // Only a master consumes schedules_changed, as resque-scheduler's does: a Ruby master learns of changes from it.
    if (master) await this.store.takeChanged();
    await this.reload();
    if (!master) return { master, fired: [], promoted: 0 };
    let promoted = 0;
    for (const promoter of this.promoters) promoted += (await promoter.promoteDue(now)).moved;
    const fired: FiredTick[] = [];
    for (const schedule of this.active.values()) {
      try {
        fired.push(...(await fireDueTicks(this.tickContextOf(schedule.queue), schedule, now)));
      } catch (error) {
        // A key or tenant function that throws on the schedule's arguments: the other schedules still fire.
        if (!(error instanceof InvalidArgumentsError)) throw error;
        this.options.logger.error(`Schedule ${schedule.name} not fired: ${error.message}`);
      }
    }
    return { master, fired, promoted };
  }

  /**
   * Reloads own ∪ persistent schedules (every pass: a handful of small hashes); a persistent one this release cannot
   * read is logged and left out.
   */
  async reload(): Promise<void> {
    const active = new Map(this.own);
    for (const stored of await this.store.all()) {
      if (!stored.enabled) {
        active.delete(stored.name);
        continue;
      }
      try {
        active.set(stored.name, parseSchedule(stored.name, stored.config, this.options.jobs));
      } catch (error) {
        this.options.logger.warn(`Skipping schedule ${stored.name}: ${(error as Error).message}`);
      }
    }
    this.active = active;
  }

  /** Where a tick of a schedule on `queue` is fired: its queue's shard. */
  private tickContextOf(queue: string): TickContext {
    const shard = this.options.shards?.shardOf(queue) ?? 0;
    return this.tickContexts[shard]!;
  }

  private loop(): void {
    if (!this.running) return;
    this.passing = this.passAndPlan()
      .catch((error: Error) => {
        // Redis errors: log, give up the role (as resque-scheduler does), try again next time.
        this.options.logger.warn(`Scheduler pass failed: ${error.message}`);
        this.master = false;
        return this.pollIntervalMs;
      })
      .then((delay) => {
        if (!this.running) return;
        this.timer = setTimeout(() => this.loop(), delay);
      });
  }

  private async passAndPlan(): Promise<number> {
    const now = await this.now();
    await this.pass(now);
    let next = now + this.pollIntervalMs;
    for (const schedule of this.active.values())
      next = Math.min(next, nextTick(schedule.timing, now) ?? next);
    return Math.max(0, next - now);
  }
}
