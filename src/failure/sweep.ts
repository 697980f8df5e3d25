import type { Failure } from './failure.js';
import { toFailure } from './failure.js';
import { CHUNK } from './read.js';
import type { StoreContext } from './scope.js';

/** Progress of a bulk operation, reported after every chunk. */
export interface BulkProgress {
  /** The failure list being worked on. */
  list: string;
  /** Records read so far, over all lists (rereads after a concurrent change count again). */
  scanned: number;
  /** Records in all lists concerned when the operation started. */
  total: number;
  /** Failures acted on so far (retried or removed). */
  done: number;
}

export type ProgressCallback = (progress: BulkProgress) => void;

/** What one chunk's action did: `missed` failures were no longer where they were read; `removed` left the list. */
export interface ChunkOutcome {
  done: number;
  missed: number;
  removed: number;
}

export type ChunkAction = (batch: Failure[]) => Promise<ChunkOutcome>;

const MAX_RESCANS = 3;

/**
 * Walks a failure list oldest first in chunks of CHUNK, hands each chunk's selected failures to `act` (one Lua call,
 * compare-and-set per failure) and reports progress. When records moved under it (another client removed failures),
 * it steps back a chunk and reads again, so failures that shifted are still found; `select` must skip those already
 * handled. Stops at the end of the list as it was when reached.
 */
export async function sweepList(
  ctx: StoreContext,
  list: string,
  select: (failure: Failure) => boolean,
  act: ChunkAction,
  onChunk: (scanned: number, done: number) => void,
): Promise<void> {
  const key = ctx.keys.failedList(list);
  let start = 0;
  let rescans = 0;
  for (;;) {
    const items = await ctx.redis.lrange(key, start, start + CHUNK - 1);
    const batch = items.map((raw, i) => toFailure(list, start + i, raw)).filter(select);
    const outcome = batch.length > 0 ? await act(batch) : { done: 0, missed: 0, removed: 0 };
    onChunk(items.length, outcome.done);
    if (outcome.missed > 0 && rescans < MAX_RESCANS) {
      rescans++;
      start = Math.max(0, start - CHUNK);
      continue;
    }
    rescans = 0;
    if (items.length < CHUNK) return;
    start += items.length - outcome.removed;
  }
}

/** Runs `sweepList` over several lists with one running progress count. */
export async function sweepLists(
  ctx: StoreContext,
  lists: ReadonlyArray<{ list: string; select: (failure: Failure) => boolean }>,
  total: number,
  act: (list: string) => ChunkAction,
  onProgress: ProgressCallback | undefined,
): Promise<{ scanned: number; done: number }> {
  const counts = { scanned: 0, done: 0 };
  for (const { list, select } of lists) {
    await sweepList(ctx, list, select, act(list), (scanned, done) => {
      counts.scanned += scanned;
      counts.done += done;
      onProgress?.({ list, scanned: counts.scanned, total, done: counts.done });
    });
  }
  return counts;
}
