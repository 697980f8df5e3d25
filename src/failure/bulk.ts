import { failureTime } from '../protocol/time.js';
import { type PlannedRetry, runRemoveScript, runRetryScript } from './by-id.js';
import { type Failure, retryWrite } from './failure.js';
import { type FailureFilter, listLengths, type StoreContext, scopesFor } from './scope.js';
import { type ChunkAction, type ProgressCallback, sweepLists } from './sweep.js';

export interface BulkRetryOptions {
  /** Also retry failures retried before (Ruby's requeue_all does). Default false: each failure is retried once. */
  includeRetried?: boolean;
  /** Remove each failure once its job is back on its queue. Default false (Ruby keeps it, with `retried_at`). */
  remove?: boolean;
  onProgress?: ProgressCallback;
}

export interface BulkResult {
  /** Failures retried, or removed. */
  done: number;
  /** Records read (rereads after concurrent changes count again). */
  scanned: number;
  /** Failures selected but left alone because they cannot be retried (no class/args, no queue, not JSON). */
  skipped: number;
}

/**
 * Retries every failure the filter selects, CHUNK at a time: each chunk is one Lua call that sets `retried_at`
 * (or removes) and pushes the clean job, comparing each record's bytes first. All records retried by one call
 * carry the same `retried_at` (the time the call started).
 */
export async function retryMatching(
  ctx: StoreContext,
  filter: FailureFilter,
  options: BulkRetryOptions = {},
): Promise<BulkResult> {
  const stamp = failureTime(new Date());
  const remove = options.remove === true;
  const notYet = (f: Failure) =>
    options.includeRetried ? f.record.retried_at !== stamp : f.record.retried_at === undefined;
  // Records that cannot be retried stay selected and may be read again after a concurrent change: count each once.
  const skipped = new Set<string>();
  const act =
    (list: string): ChunkAction =>
    async (batch) => {
      const planned: PlannedRetry[] = [];
      // Records keep the run's stamp; jobs are enqueued now, so their queue wait is measured from this chunk.
      const at = { record: stamp, epochSeconds: Date.now() / 1000 };
      for (const failure of batch) {
        const write = retryWrite(failure, at);
        if (typeof write === 'string') skipped.add(failure.id);
        else planned.push({ failure, write });
      }
      if (planned.length === 0) return { done: 0, missed: 0, gone: [] };
      const [retried, missed] = await runRetryScript(ctx, list, planned, remove);
      const notThere = new Set(missed);
      const acted = planned.filter((_, i) => !notThere.has(i + 1));
      if (remove) return { done: retried, missed: missed.length, gone: acted.map((p) => p.failure.index) };
      const rewritten = new Map(acted.map((p) => [p.failure.index, p.write.record]));
      return { done: retried, missed: missed.length, gone: [], rewritten };
    };
  const scopes = await scopesFor(ctx, filter);
  const total = await totalOf(ctx, scopes);
  const lists = scopes.map((scope) => ({
    list: scope.list,
    select: (f: Failure) => notYet(f) && (!scope.match || scope.match(f)),
  }));
  const counts = await sweepLists(ctx, lists, total, act, options.onProgress);
  return { ...counts, skipped: skipped.size };
}

export interface ClearOptions {
  onProgress?: ProgressCallback;
}

/**
 * Removes every failure the filter selects. Whole lists go in one transaction (LLEN + UNLINK, and SREM from
 * failed_queues so the set stays tidy); filtered lists are swept CHUNK at a time with compare-and-remove.
 */
export async function clearMatching(
  ctx: StoreContext,
  filter: FailureFilter,
  options: ClearOptions = {},
): Promise<BulkResult> {
  const scopes = await scopesFor(ctx, filter);
  const total = await totalOf(ctx, scopes);
  const whole = scopes.filter((scope) => scope.match === undefined).map((scope) => scope.list);
  const unlinked = await unlinkLists(ctx, whole);
  let scanned = unlinked;
  if (whole.length > 0) {
    options.onProgress?.({ list: whole.at(-1)!, scanned, total, done: unlinked });
  }
  const act =
    (list: string): ChunkAction =>
    async (batch) => {
      const [removed, missed] = await runRemoveScript(ctx, list, batch);
      // remove_at reports only how many it missed; a chunk with misses is read again, so `gone` matters only without.
      return { done: removed, missed, gone: missed === 0 ? batch.map((f) => f.index) : [] };
    };
  const filtered = scopes.flatMap((scope) =>
    scope.match ? [{ list: scope.list, select: scope.match }] : [],
  );
  const counts = await sweepLists(
    ctx,
    filtered,
    total,
    act,
    options.onProgress &&
      ((progress) =>
        options.onProgress?.({
          ...progress,
          scanned: progress.scanned + scanned,
          done: progress.done + unlinked,
        })),
  );
  scanned += counts.scanned;
  return { done: unlinked + counts.done, scanned, skipped: 0 };
}

async function unlinkLists(ctx: StoreContext, lists: readonly string[]): Promise<number> {
  if (lists.length === 0) return 0;
  const multi = ctx.redis.multi();
  for (const list of lists) multi.llen(ctx.keys.failedList(list));
  for (const list of lists) multi.unlink(ctx.keys.failedList(list));
  const perQueue = lists.filter((list) => list !== 'failed');
  if (perQueue.length > 0) multi.srem(ctx.keys.failedQueues, ...perQueue);
  const results = (await multi.exec()) ?? [];
  for (const [error] of results) if (error) throw error;
  return results.slice(0, lists.length).reduce((sum, [, length]) => sum + Number(length), 0);
}

async function totalOf(ctx: StoreContext, scopes: ReadonlyArray<{ list: string }>): Promise<number> {
  return (
    await listLengths(
      ctx,
      scopes.map((scope) => scope.list),
    )
  ).reduce((a, b) => a + b, 0);
}
