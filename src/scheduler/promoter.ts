import type { Redis } from 'ioredis';
import { releaseLock } from '../fleet/lock.js';
import { registryLimitKeys } from '../jobs/limit-keys.js';
import type { JobRegistry } from '../jobs/registry.js';
import { nextRateDueMs, RATE_RELEASE_BATCH, releaseRateParked } from '../limits/rate-release.js';
import type { Logger } from '../logging/logger.js';
import { redisTime } from '../redis/replies.js';
import { runScript } from '../redis/scripts.js';
import { delayedEnqueueHooks } from './enqueue-hooks.js';
import { dropOrphans, type PromotionContext, promoteEarliestSecond, promoteOwnBatch } from './promotion.js';
import { promoteRetryBatch } from './retry-promotion.js';
import { DELAYED_SCRIPTS } from './scripts.js';

export interface PromoterOptions extends PromotionContext {
  readonly logger: Logger;
  /** Job definitions whose before_delayed_enqueue hooks run as their jobs are moved. */
  readonly jobs?: JobRegistry;
  /** The clock promotion decides by (epoch ms). Default: Redis `TIME`, one clock for every process. */
  readonly now?: () => Promise<number>;
  /** Opens the connection that listens for new delayed jobs; without it the promoter only wakes on its own timer. */
  readonly openSubscriber?: () => Redis;
  /** Jobs per script call: about 2 ms of Redis time each. Default 250. */
  readonly batchSize?: number;
  /** Longest sleep between passes, for items written by Ruby (which announces nothing). Default 5000. */
  readonly maxSleepMs?: number;
  /** Promote delayed jobs too, not only retries (workers with `promoteDelayed` off leave them). Default true. */
  readonly delayed?: boolean;
  /**
   * Share the work with the fleet through the promoter lease (`ts:delayed:promoter`): only its holder wakes at due
   * times and for announcements; the others look every `maxSleepMs` and take the lease if its holder has gone.
   * Without it, this promoter wakes at every due time itself (one process, as the scheduler).
   */
  readonly lease?: { readonly id: string; readonly ttlMs?: number };
}

export interface PassReport {
  moved: number;
  /** The next due time (epoch ms) known after the pass, if any job is delayed. */
  nextDueMs: number | undefined;
}

/** After a failed pass (Redis down), try again this much later. */
const RETRY_AFTER_MS = 1000;
/** The lease outlives its holder's longest sleep, so a live holder never loses it. */
const LEASE_TTL_MS = 15_000;

/**
 * Moves due delayed jobs and due retries to their queues, and lets parked jobs of rate limits back once their window
 * has room, in batches of one script call each. Every move is atomic, so
 * any number of promoters (every `resque work` process runs one) share the work without a leader. Between passes it
 * sleeps until the next due time, woken earlier when a new delayed job or retry is due sooner, and never longer than
 * `maxSleepMs`.
 */
export class Promoter {
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private pass: Promise<void> = Promise.resolve();
  private passing = false;
  /** The earliest due time announced during the pass under way (this machine's clock): the pass may have missed it. */
  private announcedDuringPass = Number.POSITIVE_INFINITY;
  private subscriber: Redis | undefined;
  /** When the next pass is planned (this machine's clock, epoch ms). */
  private wakeAtLocal = Number.POSITIVE_INFINITY;
  /** The promotion clock minus this machine's, as of the last pass. */
  private clockOffsetMs = 0;
  private readonly batchSize: number;
  private readonly maxSleepMs: number;
  private readonly now: () => Promise<number>;

  private readonly options: PromoterOptions;
  /** This promoter held the lease at its last look (always true without a lease). */
  private leading: boolean;

  constructor(options: PromoterOptions) {
    const jobs = options.jobs;
    this.options = jobs
      ? {
          ...options,
          beforeEnqueue: options.beforeEnqueue ?? delayedEnqueueHooks(jobs, options.logger),
          limitKeys: options.limitKeys ?? registryLimitKeys(jobs),
        }
      : options;
    this.batchSize = options.batchSize ?? 250;
    this.maxSleepMs = options.maxSleepMs ?? 5000;
    this.now = options.now ?? (async () => (await redisTime(options.redis)).getTime());
    this.leading = options.lease === undefined;
  }

  /** Whether this promoter holds the lease now (takes it if free). */
  private async lead(): Promise<boolean> {
    const lease = this.options.lease;
    if (!lease) return true;
    const { redis, keys } = this.options;
    this.leading =
      (await runScript<number>(
        redis,
        DELAYED_SCRIPTS.promoterLease,
        [keys.promoterLease],
        [lease.id, lease.ttlMs ?? LEASE_TTL_MS],
      )) === 1;
    return this.leading;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.listen();
    this.wakeIn(0);
  }

