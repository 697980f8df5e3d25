import type { ChainableCommander } from 'ioredis';
import type { ResolvedConfig } from '../config/resolve.js';
import { encodeFailureRecord, type FailureRecord } from '../protocol/failure-record.js';
import type { JsonValue } from '../protocol/json.js';
import type { Keys } from '../protocol/keys.js';
import { failureTime } from '../protocol/time.js';

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
  readonly config: Pick<ResolvedConfig, 'failureBackend'>;
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
 * the redis_multi_queue backend), as Ruby's backends do. The caller adds its own counters and executes.
 */
export function queueFailureWrite(
  pipeline: ChainableCommander,
  ctx: FailureWriteContext,
  failure: NewFailure,
): ChainableCommander {
  const bytes = failureRecordBytes(failure);
  if (ctx.config.failureBackend === 'redis_multi_queue') {
    const listName = ctx.keys.failedQueueName(failure.queue);
    return pipeline.rpush(ctx.keys.failedList(listName), bytes).sadd(ctx.keys.failedQueues, listName);
  }
  return pipeline.rpush(ctx.keys.failed, bytes);
}
