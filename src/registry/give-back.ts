import type { Redis } from 'ioredis';
import { type FailureWriteContext, failureRecordBytes, type NewFailure } from '../failure/save.js';
import { withNumberField } from '../protocol/payload.js';
import { runScript } from '../redis/scripts.js';
import type { InflightJob } from './inflight.js';

interface GiveBackContext extends FailureWriteContext {
  readonly redis: Redis;
}

/**
 * Puts a slot's in-flight job back at the head of its queue (it runs next), if the slot still holds it.
 * With `countReturn`, the item carries `"returns":n` so repeated deaths can be noticed. Returns false when the
 * slot no longer held that job (someone else finished or returned it).
 */
export async function returnToQueue(
  ctx: GiveBackContext,
  slotId: string,
  job: InflightJob,
  countReturn: boolean,
) {
  const item =
    countReturn && isJsonObject(job.raw)
      ? withNumberField(job.raw, 'returns', returnsOf(job.raw) + 1)
      : job.raw;
  const done = await runScript<number>(
    ctx.redis,
    'return_job',
    [ctx.keys.inflight(slotId), ctx.keys.worker(slotId)],
    [ctx.keys.prefix, job.token, 'return', item, '', '', ctx.keys.wakeChannel],
  );
  return done === 1;
}

/** Moves a slot's in-flight job to the failure store, if the slot still holds it. */
export async function failInflight(
  ctx: GiveBackContext,
  slotId: string,
  job: InflightJob,
  failure: NewFailure,
) {
  const multi = ctx.config.failureBackend === 'redis_multi_queue';
  const listName = multi ? ctx.keys.failedQueueName(failure.queue) : '';
  const done = await runScript<number>(
    ctx.redis,
    'return_job',
    [ctx.keys.inflight(slotId), ctx.keys.worker(slotId)],
    [
      ctx.keys.prefix,
      job.token,
      'fail',
      failureRecordBytes(failure),
      multi ? ctx.keys.failedList(listName) : ctx.keys.failed,
      listName,
      ctx.keys.wakeChannel,
    ],
  );
  return done === 1;
}

/** Times the reaper has already returned this item (`"returns":n`), 0 if never or unreadable. */
export function returnsOf(raw: string): number {
  const match = /"returns":(\d+)(?=[,}])/.exec(raw);
  return match ? Number(match[1]) : 0;
}

function isJsonObject(raw: string): boolean {
  try {
    const value: unknown = JSON.parse(raw);
    return value !== null && typeof value === 'object' && !Array.isArray(value);
  } catch {
    return false;
  }
}
