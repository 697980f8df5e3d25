import { readList } from './read.js';
import { type FailureFilter, failureLists, listLengths, type StoreContext, scopesFor } from './scope.js';

/** Failures tallied every way resque-web's failure overview shows them. */
export interface FailureCounts {
  total: number;
  /** Failures marked with `retried_at`. */
  retried: number;
  /** Per failure list (`failed`, `<queue>_failed`). */
  lists: Record<string, number>;
  /** Per job queue (the record's `queue`). */
  queues: Record<string, number>;
  /** Per job class (`payload.class`; `(unknown)` for payloads that are not jobs). */
  classes: Record<string, number>;
}

/**
 * How many failures the filter selects. Whole lists are counted with LLEN (O(lists)); filters that look inside
 * records (class, group, retried, queue within `failed`) read the lists in chunks.
 */
export async function countMatching(ctx: StoreContext, filter: FailureFilter = {}): Promise<number> {
  const scopes = await scopesFor(ctx, filter);
  const whole = scopes.filter((scope) => !scope.match).map((scope) => scope.list);
  let count = (await listLengths(ctx, whole)).reduce((a, b) => a + b, 0);
  for (const scope of scopes) {
    if (!scope.match) continue;
    for await (const failure of readList(ctx, scope.list, 'asc')) if (scope.match(failure)) count++;
  }
  return count;
}

/** Every tally in one chunked pass over every failure list: O(failures), for overviews and reports. */
export async function countAll(ctx: StoreContext): Promise<FailureCounts> {
  const counts: FailureCounts = { total: 0, retried: 0, lists: {}, queues: {}, classes: {} };
  const bump = (table: Record<string, number>, key: string) => {
    table[key] = (table[key] ?? 0) + 1;
  };
  for (const list of await failureLists(ctx)) {
    counts.lists[list] = 0;
    for await (const failure of readList(ctx, list, 'asc')) {
      counts.total++;
      if (failure.record.retried_at !== undefined) counts.retried++;
      bump(counts.lists, list);
      bump(counts.queues, failure.queue);
      bump(counts.classes, failure.className ?? '(unknown)');
    }
  }
  return counts;
}
