import { type Failure, toFailure } from './failure.js';
import type { ListScope, StoreContext } from './scope.js';

/** Items per LRANGE (and per Lua call in bulk operations): Redis is never busy with one of us for long. */
export const CHUNK = 1000;

export type FailureOrder = 'desc' | 'asc';

/**
 * A list's failures in chunks, newest first (`desc`, from the tail) or oldest first (`asc`). Newest first reads
 * below the length seen at the start, so failures pushed meanwhile do not shift what is read.
 */
export async function* readList(
  ctx: StoreContext,
  list: string,
  order: FailureOrder,
  chunk = CHUNK,
): AsyncGenerator<Failure> {
  const key = ctx.keys.failedList(list);
  if (order === 'asc') {
    for (let start = 0; ; start += chunk) {
      const items = await ctx.redis.lrange(key, start, start + chunk - 1);
      for (let i = 0; i < items.length; i++) yield toFailure(list, start + i, items[i]!);
      if (items.length < chunk) return;
    }
  }
  let end = (await ctx.redis.llen(key)) - 1;
  while (end >= 0) {
    const start = Math.max(0, end - chunk + 1);
    const items = await ctx.redis.lrange(key, start, end);
    for (let i = items.length - 1; i >= 0; i--) yield toFailure(list, start + i, items[i]!);
    end = start - 1;
  }
}

/** The failures of one scope that pass its test, in order. */
export async function* readScope(
  ctx: StoreContext,
  scope: ListScope,
  order: FailureOrder,
  chunk = CHUNK,
): AsyncGenerator<Failure> {
  for await (const failure of readList(ctx, scope.list, order, chunk)) {
    if (!scope.match || scope.match(failure)) yield failure;
  }
}

/**
 * Merges several lists' failures into one sequence by `failed_at` (newest first for `desc`), so a view over all of
 * RedisMultiQueue's lists is in true time order. Ties keep the lists' order.
 */
export async function* mergeByTime(
  sources: Array<AsyncGenerator<Failure>>,
  order: FailureOrder,
): AsyncGenerator<Failure> {
  const heads: Array<Failure | undefined> = [];
  for (const source of sources) heads.push((await source.next()).value ?? undefined);
  const time = (f: Failure) => f.failedAt?.getTime() ?? 0;
  for (;;) {
    let best = -1;
    for (let i = 0; i < heads.length; i++) {
      const head = heads[i];
      if (!head) continue;
      const current = best < 0 ? undefined : heads[best]!;
      if (!current || (order === 'desc' ? time(head) > time(current) : time(head) < time(current))) best = i;
    }
    if (best < 0) return;
    yield heads[best]!;
    heads[best] = (await sources[best]!.next()).value ?? undefined;
  }
}
