import type { Failure } from './failure.js';
import { toFailure } from './failure.js';
import { CHUNK, type FailureOrder, mergeByTime, readScope } from './read.js';
import { type FailureFilter, type ListScope, listLengths, type StoreContext, scopesFor } from './scope.js';

export interface PageOptions extends FailureFilter {
  /** `desc` (default): newest first, truly (page 1 holds the latest failures); `asc`: oldest first. */
  order?: FailureOrder;
  /** Failures to skip. Default 0. */
  offset?: number;
  /** Failures per page. Default 20 (resque-web's page size). */
  limit?: number;
}

export interface FailurePage {
  failures: Failure[];
  order: FailureOrder;
  offset: number;
  limit: number;
  /** True when at least one more failure follows this page. */
  hasMore: boolean;
  /** How many failures the filter selects: known without scanning only for whole lists, undefined otherwise. */
  total: number | undefined;
}

export const DEFAULT_PAGE_SIZE = 20;

/**
 * A page of failures. One whole list costs one LLEN + LRANGE (O(page)); filtered or multi-list pages read in chunks
 * up to the page's end (O(offset + limit) records per list), never the whole store unless the page is there.
 */
export async function readPage(ctx: StoreContext, options: PageOptions = {}): Promise<FailurePage> {
  const order = options.order ?? 'desc';
  const offset = options.offset ?? 0;
  const limit = options.limit ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(offset) || offset < 0 || !Number.isInteger(limit) || limit < 1) {
    throw new RangeError(
      `page expects integer offset >= 0 and limit >= 1, got offset=${offset} limit=${limit}`,
    );
  }
  const scopes = await scopesFor(ctx, options);
  const whole = scopes.every((scope) => scope.match === undefined);
  if (scopes.length === 1 && whole) return wholeListPage(ctx, scopes[0]!.list, order, offset, limit);
  const total = whole
    ? (
        await listLengths(
          ctx,
          scopes.map((s) => s.list),
        )
      ).reduce((a, b) => a + b, 0)
    : undefined;
  const { failures, hasMore } = await scanPage(ctx, scopes, order, offset, limit);
  return { failures, order, offset, limit, hasMore, total };
}

async function wholeListPage(
  ctx: StoreContext,
  list: string,
  order: FailureOrder,
  offset: number,
  limit: number,
): Promise<FailurePage> {
  const key = ctx.keys.failedList(list);
  // LLEN and LRANGE in one transaction: the positions (and so the ids) match the length they were computed from.
  const [start, stop] = order === 'asc' ? [offset, offset + limit - 1] : [-(offset + limit), -(offset + 1)];
  const results = (await ctx.redis.multi().llen(key).lrange(key, start, stop).exec()) ?? [];
  for (const [error] of results) if (error) throw error;
  const length = Number(results[0]?.[1] ?? 0);
  const items = (results[1]?.[1] ?? []) as string[];
  const first = order === 'asc' ? offset : Math.max(0, length - offset - limit);
  let failures = items.map((raw, i) => toFailure(list, first + i, raw));
  if (order === 'desc') failures = failures.reverse();
  return { failures, order, offset, limit, hasMore: length > offset + limit, total: length };
}

async function scanPage(
  ctx: StoreContext,
  scopes: readonly ListScope[],
  order: FailureOrder,
  offset: number,
  limit: number,
): Promise<{ failures: Failure[]; hasMore: boolean }> {
  const chunk = Math.min(CHUNK, Math.max(64, offset + limit + 1));
  const sources = scopes.map((scope) => readScope(ctx, scope, order, chunk));
  const failures: Failure[] = [];
  let seen = 0;
  let hasMore = false;
  for await (const failure of mergeByTime(sources, order)) {
    if (seen++ < offset) continue;
    if (failures.length === limit) {
      hasMore = true;
      break;
    }
    failures.push(failure);
  }
  await Promise.all(sources.map((source) => source.return(undefined)));
  return { failures, hasMore };
}
