import type { ClientContext } from '../client/context.js';
import { type JobRef, queueOf } from '../client/enqueue.js';
import type { JobDefinition } from '../jobs/define.js';
import { registryLimitKeys } from '../jobs/limit-keys.js';
import { assertJsonSafe, type JsonValue } from '../protocol/json.js';
import { assertClassName } from '../protocol/names.js';
import { queueQueuedEarly } from '../status/write.js';
import { bucketSecond, encodeDelayedItem } from './delayed-item.js';
import { type Scheduled, scheduleJobs } from './delayed-push.js';
import {
  countAll,
  type DelayedItemView,
  nextSecond,
  peekAt,
  peekSeconds,
  secondsOf,
} from './delayed-query.js';
import type { DelayedRecord } from './delayed-record.js';
import {
  type FoundItem,
  findItems,
  removeItem,
  type SelectionOptions,
  takeSelection,
} from './delayed-remove.js';
import { resetDelayed } from './delayed-reset.js';
import { type DueAt, dueAfterMs, dueTimeMs } from './due-time.js';
import { moveHead } from './promotion.js';

type Guard = <T>(operation: () => Promise<T>) => Promise<T>;
type Selector = (args: unknown[], item: DelayedItemView) => boolean;

/**
 * resque-scheduler's query and removal API for delayed jobs (`resque.delayed`). Timestamps are Ruby's: the integer
 * epoch second a job is filed under. Walks over all delayed jobs go in chunks of 100, so none blocks Redis for long.
 */
export class DelayedJobs {
  constructor(
    private readonly ctx: ClientContext,
    private readonly guard: Guard,
  ) {}

  /** Removes every delayed copy of the job with these args on its class's queue (remove_delayed); returns how many. */
  remove<A extends JsonValue[]>(job: JobRef<A>, ...args: A): Promise<number> {
    return this.guard(() => removeItem(this.ctx, this.itemOf(job, undefined, args)));
  }

  /** Like remove, for the copies filed with an explicit queue (remove_delayed_in_queue). */
  removeInQueue<A extends JsonValue[]>(queue: string, job: JobRef<A>, ...args: A): Promise<number> {
    return this.guard(() => removeItem(this.ctx, this.itemOf(job, queue, args)));
  }

  /** Removes the job's copies at one timestamp only (remove_delayed_job_from_timestamp). */
  removeAt<A extends JsonValue[]>(timestamp: number, job: JobRef<A>, ...args: A): Promise<number> {
    return this.guard(() =>
      removeItem(this.ctx, this.itemOf(job, undefined, args), { seconds: [timestamp] }),
    );
  }

  /** Removes every copy of one item, given by its exact bytes, from one timestamp (the dashboard's "Remove"). */
  removeRawAt(timestamp: number, item: string): Promise<number> {
    return this.guard(() => removeItem(this.ctx, item, { seconds: [timestamp] }));
  }

  /** Every delayed item whose args `select` accepts (find_delayed_selection); chunked, optionally bounded. */
  find(select: Selector, options: SelectionOptions = {}): Promise<{ found: FoundItem[]; complete: boolean }> {
    return this.guard(() => findItems(this.ctx, select, options));
  }

  /** Removes every delayed item whose args `select` accepts (remove_delayed_selection); returns how many. */
  removeSelection(select: Selector, options: { className?: string } = {}): Promise<number> {
    return this.guard(() => takeSelection(this.ctx, select, { ...options, enqueue: false }));
  }

  /** Moves every delayed item whose args `select` accepts to its queue now (enqueue_delayed_selection). */
  enqueueSelection(select: Selector, options: { className?: string } = {}): Promise<number> {
    return this.guard(() => takeSelection(this.ctx, select, { ...options, enqueue: true }));
  }

  /** Moves the job's delayed copies to its queue now (enqueue_delayed); returns how many. */
  enqueueNow<A extends JsonValue[]>(job: JobRef<A>, ...args: A): Promise<number> {
    return this.guard(async () => {
      const queue = queueOf(job as unknown as JobRef<JsonValue[]>);
      const className = classNameOf(job);
      return removeItem(this.ctx, this.itemOf(job, queue, args), { enqueue: { className, args, queue } });
    });
  }

  /**
   * Removes the job's delayed copies (n) and files it again at `at`, max(n, 1) times (delay_or_enqueue_at): a job
   * already scheduled moves to the new time instead of running twice.
   */
  delayOrEnqueueAt<A extends JsonValue[]>(
    at: DueAt,
    job: JobDefinition<A>,
    ...args: A
  ): Promise<Scheduled[]> {
    return this.guard(async () => {
      const dueMs = dueTimeMs(at);
      const removed = await removeItem(this.ctx, this.itemOf(job, undefined, args));
      const entries = Array.from({ length: Math.max(1, removed) }, () => ({ dueMs, args }));
      const results = await scheduleJobs(
        this.ctx,
        job as unknown as JobRef<JsonValue[]>,
        undefined,
        entries,
        Date.now(),
      );
      return results.filter((result): result is Scheduled => result !== null);
    });
  }

