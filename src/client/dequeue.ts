import { randomBytes } from 'node:crypto';
import { hooksFor } from '../jobs/define.js';
import { assertJsonSafe, type JsonValue } from '../protocol/json.js';
import { assertClassName } from '../protocol/names.js';
import { decodePayload } from '../protocol/payload.js';
import { runScript, SCRIPTS } from '../redis/scripts.js';
import { endRemovedJobs } from '../status/write.js';
import type { ClientContext } from './context.js';
import { type JobRef, queueOf } from './enqueue.js';
import { syncQueueIndex } from './queue-index.js';

/** Items read per LRANGE while scanning; each removal script touches at most this many. */
export const DEQUEUE_CHUNK = 1000;
const MAX_RESCANS = 3;

/**
 * Resque.dequeue: removes queued jobs of a class (and, when `args` is given, with those arguments), matching on the
 * decoded class and args so that jobs pushed by Ruby, node-resque and resque-ts are all found whatever their extra
 * keys or number formatting. Works in chunks so a huge queue never blocks Redis for long.
 * Returns the number removed, or null when a before_dequeue hook vetoed.
 */
export async function dequeueJobs(
  ctx: ClientContext,
  job: JobRef<JsonValue[]>,
  args: JsonValue[] | undefined,
  queue?: string,
): Promise<number | null> {
  const className = typeof job === 'string' ? job : job.className;
  assertClassName(className);
  const target = queueOf(job, queue);
  if (args) assertJsonSafe(args, 'args');
  const definition = typeof job === 'string' ? ctx.jobs.resolve(job) : job;
  const hookArgs = args ?? [];
  let allowed = true;
  for (const hook of hooksFor(definition, 'before_dequeue'))
    if ((await hook(...hookArgs)) === false) allowed = false;
  if (!allowed) return null;
  const wanted = args ? canonical(args) : undefined;
  const removed = await removeMatching(ctx, ctx.keys.queue(target), (raw) => {
    try {
      const payload = decodePayload(raw);
      return payload.class === className && (wanted === undefined || canonical(payload.args) === wanted);
    } catch {
      return false;
    }
  });
  await syncQueueIndex(ctx.redis, ctx.keys, [target]);
  for (const hook of hooksFor(definition, 'after_dequeue')) await hook(...hookArgs);
  return removed;
}

/**
 * Scans a queue's list in chunks and removes every item `matches` accepts; safe against concurrent pops and pushes.
 * A removed unique job frees its lock (remove_at.lua); a removed tracked job's status record ends `cancelled`.
 */
export async function removeMatching(
  ctx: ClientContext,
  listKey: string,
  matches: (raw: string) => boolean,
  onProgress?: (scanned: number, removed: number) => void,
): Promise<number> {
  const tombstone = `resque-ts:tombstone:${randomBytes(16).toString('hex')}`;
  let start = 0;
  let removed = 0;
  let scanned = 0;
  let rescans = 0;
  for (;;) {
    const items = await ctx.redis.lrange(listKey, start, start + DEQUEUE_CHUNK - 1);
    if (items.length === 0) return removed;
    const pairs: Array<string | number> = [];
    items.forEach((raw, i) => {
      if (matches(raw)) pairs.push(start + i, raw);
    });
    let chunkRemoved = 0;
    let missed = 0;
    if (pairs.length > 0) {
      let positions: number[];
      [chunkRemoved, missed, positions] = await runScript<[number, number, number[]]>(
        ctx.redis,
        SCRIPTS.removeAt,
        [listKey],
        [tombstone, ctx.keys.limitSpec, ...pairs],
      );
      const removedItems = positions.map((index) => items[index - start]).filter((raw) => raw !== undefined);
      await endRemovedJobs(ctx.redis, ctx.keys, removedItems, Date.now());
    }
    removed += chunkRemoved;
    if (missed > 0 && rescans < MAX_RESCANS) {
      rescans++;
      start = Math.max(0, start - DEQUEUE_CHUNK);
      continue;
    }
    rescans = 0;
    scanned += items.length;
    onProgress?.(scanned, removed);
    start += items.length - chunkRemoved;
  }
}

/** JSON with object keys sorted, so `{a,b}` equals `{b,a}` as Ruby's Hash equality has it. */
export function canonical(value: JsonValue): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, JsonValue>)[k]!)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
