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

/**
 * What one chunk's action did: `done` acted on, `missed` no longer where they were read, `gone` positions removed,
 * `rewritten` the new bytes of positions it changed in place.
 */
export interface ChunkOutcome {
  done: number;
  missed: number;
  gone: readonly number[];
  rewritten?: ReadonlyMap<number, string>;
}

export type ChunkAction = (batch: Failure[]) => Promise<ChunkOutcome>;

/** Recoveries (relocating the anchor, stepping back) allowed before the sweep reaches records it has not read. */
const MAX_RECOVERIES = 10;
/** Passes over a list when heavy concurrent removals exhausted the recoveries of the previous pass. */
const MAX_PASSES = 3;

interface Anchor {
  index: number;
  raw: string;
}

/**
 * Walks a failure list oldest first in chunks of CHUNK, hands each chunk's selected failures to `act` (one Lua call,
 * compare-and-set per failure) and reports progress. Each read starts with the last record of the previous chunk
 * (the anchor). If the anchor is not where it was, another client removed records before it: the sweep finds it
 * again to the left and carries on from there, so records that shifted into the part already read are not
 * skipped; if it cannot (or `act` finds records moved), it steps back a chunk. If removals come so fast that it
 * runs out of recoveries, it finishes the pass and walks the list again. Rereads and repeated passes are why
 * `select` must skip failures already handled. Each pass stops at the end of the list as it was when reached.
 */
export async function sweepList(
  ctx: StoreContext,
  list: string,
  select: (failure: Failure) => boolean,
  act: ChunkAction,
  onChunk: (scanned: number, done: number) => void,
): Promise<void> {
  for (let pass = 1; pass <= MAX_PASSES; pass++) {
    if (await sweepPass(ctx, list, select, act, onChunk)) return;
  }
}

/** One walk over the list; false when recoveries ran out, so a record that moved may have been missed. */
async function sweepPass(
  ctx: StoreContext,
  list: string,
  select: (failure: Failure) => boolean,
  act: ChunkAction,
  onChunk: (scanned: number, done: number) => void,
): Promise<boolean> {
  const key = ctx.keys.failedList(list);
  let start = 0;
  let anchor: Anchor | undefined;
  let recoveries = 0;
  let frontier = 0;
  let complete = true;
  const canRecover = () => {
    if (recoveries < MAX_RECOVERIES) return true;
    complete = false;
    return false;
  };
  const stepBack = (from: number) => {
    recoveries++;
    start = Math.max(0, from - CHUNK);
    anchor = undefined;
  };
  for (;;) {
    const from = anchor ? anchor.index : start;
    let items = await ctx.redis.lrange(key, from, from + CHUNK - (anchor ? 0 : 1));
    if (anchor && items[0] !== anchor.raw && canRecover()) {
      recoveries++;
      const moved = await findMovedAnchor(ctx, key, anchor);
      if (moved) anchor = moved;
      else stepBack(anchor.index);
      continue;
    }
    const skipAnchor = anchor !== undefined && items[0] === anchor.raw;
    if (skipAnchor) items = items.slice(1);
    const chunkStart = skipAnchor ? from + 1 : from;
    const batch = items.map((raw, i) => toFailure(list, chunkStart + i, raw)).filter(select);
    const outcome = batch.length > 0 ? await act(batch) : { done: 0, missed: 0, gone: [] };
    onChunk(items.length, outcome.done);
    if (outcome.missed > 0 && canRecover()) {
      stepBack(chunkStart);
      continue;
    }
    if (items.length < CHUNK) return complete;
    const reached = chunkStart + items.length - outcome.gone.length;
    if (reached > frontier) {
      frontier = reached;
      recoveries = 0;
    }
    anchor = lastSurvivor(items, chunkStart, outcome) ?? anchor;
    if (!anchor) start = chunkStart;
  }
}

/** The anchor's new place, up to CHUNK positions left of the old one (records are only ever removed before it). */
async function findMovedAnchor(ctx: StoreContext, key: string, anchor: Anchor): Promise<Anchor | undefined> {
  const from = Math.max(0, anchor.index - CHUNK);
  const window = await ctx.redis.lrange(key, from, anchor.index - 1);
  const at = window.lastIndexOf(anchor.raw);
  return at < 0 ? undefined : { index: from + at, raw: anchor.raw };
}

/** The last record of a chunk still in the list after the chunk's removals, at its position after them. */
function lastSurvivor(
  items: readonly string[],
  chunkStart: number,
  outcome: ChunkOutcome,
): Anchor | undefined {
  const gone = new Set(outcome.gone);
  let removedBefore = 0;
  let last: Anchor | undefined;
  items.forEach((raw, i) => {
    const index = chunkStart + i;
    if (gone.has(index)) removedBefore++;
    else last = { index: index - removedBefore, raw: outcome.rewritten?.get(index) ?? raw };
  });
  return last;
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
