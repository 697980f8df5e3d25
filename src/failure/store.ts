import type { Redis } from 'ioredis';
import { connectionAdvice } from '../config/redis-source.js';
import type { ResolvedConfig } from '../config/resolve.js';
import { ResqueError } from '../errors/index.js';
import type { Keys } from '../protocol/keys.js';
import { asConnectionError, checkClusterMode } from '../redis/connection.js';
import {
  type BulkResult,
  type BulkRetryOptions,
  type ClearOptions,
  clearMatching,
  retryMatching,
} from './bulk.js';
import { locate, type RetryOptions, type RetryResult, removeById, retryById } from './by-id.js';
import { countAll, countMatching, type FailureCounts } from './count.js';
import type { Failure } from './failure.js';
import { type ErrorGroup, type GroupOrder, readGroup, readGroups } from './groups.js';
import { type FailurePage, type PageOptions, readPage } from './page.js';
import { type FailureFilter, failureLists, listLengths, type StoreContext } from './scope.js';

/**
 * The failure store, Ruby-compatible: reads and acts on the `failed` list and RedisMultiQueue's `<queue>_failed`
 * lists, whoever wrote them. Failures are addressed by id (never by bare index), bulk operations work in chunks,
 * and every failure written through `queueFailureWrite` is counted in its error group.
 */
export class Failures {
  private readonly ctx: StoreContext;

  constructor(
    redis: Redis,
    keys: Keys,
    private readonly config: Pick<ResolvedConfig, 'redis'> & Partial<Pick<ResolvedConfig, 'redisSource'>>,
  ) {
    this.ctx = { redis, keys };
  }

  /** Failure lists with their lengths: `failed` first, then RedisMultiQueue's lists by name. */
  lists(): Promise<Array<{ list: string; count: number }>> {
    return this.guard(async () => {
      const lists = await failureLists(this.ctx);
      const lengths = await listLengths(this.ctx, lists);
      return lists.map((list, i) => ({ list, count: lengths[i]! }));
    });
  }

  /** Failures the filter selects (all when none): LLEN for whole lists, a chunked read otherwise. */
  count(filter: FailureFilter = {}): Promise<number> {
    return this.guard(() => countMatching(this.ctx, filter));
  }

  /** Totals per list, queue and class, and how many were retried: one chunked pass over every list. */
  counts(): Promise<FailureCounts> {
    return this.guard(() => countAll(this.ctx));
  }

  /** A page, newest first by default (the first page holds the latest failures). */
  page(options: PageOptions = {}): Promise<FailurePage> {
    return this.guard(() => readPage(this.ctx, options));
  }

  /** One failure by id; throws FailureNotFoundError when it is gone. */
  get(id: string): Promise<Failure> {
    return this.guard(() => locate(this.ctx, id));
  }

  /**
   * Ruby's Failure.requeue on the failure the id names: the record stays, with `retried_at` as its last key, and
   * `{"class","args"}` is pushed to its queue (idle resque-ts workers are woken). With `remove`, the record goes.
   */
  retry(id: string, options: RetryOptions = {}): Promise<RetryResult> {
    return this.guard(() => retryById(this.ctx, id, options));
  }

  /** Retries every failure the filter selects (by queue, class, group…), in chunks, with progress. */
  retryAll(filter: FailureFilter = {}, options: BulkRetryOptions = {}): Promise<BulkResult> {
    return this.guard(() => retryMatching(this.ctx, filter, options));
  }

  /** Removes the failure the id names; returns it as it was. */
  remove(id: string): Promise<Failure> {
    return this.guard(() => removeById(this.ctx, id));
  }

  /** Removes every failure the filter selects (all when none; `{ retried: true }` is Ruby's clear_retried). */
  clear(filter: FailureFilter = {}, options: ClearOptions = {}): Promise<BulkResult> {
    return this.guard(() => clearMatching(this.ctx, filter, options));
  }

  /** Error groups, most recently seen first (or most frequent first with `order: 'count'`). */
  groups(options: { order?: GroupOrder; limit?: number } = {}): Promise<ErrorGroup[]> {
    return this.guard(() => readGroups(this.ctx.redis, this.ctx.keys, options));
  }

  group(id: string): Promise<ErrorGroup | undefined> {
    return this.guard(() => readGroup(this.ctx.redis, this.ctx.keys, id));
  }

  private async guard<T>(operation: () => Promise<T>): Promise<T> {
    try {
      await checkClusterMode(this.ctx.redis, this.config);
      return await operation();
    } catch (error) {
      // Our own errors pass as they are (asConnectionError's pattern would take "…NotFound…" for ENOTFOUND).
      throw error instanceof ResqueError
        ? error
        : asConnectionError(error, this.config.redis, connectionAdvice(this.config.redisSource));
    }
  }
}
