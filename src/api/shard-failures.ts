import { FailureNotFoundError } from '../errors/index.js';
import type { BulkResult, BulkRetryOptions, ClearOptions } from '../failure/bulk.js';
import type { RetryOptions, RetryResult } from '../failure/by-id.js';
import type { FailureCounts } from '../failure/count.js';
import { type Failure, failureFields } from '../failure/failure.js';
import type { ErrorGroup, GroupOrder } from '../failure/groups.js';
import type { FailurePage, PageOptions } from '../failure/page.js';
import type { FailureFilter } from '../failure/scope.js';
import type { Failures } from '../failure/store.js';
import type { ShardLayout } from '../protocol/shard-layout.js';
import { sum } from './shard-merge.js';
import { parseShardRef, shardRef } from './shard-refs.js';

/** What the dashboard and the CLI use of the failure store: the store itself, or its sharded form. */
export type FailureStore = Pick<
  Failures,
  | 'lists'
  | 'count'
  | 'counts'
  | 'page'
  | 'get'
  | 'retry'
  | 'retryAll'
  | 'remove'
  | 'clear'
  | 'groups'
  | 'group'
>;

/** A failure read from one shard: its id carries the shard (`2@failed:0:3f2a9c1b07`). */
export type ShardFailure = Failure & { readonly shard: number };

/**
 * The failure store of a sharded namespace: each shard keeps its own failure lists (a failure stays on its queue's
 * shard), so reads ask every shard in parallel and merge, and an id acts on the shard it names.
 *
 * A page merges each shard's first `offset + limit` failures by `failed_at`: O(offset + limit) per shard, the cost a
 * filtered page already has on one Redis; a page of one shard (`shard`) is O(page) at any depth.
 */
export class ShardedFailures implements FailureStore {
  constructor(
    private readonly layout: ShardLayout,
    private readonly stores: readonly Failures[],
  ) {}

  async lists(): Promise<FailureListCount[]> {
    return mergeFailureLists(await Promise.all(this.stores.map((store) => store.lists())));
  }

  async count(filter: ShardFilter = {}): Promise<number> {
    return sum(await Promise.all(this.storesFor(filter).map(({ store }) => store.count(filter))));
  }

  async counts(): Promise<FailureCounts> {
    const all = await Promise.all(this.stores.map((store) => store.counts()));
    return all.reduce(addCounts);
  }

  async page(options: ShardPageOptions = {}): Promise<FailurePage> {
    const order = options.order ?? 'desc';
    const offset = options.offset ?? 0;
    const limit = options.limit ?? 20;
    const stores = this.storesFor(options);
    if (stores.length === 1) {
      const { shard, store } = stores[0]!;
      const page = await store.page({ ...options, shard: undefined } as PageOptions);
      return { ...page, failures: page.failures.map((f) => onShard(f, shard)) };
    }
    if (!Number.isInteger(offset) || offset < 0 || !Number.isInteger(limit) || limit < 1) {
      throw new RangeError(
        `page expects integer offset >= 0 and limit >= 1, got offset=${offset} limit=${limit}`,
      );
    }
    const pages = await Promise.all(
      stores.map(({ store }) => store.page({ ...options, order, offset: 0, limit: offset + limit })),
    );
    const merged = pages
      .flatMap((page, i) => page.failures.map((f) => onShard(f, stores[i]!.shard)))
      .sort((a, b) => byFailedAt(a, b) * (order === 'asc' ? 1 : -1));
    const totals = pages.map((page) => page.total);
    return {
      failures: merged.slice(offset, offset + limit),
      order,
      offset,
      limit,
      hasMore: merged.length > offset + limit || pages.some((page) => page.hasMore),
      total: totals.every((t) => t !== undefined) ? sum(totals) : undefined,
    };
  }

  async get(id: string): Promise<Failure> {
    const { shard, ref } = this.locate(id);
    return onShard(await this.stores[shard]!.get(ref), shard);
  }

  async retry(id: string, options: RetryOptions = {}): Promise<RetryResult> {
    const { shard, ref } = this.locate(id);
    const result = await this.stores[shard]!.retry(ref, options);
    return { ...result, failure: result.failure && onShard(result.failure, shard) };
  }

  async remove(id: string): Promise<Failure> {
    const { shard, ref } = this.locate(id);
    return onShard(await this.stores[shard]!.remove(ref), shard);
  }

  /** Shard by shard, in order (each shard's bulk pass is chunked as on one Redis). */
  async retryAll(filter: ShardFilter = {}, options: BulkRetryOptions = {}): Promise<BulkResult> {
    let total: BulkResult = { done: 0, scanned: 0, skipped: 0 };
    for (const { store } of this.storesFor(filter))
      total = addBulk(total, await store.retryAll(filter, options));
    return total;
  }

  async clear(filter: ShardFilter = {}, options: ClearOptions = {}): Promise<BulkResult> {
    let total: BulkResult = { done: 0, scanned: 0, skipped: 0 };
    for (const { store } of this.storesFor(filter))
      total = addBulk(total, await store.clear(filter, options));
    return total;
  }

  /** Error groups are counted per shard: a group seen on several shards is shown once, its counts summed. */
  async groups(options: { order?: GroupOrder; limit?: number } = {}): Promise<ErrorGroup[]> {
    const all = await Promise.all(this.stores.map((store) => store.groups(options)));
    const merged = mergeGroups(all.flat());
    merged.sort((a, b) =>
      options.order === 'count'
        ? b.count - a.count || b.lastSeen.getTime() - a.lastSeen.getTime()
        : b.lastSeen.getTime() - a.lastSeen.getTime(),
    );
    return options.limit === undefined ? merged : merged.slice(0, options.limit);
  }

