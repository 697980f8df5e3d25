import type { ChainableCommander } from 'ioredis';
import type { ResolvedConfig } from '../config/resolve.js';
import { encodeFailureRecord, type FailureRecord } from '../protocol/failure-record.js';
import type { JsonValue } from '../protocol/json.js';
import type { Keys } from '../protocol/keys.js';
import { failureTime } from '../protocol/time.js';
import { VERSION } from '../version.js';
import { groupSignature } from './grouping.js';
import { DEFAULT_GROUP_LIMITS, type GroupLimits, queueGroupUpdate } from './groups.js';

/** A failure about to be written. */
export interface NewFailure {
  /** The queue item's own bytes when they are a JSON object: spliced in untouched (Ruby's big integers survive). */
  rawPayload: string | undefined;
  /** The decoded payload (used when rawPayload is absent; null for items that were not JSON). */
  payload: JsonValue;
  exception: string;
  error: string;
  backtrace: string[];
  worker: string;
  queue: string;
  failedAt?: Date;
  /** Extra fields after Ruby's (`raw`: bytes of an item that was not JSON, so nothing is lost). */
  extra?: Record<string, JsonValue>;
}

export interface FailureWriteContext {
  readonly keys: Keys;
  /** `release` (default: the package version) is recorded as the release that first produced an error group. */
  readonly config: Pick<ResolvedConfig, 'failureBackend'> & Partial<Pick<ResolvedConfig, 'release'>>;
  /** Bounds of the error groups; `false` writes the failure without updating its group. */
  readonly groups?: GroupLimits | false;
}

/** The record exactly as it will be stored. */
export function failureRecordBytes(failure: NewFailure): string {
  const record: FailureRecord = {
    failed_at: failureTime(failure.failedAt ?? new Date()),
    payload: failure.payload,
    exception: failure.exception,
    error: failure.error,
    backtrace: failure.backtrace,
    worker: failure.worker,
    queue: failure.queue,
    ...(failure.extra ?? {}),
  };
  return encodeFailureRecord(record, failure.rawPayload);
}

/**
 * Queues the writes of one failure on a pipeline: RPUSH to `failed` (or `<queue>_failed` + SADD failed_queues with
 * the redis_multi_queue backend), as Ruby's backends do, then the update of its error group (a Lua script).
 * The caller adds its own counters and executes.
 */
export function queueFailureWrite(
  pipeline: ChainableCommander,
  ctx: FailureWriteContext,
  failure: NewFailure,
): ChainableCommander {
  const dated = { ...failure, failedAt: failure.failedAt ?? new Date() };
  const bytes = failureRecordBytes(dated);
  if (ctx.config.failureBackend === 'redis_multi_queue') {
    const listName = ctx.keys.failedQueueName(failure.queue);
    pipeline.rpush(ctx.keys.failedList(listName), bytes).sadd(ctx.keys.failedQueues, listName);
  } else {
    pipeline.rpush(ctx.keys.failed, bytes);
  }
  return queueFailureGroupUpdate(pipeline, ctx, dated);
}

/**
 * Queues only the error-group update of a failure, for writers that store the record by other means (e.g. a Lua
 * script that moves an in-flight job to the failure list). A no-op when `ctx.groups` is false.
 */
export function queueFailureGroupUpdate(
  pipeline: ChainableCommander,
  ctx: FailureWriteContext,
  failure: NewFailure,
): ChainableCommander {
  if (ctx.groups === false) return pipeline;
  return queueGroupUpdate(
    pipeline,
    ctx.keys,
    {
      signature: groupSignature(failure),
      queue: failure.queue,
      error: failure.error,
      at: failure.failedAt ?? new Date(),
    },
    ctx.config.release ?? VERSION,
    ctx.groups ?? DEFAULT_GROUP_LIMITS,
  );
}
