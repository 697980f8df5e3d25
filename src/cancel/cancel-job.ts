// resque.cancel(id): finds where a job is and stops it there. The tombstone comes first, so a job that moves while
// it is looked for (a delayed or retrying job promoted to its queue, a queued job popped) is still caught; then the
// delayed index, the retry set and the running slots are searched in turn.
import type { Redis } from 'ioredis';
import { freeUniqueLock, freeUniqueLockOfItem } from '../client/unique-locks.js';
import type { Keys } from '../protocol/keys.js';
import { runScript } from '../redis/scripts.js';
import { byItemField } from '../scheduler/delayed-item.js';
import { decodeRecord } from '../scheduler/delayed-record.js';
import { parseInflight } from '../worker/fetch/inflight.js';
import { checkJobId } from './job-id-check.js';
import { CANCEL_SCRIPTS } from './scripts.js';

/**
 * What a cancel found and did:
 * - `delayed`, `retrying`: the job was removed from the delayed or retry set; it will not run.
 * - `running`: the worker slot `workerId` was asked to stop it (its AbortSignal fires; a child that ignores it is
 *   killed after the grace period). A job that finishes before it notices counts as completed.
 * - `queued`: its status record says it waits on a queue: its tombstone drops it when a worker pops it.
 * - `unknown`: found nowhere else and not tracked. It may wait on a queue (only tracked jobs say so), so a tombstone
 *   is left anyway, trimmed after a week if the id never comes up.
 * - `finished`: its status record says it already ended (`state`); nothing was done.
 */
export type CancelResult =
  | { readonly id: string; readonly was: 'delayed' | 'retrying' | 'queued' | 'unknown' }
  | { readonly id: string; readonly was: 'running'; readonly workerId: string }
  | { readonly id: string; readonly was: 'finished'; readonly state: string };

export interface CancelContext {
  readonly redis: Redis;
  readonly keys: Keys;
}

export interface CancelOptions {
  /** The time to record (epoch ms); default the Redis clock. */
  nowMs?: number;
}

/** Slots whose in-flight values are read per MGET while looking for a running job. */
const SLOTS_PER_READ = 500;
const SCAN_COUNT = 1000;

export async function cancelJob(
  ctx: CancelContext,
  idInput: string,
  options: CancelOptions = {},
): Promise<CancelResult> {
  const id = checkJobId(idInput);
  const { redis, keys } = ctx;
  const now = options.nowMs === undefined ? '' : String(options.nowMs);
  const [tombstoned, state] = await runScript<[number, string]>(
    redis,
    CANCEL_SCRIPTS.tombstone,
    [keys.cancelledQueued, keys.jobStatus(id)],
    [id, now],
  );
  if (tombstoned === 0) return { id, was: 'finished', state };
  if (await cancelDelayed(ctx, id, now)) return { id, was: 'delayed' };
  if (await cancelRetrying(ctx, id, now)) return { id, was: 'retrying' };
  const workerId = await cancelRunning(ctx, id, now);
  if (workerId !== undefined) return { id, was: 'running', workerId };
  await runScript(redis, CANCEL_SCRIPTS.mark, [keys.jobStatus(id)], [id, now, keys.jobEvents(id)]);
  // A record still saying `delayed` of a job no longer in the delayed index: promoted, it waits on its queue
  // (promotion leaves records alone, docs/status.md).
  return { id, was: state === 'queued' || state === 'delayed' ? 'queued' : 'unknown' };
}

/** The members of a sorted set that match `pattern`, by ZSCAN (cancel is rare; the sets have no index by id). */
async function scanMembers(redis: Redis, key: string, pattern: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, flat] = await redis.zscan(key, cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT);
    for (let i = 0; i < flat.length; i += 2) found.push(flat[i]!);
    cursor = next;
  } while (cursor !== '0');
  return found;
}

/** A resque-ts delayed job, found by its member of `ts:delayed:due` (`<sequence>-<id>`). */
async function cancelDelayed(ctx: CancelContext, id: string, now: string): Promise<boolean> {
  const { redis, keys } = ctx;
  for (const member of await scanMembers(redis, keys.delayedDue, `*-${id}`)) {
    if (!/^\d+-/.test(member) || member.slice(member.indexOf('-') + 1) !== id) continue;
    const record = decodeRecord(await redis.hget(keys.delayedRecords, member));
    if (!record || record.id !== id) continue;
    const scriptKeys = [
      keys.delayedSchedule,
      keys.delayedDue,
      keys.delayedRecords,
      keys.delayedByItem,
      keys.delayedAt(record.second),
      keys.timestamps(record.item),
      keys.cancelledQueued,
      keys.jobStatus(id),
    ];
    const args = [
      member,
      String(record.second),
      keys.delayedMember(record.second),
      record.item,
      byItemField(record.second, record.item),
      id,
      now,
      keys.jobEvents(id),
    ];
    if ((await runScript<number>(redis, CANCEL_SCRIPTS.delayed, scriptKeys, args)) === 1) {
      await freeUniqueLock(ctx, id, record.unique);
      return true;
    }
  }
  return false;
}

/** A job waiting for its next attempt: its member of `ts:retry` holds its bytes, with `"id":"<id>"`. */
async function cancelRetrying(ctx: CancelContext, id: string, now: string): Promise<boolean> {
  const { redis, keys } = ctx;
  for (const member of await scanMembers(redis, keys.retrySet, `*"id":"${id}"*`)) {
    const scriptKeys = [keys.retrySet, keys.cancelledQueued, keys.jobStatus(id)];
    const args = [member, id, now, keys.jobEvents(id)];
    if ((await runScript<number>(redis, CANCEL_SCRIPTS.retry, scriptKeys, args)) === 1) {
      await freeUniqueLockOfItem(ctx, parseInflight(member)?.raw ?? '');
      return true;
    }
  }
  return false;
}

/**
 * A running job: the registered slots' in-flight values are read (one MGET per 500 slots) for `"id":"<id>"`; the
 * slot holding it is asked to cancel it. Returns the slot, or undefined when no slot holds it.
 */
async function cancelRunning(ctx: CancelContext, id: string, now: string): Promise<string | undefined> {
  const { redis, keys } = ctx;
  const slots = await redis.smembers(keys.workers);
  const needle = `"id":"${id}"`;
  for (let i = 0; i < slots.length; i += SLOTS_PER_READ) {
    const chunk = slots.slice(i, i + SLOTS_PER_READ);
    const values = await redis.mget(chunk.map((slot) => keys.inflight(slot)));
    for (const [j, value] of values.entries()) {
      if (!value?.includes(needle)) continue;
      const slot = chunk[j]!;
      const asked = await runScript<number>(
        redis,
        CANCEL_SCRIPTS.running,
        [keys.inflight(slot), keys.cancelRunning],
        [value, id, now, keys.cancelChannel, slot],
      );
      if (asked === 1) return slot;
    }
  }
  return undefined;
}