  async group(id: string): Promise<ErrorGroup | undefined> {
    const found = await Promise.all(this.stores.map((store) => store.group(id)));
    return mergeGroups(found.filter((g) => g !== undefined))[0];
  }

  /** The shards a filter can match: one shard when it names a shard or a queue, else all. */
  private storesFor(filter: ShardFilter): Array<{ shard: number; store: Failures }> {
    const { shard, queue, list } = filter;
    const queueOfList = list?.endsWith('_failed') ? list.slice(0, -'_failed'.length) : undefined;
    const only =
      shard ??
      (queue !== undefined ? this.layout.shardOf(queue) : undefined) ??
      (queueOfList ? this.layout.shardOf(queueOfList) : undefined);
    if (only !== undefined) {
      if (!Number.isInteger(only) || only < 0 || only >= this.layout.count)
        throw new RangeError(`shard must be from 0 to ${this.layout.count - 1}, got ${String(only)}`);
      return [{ shard: only, store: this.stores[only]! }];
    }
    return this.stores.map((store, index) => ({ shard: index, store }));
  }

  private locate(id: string): { shard: number; ref: string } {
    const found = parseShardRef(id, this.layout.count);
    if (!found)
      throw new FailureNotFoundError(
        id,
        `not a failure id of a namespace of ${this.layout.count} shards (expected <shard>@<list>:<index>:<digest>, e.g. 0@failed:0:3f2a9c1b07)`,
      );
    return found;
  }
}

/** A filter that may also name one shard. */
export interface ShardFilter extends FailureFilter {
  shard?: number;
}

export interface ShardPageOptions extends PageOptions {
  shard?: number;
}

export interface FailureListCount {
  list: string;
  count: number;
}

/** The shards' failure lists as one: a list's counts added up, `failed` first, then by name. */
export function mergeFailureLists(perShard: readonly (readonly FailureListCount[])[]): FailureListCount[] {
  const counts = new Map<string, number>();
  for (const lists of perShard)
    for (const { list, count } of lists) counts.set(list, (counts.get(list) ?? 0) + count);
  return [...counts]
    .map(([list, count]) => ({ list, count }))
    .sort((a, b) => (a.list === 'failed' ? -1 : b.list === 'failed' ? 1 : a.list < b.list ? -1 : 1));
}

/** A failure with its shard and an id that carries it; the record itself is untouched. */
export function onShard(failure: Failure, shard: number): ShardFailure {
  return new FailureOnShard(failure, shard);
}

class FailureOnShard implements ShardFailure {
  readonly id: string;
  readonly list: string;
  readonly index: number;
  readonly raw: string;
  readonly record: Failure['record'];
  readonly readable: boolean;
  readonly queue: string;
  readonly className: string | undefined;
  readonly args: Failure['args'];
  readonly failedAt: Date | undefined;
  readonly retriedAt: Date | undefined;

  constructor(
    private readonly failure: Failure,
    readonly shard: number,
  ) {
    this.id = shardRef(shard, failure.id);
    this.list = failure.list;
    this.index = failure.index;
    this.raw = failure.raw;
    this.record = failure.record;
    this.readable = failure.readable;
    this.queue = failure.queue;
    this.className = failure.className;
    this.args = failure.args;
    this.failedAt = failure.failedAt;
    this.retriedAt = failure.retriedAt;
  }

  get groupId(): string {
    return this.failure.groupId;
  }

  toJSON() {
    const { id, ...fields } = failureFields(this);
    return { id, shard: this.shard, ...fields };
  }
}

function byFailedAt(a: Failure, b: Failure): number {
  return (a.failedAt?.getTime() ?? 0) - (b.failedAt?.getTime() ?? 0);
}

function addBulk(a: BulkResult, b: BulkResult): BulkResult {
  return { done: a.done + b.done, scanned: a.scanned + b.scanned, skipped: a.skipped + b.skipped };
}

function mergeGroups(groups: readonly ErrorGroup[]): ErrorGroup[] {
  const byId = new Map<string, ErrorGroup>();
  for (const group of groups) {
    const seen = byId.get(group.id);
    if (!seen) {
      byId.set(group.id, { ...group });
      continue;
    }
    const later = group.lastSeen > seen.lastSeen ? group : seen;
    const earlier = group.firstSeen < seen.firstSeen ? group : seen;
    byId.set(group.id, {
      ...later,
      count: seen.count + group.count,
      firstSeen: earlier.firstSeen,
      firstRelease: earlier.firstRelease,
      queues: [...new Set([...seen.queues, ...group.queues])].sort(),
      classes: [...new Set([...seen.classes, ...group.classes])].sort(),
    });
  }
  return [...byId.values()];
}

function addCounts(a: FailureCounts, b: FailureCounts): FailureCounts {
  return mergeNumbers(a, b) as FailureCounts;
}

/** Adds two objects of counts (numbers, or records of numbers), key by key. */
function mergeNumbers(a: unknown, b: unknown): unknown {
  if (typeof a === 'number' && typeof b === 'number') return a + b;
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const result: Record<string, unknown> = { ...(a as Record<string, unknown>) };
    for (const [key, value] of Object.entries(b as Record<string, unknown>))
      result[key] = key in result ? mergeNumbers(result[key], value) : value;
    return result;
  }
  return a ?? b;
}