  /** delay_or_enqueue_in: as delayOrEnqueueAt, `delayMs` from now. */
  delayOrEnqueueIn<A extends JsonValue[]>(
    delayMs: number,
    job: JobDefinition<A>,
    ...args: A
  ): Promise<Scheduled[]> {
    return this.delayOrEnqueueAt(dueAfterMs(delayMs, Date.now()), job, ...args);
  }

  /** Whether the job with these args is delayed (delayed?). */
  async isDelayed<A extends JsonValue[]>(job: JobRef<A>, ...args: A): Promise<boolean> {
    return (await this.scheduledAt(job, ...args)).length > 0;
  }

  /** The timestamps the job with these args is filed under (scheduled_at), ascending. */
  scheduledAt<A extends JsonValue[]>(job: JobRef<A>, ...args: A): Promise<number[]> {
    return this.guard(() => secondsOf(this.ctx, this.itemOf(job, undefined, args)));
  }

  /** Every delayed job (count_all_scheduled_jobs): walks the schedule, one pipeline of LLEN per 100 timestamps. */
  count(): Promise<number> {
    return this.guard(() => countAll(this.ctx));
  }

  /** How many timestamps hold delayed jobs (delayed_queue_schedule_size). */
  timestampCount(): Promise<number> {
    return this.guard(() => this.ctx.redis.zcard(this.ctx.keys.delayedSchedule));
  }

  /** `count` timestamps from position `start`, earliest first (delayed_queue_peek). */
  peekTimestamps(start = 0, count = 20): Promise<number[]> {
    return this.guard(() => peekSeconds(this.ctx, start, count));
  }

  /** Jobs filed under one timestamp (delayed_timestamp_size). */
  timestampSize(timestamp: number): Promise<number> {
    return this.guard(() => this.ctx.redis.llen(this.ctx.keys.delayedAt(timestamp)));
  }

  /** `count` jobs of one timestamp from `start` (delayed_timestamp_peek), decoded; malformed ones flagged. */
  peekAt(timestamp: number, start = 0, count = 20): Promise<DelayedItemView[]> {
    return this.guard(() => peekAt(this.ctx, timestamp, start, count));
  }

  /** The earliest timestamp due at `at` (default now), if any (next_delayed_timestamp). */
  nextTimestamp(at: DueAt = Date.now()): Promise<number | undefined> {
    return this.guard(() => nextSecond(this.ctx, Math.floor(dueTimeMs(at) / 1000)));
  }

  /** Moves the first job of a timestamp to its queue now (the web's "Queue now", enqueue_next_item). */
  async queueNextAt(timestamp: number): Promise<number> {
    return this.guard(async () => {
      const tracked: DelayedRecord[] = [];
      const { moved } = await moveHead(this.promotion(), timestamp, 1, Date.now(), (records) =>
        tracked.push(...records),
      );
      await this.markQueuedEarly(tracked);
      return moved;
    });
  }

  /** Moves every job of a timestamp to its queue now, 250 per script call; returns how many. */
  queueAllAt(timestamp: number): Promise<number> {
    return this.guard(async () => {
      let moved = 0;
      for (;;) {
        const tracked: DelayedRecord[] = [];
        const batch = await moveHead(this.promotion(), timestamp, 250, Date.now(), (records) =>
          tracked.push(...records),
        );
        await this.markQueuedEarly(tracked);
        moved += batch.moved;
        if (batch.seen === 0) return moved;
      }
    });
  }

  /**
   * Tracked jobs moved before their due time say `queued` in their records (docs/status.md): promotion at the due
   * time needs no write, since a `delayed` record past its due time reads `queued`, but "queue now" comes earlier.
   */
  private async markQueuedEarly(records: readonly DelayedRecord[]): Promise<void> {
    const tracked = records.filter((record) => record.statusTtlMs !== undefined);
    if (tracked.length === 0) return;
    const pipeline = this.ctx.redis.pipeline();
    const at = Date.now();
    for (const record of tracked)
      queueQueuedEarly(pipeline, this.ctx.keys, record.id, record.statusTtlMs!, at);
    await pipeline.exec();
  }

  /** Removes every delayed job (reset_delayed_queue), in chunks; returns the number of timestamps cleared. */
  reset(): Promise<number> {
    return this.guard(() => resetDelayed(this.ctx));
  }

  /** The timestamp a job due at `at` is filed under (the ceiling of its second). */
  static timestampOf(at: DueAt): number {
    return bucketSecond(dueTimeMs(at));
  }

  private promotion() {
    return {
      redis: this.ctx.redis,
      keys: this.ctx.keys,
      strictPayloads: this.ctx.config.strictPayloads,
      limitKeys: registryLimitKeys(this.ctx.jobs),
    };
  }

  private itemOf<A extends JsonValue[]>(
    job: JobRef<A>,
    queue: string | undefined,
    args: JsonValue[],
  ): string {
    const className = classNameOf(job);
    const resolvedQueue = queueOf(job as unknown as JobRef<JsonValue[]>, queue);
    assertJsonSafe(args, 'args');
    return encodeDelayedItem(className, args, resolvedQueue);
  }
}

function classNameOf<A extends JsonValue[]>(job: JobRef<A>): string {
  const name = typeof job === 'string' ? job : job.className;
  assertClassName(name);
  return name;
}
