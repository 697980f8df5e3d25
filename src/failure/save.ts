import type { ChainableCommander, Redis } from 'ioredis';
import type { ResolvedConfig } from '../config/resolve.js';
import { encodeFailureRecord, type FailureRecord } from '../protocol/failure-record.js';
import type { JsonValue } from '../protocol/json.js';
import type { Keys } from '../protocol/keys.js';
import { failureTime } from '../protocol/time.js';
import { runScripts, type ScriptCall } from '../redis/scripts.js';
import { VERSION } from '../version.js';
import { groupSignature } from './grouping.js';
import { DEFAULT_GROUP_LIMITS, type GroupLimits, groupUpdateCall, queueGroupUpdate } from './groups.js';

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
  if (ctx.groups === false) return pipeline;
  return queueGroupUpdate(
    pipeline,
    ctx.keys,
    groupedFailure(dated),
    ctx.config.release ?? VERSION,
    ctx.groups ?? DEFAULT_GROUP_LIMITS,
  );
}

/**
 * Only the error-group update of a failure (none when `ctx.groups` is false), for writers that store the record by
 * other means (e.g. a Lua script that moves an in-flight job to the failure list) and send it with calls of their own.
 */
export function failureGroupCalls(ctx: FailureWriteContext, failure: NewFailure): ScriptCall[] {
  if (ctx.groups === false) return [];
  return [
    groupUpdateCall(
      ctx.keys,
      groupedFailure(failure),
      ctx.config.release ?? VERSION,
      ctx.groups ?? DEFAULT_GROUP_LIMITS,
    ),
  ];
}

/** Runs only the error-group update of a failure, by SHA (see failureGroupCalls). */
export async function recordFailureGroup(
  redis: Redis,
  ctx: FailureWriteContext,
  failure: NewFailure,
): Promise<void> {
  await runScripts(redis, failureGroupCalls(ctx, failure));
}

function groupedFailure(failure: NewFailure) {
  return {
    signature: groupSignature(failure),
    queue: failure.queue,
    error: failure.error,
    at: failure.failedAt ?? new Date(),
  };
}
