import type { JobRef } from '../client/enqueue.js';
import type { JsonValue } from '../protocol/json.js';
import type { ShardLayout } from '../protocol/shard-layout.js';
import type { DelayedJobs } from '../scheduler/delayed-jobs.js';
import type { DelayedItemView } from '../scheduler/delayed-query.js';
import type { FoundItem, SelectionOptions } from '../scheduler/delayed-remove.js';
import { sum } from './shard-merge.js';

/** What the dashboard and the CLI use of the delayed-job API: the client's, or its sharded form. */
export type DelayedView = Pick<
  DelayedJobs,
  | 'peekTimestamps'
  | 'timestampCount'
  | 'timestampSize'
  | 'peekAt'
  | 'find'
  | 'queueAllAt'
  | 'queueNextAt'
  | 'removeRawAt'
  | 'count'
  | 'reset'
  | 'removeInQueue'
>;

type Selector = (args: unknown[], item: DelayedItemView) => boolean;

/**
 * Delayed jobs of a sharded namespace: each delayed job is filed on its queue's shard, so reads merge every shard's
 * schedule and an item acts on its queue's shard. A page of timestamps reads each shard's first `start + count`
 * (O(start + count) per shard); `timestampCount` adds up the shards' counts, so a second holding jobs of two shards
 * counts twice.
 */
export class ShardedDelayed implements DelayedView {
  constructor(
    private readonly layout: ShardLayout,
    private readonly shards: readonly DelayedJobs[],
  ) {}

  async peekTimestamps(start = 0, count = 20): Promise<number[]> {
    const all = await Promise.all(this.shards.map((shard) => shard.peekTimestamps(0, start + count)));
    return [...new Set(all.flat())].sort((a, b) => a - b).slice(start, start + count);
  }

  async timestampCount(): Promise<number> {
    return sum(await Promise.all(this.shards.map((shard) => shard.timestampCount())));
  }

  async timestampSize(timestamp: number): Promise<number> {
    return sum(await Promise.all(this.shards.map((shard) => shard.timestampSize(timestamp))));
  }

  /** Shard 0's jobs of the second first, then shard 1's, … */
  async peekAt(timestamp: number, start = 0, count = 20): Promise<DelayedItemView[]> {
    const all = await Promise.all(this.shards.map((shard) => shard.peekAt(timestamp, 0, start + count)));
    return all.flat().slice(start, start + count);
  }

  async find(
    select: Selector,
    options: SelectionOptions = {},
  ): Promise<{ found: FoundItem[]; complete: boolean }> {
    const all = await Promise.all(this.shards.map((shard) => shard.find(select, options)));
    // Each shard's matches are its earliest; of all of them, the earliest are kept, and a cut is not complete.
    const found = all.flatMap((result) => result.found).sort((a, b) => a.second - b.second);
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    return {
      found: found.slice(0, limit),
      complete: all.every((result) => result.complete) && found.length <= limit,
    };
  }

  async queueAllAt(timestamp: number): Promise<number> {
    return sum(await Promise.all(this.shards.map((shard) => shard.queueAllAt(timestamp))));
  }

  /** The first job of the second on the first shard that has one. */
  async queueNextAt(timestamp: number): Promise<number> {
    for (const shard of this.shards) {
      const moved = await shard.queueNextAt(timestamp);
      if (moved > 0) return moved;
    }
    return 0;
  }

  /** On the shard of the item's queue (every shard for an item that names none). */
  async removeRawAt(timestamp: number, item: string): Promise<number> {
    const queue = queueOfItem(item);
    if (queue !== undefined) return this.shards[this.layout.shardOf(queue)]!.removeRawAt(timestamp, item);
    return sum(await Promise.all(this.shards.map((shard) => shard.removeRawAt(timestamp, item))));
  }

  async count(): Promise<number> {
    return sum(await Promise.all(this.shards.map((shard) => shard.count())));
  }

  async reset(): Promise<number> {
    return sum(await Promise.all(this.shards.map((shard) => shard.reset())));
  }

  removeInQueue<A extends JsonValue[]>(queue: string, job: JobRef<A>, ...args: A): Promise<number> {
    return this.shards[this.layout.shardOf(queue)]!.removeInQueue(queue, job, ...args);
  }
}

function queueOfItem(item: string): string | undefined {
  try {
    const decoded = JSON.parse(item) as { queue?: unknown };
    return typeof decoded.queue === 'string' ? decoded.queue : undefined;
  } catch {
    return undefined;
  }
}
