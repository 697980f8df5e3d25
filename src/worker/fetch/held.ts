import type { Redis } from 'ioredis';
import {
  type FailureWriteContext,
  failureRecordBytes,
  type NewFailure,
  recordFailureGroup,
} from '../../failure/save.js';
import { attemptError, attemptOf, nextAttemptItem } from '../../protocol/attempts.js';
import type { Keys } from '../../protocol/keys.js';
import { withNumberField } from '../../protocol/payload.js';
import { failureTime } from '../../protocol/time.js';
import { defineScript, runScript } from '../../redis/scripts.js';
import type { JobFailure } from '../outcome.js';
import type { Reservation } from './reservation.js';

const GIVE_BACK = defineScript(new URL('./give_back.lua', import.meta.url));
const FAIL_HELD = defineScript(new URL('./fail_held.lua', import.meta.url));
const DROP_HELD = defineScript(new URL('./drop_held.lua', import.meta.url));
const RETRY_HELD = defineScript(new URL('./retry_held.lua', import.meta.url));

/** How long the reaper's mark on a slot it settled stays (`ts:given-back:<slot>`). */
const MARK_MS = 3_600_000;

export interface HeldContext extends FailureWriteContext {
  readonly redis: Redis;
  readonly keys: Keys;
}

/**
 * Puts a held job back at the head of its queue (it runs next), if its slot still holds that reservation. With
 * `countReturn` the item carries `"returns":n+1`, so a job that keeps killing its worker is noticed. False when the
 * slot no longer held it (it was finished or given back by someone else).
 */
export async function giveBackHeld(
  ctx: HeldContext,
  reservation: Reservation,
  countReturn: boolean,
  by: 'holder' | 'reaper' = 'holder',
) {
  const item =
    countReturn && reservation.payload
      ? withNumberField(reservation.raw, 'returns', reservation.returns + 1)
      : reservation.raw;
  const { keys } = ctx;
  const done = await runScript<number>(
    ctx.redis,
    GIVE_BACK,
    [
      keys.inflight(reservation.slotId),
      keys.worker(reservation.slotId),
      keys.queue(reservation.queue),
      keys.queues,
      keys.givenBack(reservation.slotId),
    ],
    [
      reservation.header,
      item,
      reservation.queue,
      keys.announce,
      by === 'reaper' ? MARK_MS : '',
      keys.limitSpec,
    ],
  );
  return done === 1;
}

/**
 * Moves a held job nobody will finish (its worker is dead) to the failure store, if its slot still holds that reservation, then counts
 * it in its error group. False when the slot no longer held it.
 */
export async function failHeld(ctx: HeldContext, reservation: Reservation, failure: NewFailure) {
  const { keys } = ctx;
  const multi = ctx.config.failureBackend === 'redis_multi_queue';
  const listName = multi ? keys.failedQueueName(failure.queue) : '';
  const dated = { ...failure, failedAt: failure.failedAt ?? new Date() };
  const done = await runScript<number>(
    ctx.redis,
    FAIL_HELD,
    [
      keys.inflight(reservation.slotId),
      keys.worker(reservation.slotId),
      multi ? keys.failedList(listName) : keys.failed,
      keys.failedQueues,
      keys.failedCount,
      keys.givenBack(reservation.slotId),
    ],
    [reservation.header, failureRecordBytes(dated), listName, MARK_MS, keys.limitSpec, keys.announce],
  );
  if (done !== 1) return false;
  await recordFailureGroup(ctx.redis, ctx, dated);
  return true;
}

/** Deletes a held job's in-flight entry if it still holds that reservation (its job was dealt with elsewhere). */
export async function dropHeld(ctx: Pick<HeldContext, 'redis' | 'keys'>, reservation: Reservation) {
  const done = await runScript<number>(
    ctx.redis,
    DROP_HELD,
    [ctx.keys.inflight(reservation.slotId), ctx.keys.givenBack(reservation.slotId)],
    [reservation.header, MARK_MS, ctx.keys.limitSpec, ctx.keys.announce],
  );
  return done === 1;
}

/**
 * Ends a failed attempt that will be retried (retry_held.lua): out of its slot, counted as processed and failed, and
 * its next attempt filed `delayMs` after `nowMs` with the attempt's error in its history (and `attempts`, the job's
 * attempts in all, for display), in one step; then the error is counted in its group. `gone` when the slot no longer
 * held it; `cancelled` when nothing was done because `resque.cancel` reached the job after its attempt failed (its
 * tombstone is there): the caller ends it as cancelled, so the cancel is not left to wait for the retry's due time.
 */
export async function retryHeld(
  ctx: HeldContext,
  reservation: Reservation,
  failure: JobFailure,
  delayMs: number,
  nowMs: number,
  attempts?: number,
): Promise<'filed' | 'gone' | 'cancelled'> {
  const { keys } = ctx;
  const payload = reservation.payload;
  if (!payload) throw new Error(`Cannot retry ${reservation.slotId}'s job: its payload is not a job`);
  const failedAt = new Date(nowMs);
  const entry = attemptError(attemptOf(payload), failureTime(failedAt), failure);
  const item = nextAttemptItem(reservation.raw, payload, entry, nowMs + delayMs, attempts);
  const done = await runScript<number>(
    ctx.redis,
    RETRY_HELD,
    [
      keys.inflight(reservation.slotId),
      keys.worker(reservation.slotId),
      keys.retrySet,
      keys.processed,
      keys.failedCount,
      keys.queue(reservation.queue),
      keys.queues,
      keys.cancelledQueued,
    ],
    [
      reservation.header,
      item,
      nowMs,
      delayMs,
      reservation.queue,
      keys.announce,
      keys.delayedWakeChannel,
      keys.limitSpec,
      reservation.jobId ?? '',
    ],
  );
  if (done === 0) return 'gone';
  if (done === 2) return 'cancelled';
  await recordFailureGroup(ctx.redis, ctx, { ...reservation.failureRecord(failure), failedAt });
  return 'filed';
}