  /** Stops the timer and the listener; resolves once a pass under way has finished its batch. */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    const subscriber = this.subscriber;
    this.subscriber = undefined;
    subscriber?.disconnect();
    await this.pass;
    const lease = this.options.lease;
    if (lease && this.leading) {
      // Hand the lease on at once rather than after its TTL.
      await releaseLock(this.options.redis, this.options.keys.promoterLease, lease.id).catch(() => {});
      this.leading = false;
    }
  }

  /**
   * One full pass at `nowMs`: the parked jobs of rate limits with room by then; the retries due by then; then (unless `delayed` is false) every second that has wholly
   * come, from the head of its list (resque-ts's jobs and Ruby's); then the records of jobs a Ruby master moved or Ruby
   * removed; then resque-ts's jobs due earlier in the current second.
   */
  async promoteDue(nowMs: number): Promise<PassReport> {
    let moved = await this.releaseRateParked(nowMs);
    for (;;) {
      const batch = await promoteRetryBatch(this.options, nowMs, this.batchSize);
      moved += batch.moved;
      if (batch.seen < this.batchSize) break;
    }
    if (this.options.delayed === false) return { moved, nextDueMs: await this.nextDueMs() };
    for (;;) {
      const batch = await promoteEarliestSecond(this.options, nowMs, this.batchSize);
      moved += batch.moved;
      if (batch.seen === 0) break;
    }
    for (;;) {
      const orphans = await dropOrphans(this.options, nowMs, this.batchSize);
      if (orphans.seen < this.batchSize || orphans.dropped === 0) break;
    }
    for (;;) {
      const batch = await promoteOwnBatch(this.options, nowMs, this.batchSize);
      moved += batch.moved;
      if (batch.seen < this.batchSize) break;
    }
    return { moved, nextDueMs: await this.nextDueMs() };
  }

  /** Parked jobs of rate limits whose window has room again go back to their queue (limits/rate_release.lua). */
  private async releaseRateParked(nowMs: number): Promise<number> {
    let moved = 0;
    for (;;) {
      const batch = await releaseRateParked(this.options.redis, this.options.keys, nowMs);
      moved += batch.returned;
      if (batch.seen < RATE_RELEASE_BATCH) return moved;
    }
  }

  private async nextDueMs(): Promise<number | undefined> {
    const { redis, keys } = this.options;
    const delayed = this.options.delayed !== false;
    const [retry, own, second, rate] = await Promise.all([
      redis.zrange(keys.retrySet, 0, 0, 'WITHSCORES'),
      delayed ? redis.zrange(keys.delayedDue, 0, 0, 'WITHSCORES') : [],
      delayed ? redis.zrange(keys.delayedSchedule, 0, 0) : [],
      nextRateDueMs(redis, keys),
    ]);
    const candidates = [
      retry[1],
      own[1],
      second[0] === undefined ? undefined : Number(second[0]) * 1000,
      rate,
    ]
      .filter((value) => value !== undefined)
      .map(Number);
    return candidates.length === 0 ? undefined : Math.min(...candidates);
  }

  private wakeIn(delayMs: number): void {
    clearTimeout(this.timer);
    if (!this.running) return;
    this.wakeAtLocal = Date.now() + delayMs;
    this.timer = setTimeout(() => {
      this.pass = this.tick();
    }, delayMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    let delay = RETRY_AFTER_MS;
    this.passing = true;
    this.announcedDuringPass = Number.POSITIVE_INFINITY;
    try {
      // Without the lease, another process wakes at the due times: look again later in case it has gone.
      if (!(await this.lead())) delay = this.maxSleepMs;
      else {
        const nowMs = await this.now();
        this.clockOffsetMs = nowMs - Date.now();
        const report = await this.promoteDue(nowMs);
        // A job still due after a pass waits for its crowded second to end (see promoteOwnBatch).
        const secondEndMs = (Math.floor(nowMs / 1000) + 1) * 1000;
        if (report.nextDueMs === undefined) delay = this.maxSleepMs;
        else delay = report.nextDueMs > nowMs ? report.nextDueMs - nowMs : secondEndMs - nowMs;
      }
    } catch (error) {
      this.options.logger.warn(`Promoting delayed jobs failed: ${(error as Error).message}`);
    } finally {
      this.passing = false;
    }
    const announced = this.announcedDuringPass - Date.now();
    this.wakeIn(Math.max(0, Math.min(delay, announced, this.maxSleepMs)));
  }

  /** A new delayed job announced its due time: wake for it if that is sooner than planned. */
  private onAnnounced(dueMs: number): void {
    if (!this.running || !this.leading || !Number.isFinite(dueMs)) return;
    const dueLocal = dueMs - this.clockOffsetMs;
    if (this.passing) {
      this.announcedDuringPass = Math.min(this.announcedDuringPass, dueLocal);
      return;
    }
    if (dueLocal < this.wakeAtLocal) this.wakeIn(Math.max(0, dueLocal - Date.now()));
  }

  private listen(): void {
    const { openSubscriber, keys, logger } = this.options;
    if (!openSubscriber) return;
    const subscriber = openSubscriber();
    subscriber.on('error', (error) => logger.debug(`Delayed-job listener: ${error.message}`));
    subscriber.on('message', (_channel: string, due: string) => this.onAnnounced(Number(due)));
    subscriber.subscribe(keys.delayedWakeChannel).catch((error: Error) => {
      logger.debug(`Delayed-job listener: ${error.message}`);
    });
    this.subscriber = subscriber;
  }
}
