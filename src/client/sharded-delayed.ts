// `resque.delayed` of a sharded client (docs/cluster.md, Shards, The client): a delayed job lives on the shard of the
// queue it is for, so a call naming a job or a queue goes to that shard, and a call over all delayed jobs asks every
// shard and merges.
import type { JobDefinition } from '../jobs/define.js';
import type { JsonValue } from '../protocol/json.js';
import type { ShardLayout } from '../protocol/shard-layout.js';
import type { DelayedJobs } from '../scheduler/delayed-jobs.js';
import type { Scheduled } from '../scheduler/delayed-push.js';
import type { DelayedItemView } from '../scheduler/delayed-query.js';
import type { FoundItem, SelectionOptions } from '../scheduler/delayed-remove.js';
import type { DueAt } from '../scheduler/due-time.js';
import { type JobRef, queueOf } from './enqueue.js';

type Selector = (args: unknown[], item: DelayedItemView) => boolean;

/** What this needs of each shard's client. */
interface ShardClient {
  readonly delayed: DelayedJobs;
}

/** Every public method of DelayedJobs, checked by the compiler: a sharded client's `delayed` stands in for one. */
export class ShardedDelayedJobs implements Pick<DelayedJobs, keyof DelayedJobs> {
  constructor(
    private readonly layout: ShardLayout,
    private readonly clients: readonly ShardClient[],
  ) {}

  remove<A extends JsonValue[]>(job: JobRef<A>, ...args: A): Promise<number> {
    return this.ofJob(job, (delayed) => delayed.remove(job, ...args));
  }

  removeInQueue<A extends JsonValue[]>(queue: string, job: JobRef<A>, ...args: A): Promise<number> {
    return this.ofJob(job, (delayed) => delayed.removeInQueue(queue, job, ...args), queue);
  }

  removeAt<A extends JsonValue[]>(timestamp: number, job: JobRef<A>, ...args: A): Promise<number> {
    return this.ofJob(job, (delayed) => delayed.removeAt(timestamp, job, ...args));
  }

  /** The item names its queue; bytes that do not (malformed) are removed wherever they are. */
  removeRawAt(timestamp: number, item: string): Promise<number> {
    const queue = queueOfItem(item);
    if (queue !== undefined) return this.clientOf(queue).delayed.removeRawAt(timestamp, item);
    return this.sum((delayed) => delayed.removeRawAt(timestamp, item));
  }

  /** Every shard's matches, by timestamp; with `limit`, at most that many, incomplete when more were found. */
  async find(
    select: Selector,
    options: SelectionOptions = {},
  ): Promise<{ found: FoundItem[]; complete: boolean }> {
    const parts = await this.every((delayed) => delayed.find(select, options));
    const found = parts.flatMap((part) => part.found).sort((a, b) => a.second - b.second);
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    return {
      found: found.slice(0, limit),
      complete: parts.every((part) => part.complete) && found.length <= limit,
    };
  }

  removeSelection(select: Selector, options: { className?: string } = {}): Promise<number> {
    return this.sum((delayed) => delayed.removeSelection(select, options));
  }

  enqueueSelection(select: Selector, options: { className?: string } = {}): Promise<number> {
    return this.sum((delayed) => delayed.enqueueSelection(select, options));
  }

  enqueueNow<A extends JsonValue[]>(job: JobRef<A>, ...args: A): Promise<number> {
    return this.ofJob(job, (delayed) => delayed.enqueueNow(job, ...args));
  }

  delayOrEnqueueAt<A extends JsonValue[]>(
    at: DueAt,
    job: JobDefinition<A>,
    ...args: A
  ): Promise<Scheduled[]> {
    return this.ofJob(job, (delayed) => delayed.delayOrEnqueueAt(at, job, ...args));
  }

  delayOrEnqueueIn<A extends JsonValue[]>(
    delayMs: number,
    job: JobDefinition<A>,
    ...args: A
  ): Promise<Scheduled[]> {
    return this.ofJob(job, (delayed) => delayed.delayOrEnqueueIn(delayMs, job, ...args));
  }

  isDelayed<A extends JsonValue[]>(job: JobRef<A>, ...args: A): Promise<boolean> {
    return this.ofJob(job, (delayed) => delayed.isDelayed(job, ...args));
  }

  scheduledAt<A extends JsonValue[]>(job: JobRef<A>, ...args: A): Promise<number[]> {
    return this.ofJob(job, (delayed) => delayed.scheduledAt(job, ...args));
  }

  count(): Promise<number> {
    return this.sum((delayed) => delayed.count());
  }

  /** The shards' counts added up: a second holding jobs on two shards counts twice. */
  timestampCount(): Promise<number> {
    return this.sum((delayed) => delayed.timestampCount());
  }

  /** The first `start + count` timestamps of every shard, merged: O(shards × (start + count)). */
  async peekTimestamps(start = 0, count = 20): Promise<number[]> {
    const parts = await this.every((delayed) => delayed.peekTimestamps(0, start + count));
    return [...new Set(parts.flat())].sort((a, b) => a - b).slice(start, start + count);
  }

  timestampSize(timestamp: number): Promise<number> {
    return this.sum((delayed) => delayed.timestampSize(timestamp));
  }

  /** One timestamp's jobs, shard 0's first. */
  async peekAt(timestamp: number, start = 0, count = 20): Promise<DelayedItemView[]> {
    const parts = await this.every((delayed) => delayed.peekAt(timestamp, 0, start + count));
    return parts.flat().slice(start, start + count);
  }

  async nextTimestamp(at: DueAt = Date.now()): Promise<number | undefined> {
    const parts = await this.every((delayed) => delayed.nextTimestamp(at));
    const found = parts.filter((second): second is number => second !== undefined);
    return found.length > 0 ? Math.min(...found) : undefined;
  }

  /** The first job of the timestamp on the first shard that has one. */
  async queueNextAt(timestamp: number): Promise<number> {
    for (const { delayed } of this.clients) {
      const moved = await delayed.queueNextAt(timestamp);
      if (moved > 0) return moved;
    }
    return 0;
  }

  queueAllAt(timestamp: number): Promise<number> {
    return this.sum((delayed) => delayed.queueAllAt(timestamp));
  }

  reset(): Promise<number> {
    return this.sum((delayed) => delayed.reset());
  }

  private clientOf(queue: string): ShardClient {
    return this.clients[this.layout.shardOf(queue)]!;
  }

  /** The shard of the job's queue: `explicit` (checked by queueOf), else its class's queue. */
  private async ofJob<T>(
    job: JobRef<never> | JobRef<JsonValue[]>,
    call: (delayed: DelayedJobs) => Promise<T>,
    explicit?: string,
  ): Promise<T> {
    return call(this.clientOf(queueOf(job as JobRef<JsonValue[]>, explicit)).delayed);
  }

  private every<T>(call: (delayed: DelayedJobs) => Promise<T>): Promise<T[]> {
    return Promise.all(this.clients.map(({ delayed }) => call(delayed)));
  }

  private async sum(call: (delayed: DelayedJobs) => Promise<number>): Promise<number> {
    return (await this.every(call)).reduce((total, n) => total + n, 0);
  }
}

function queueOfItem(item: string): string | undefined {
  try {
    const queue = (JSON.parse(item) as { queue?: unknown }).queue;
    return typeof queue === 'string' && queue !== '' ? queue : undefined;
  } catch {
    return undefined;
  }
}
