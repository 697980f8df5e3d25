import type { LimitKeys } from '../jobs/limit-keys.js';
import type { JsonObject, JsonValue } from '../protocol/json.js';
import { trackedTtl } from '../status/options.js';

/**
 * What resque-ts keeps beside each of its delayed jobs (`ts:delayed:records`, by its member of `ts:delayed:due`), invisible to Ruby:
 * the second and exact item it was filed as (to find it again in `delayed:<second>`), its queue, and whether its
 * payload carries the id (not in strict mode), and the trace context of the span that filed it (tracing on). Promotion reads it to build the payload the job reaches its queue with.
 */
export interface DelayedRecord {
  /** The job id its payload carries. */
  id: string;
  /** The epoch second of the `delayed:<second>` list holding the item. */
  second: number;
  queue: string;
  /** The exact bytes of the item in that list. */
  item: string;
  /** When the job was enqueued (epoch ms). */
  enqueuedAtMs: number;
  /** The payload carries `"id"` and `"enqueued_at"` (false in strict mode). */
  withMetadata: boolean;
  /** Retry options given at enqueue (`withRetry`), for the payload's `"retry"`. */
  retry?: JsonObject | undefined;
  /** The trace context of the span that filed it, for the payload's `"trace"` (the item itself stays Ruby's). */
  trace?: JsonObject | undefined;
  /** A unique job's lock (jobs/unique.ts), for the payload's `"unique"`. */
  unique?: JsonObject | undefined;
  /** The keys and tenant worked out at enqueue (jobs/limit-keys.ts), for the payload and the tenant's list. */
  limitKeys?: LimitKeys | undefined;
  /** The TTL (ms) of its status record when its status is tracked, for the payload's `"status"`. */
  statusTtlMs?: number | undefined;
}

export function encodeRecord(record: DelayedRecord): string {
  return JSON.stringify({
    d: record.id,
    s: record.second,
    q: record.queue,
    i: record.item,
    e: record.enqueuedAtMs,
    m: record.withMetadata ? 1 : 0,
    ...(record.retry ? { r: record.retry } : {}),
    ...(record.trace ? { t: record.trace } : {}),
    ...(record.unique ? { u: record.unique } : {}),
    ...(record.limitKeys?.concurrencyKey === undefined ? {} : { c: record.limitKeys.concurrencyKey }),
    ...(record.limitKeys?.rateKey === undefined ? {} : { k: record.limitKeys.rateKey }),
    ...(record.limitKeys?.tenant === undefined ? {} : { n: record.limitKeys.tenant }),
    ...(record.statusTtlMs !== undefined ? { l: record.statusTtlMs } : {}),
  });
}

/** Undefined when the text is not a record this release wrote. */
export function decodeRecord(text: string | null | undefined): DelayedRecord | undefined {
  if (!text) return undefined;
  try {
    const value = JSON.parse(text) as Record<string, unknown>;
    const { d: id, s: second, q: queue, i: item } = value;
    if (
      typeof id !== 'string' ||
      typeof second !== 'number' ||
      typeof queue !== 'string' ||
      typeof item !== 'string'
    )
      return undefined;
    return {
      id,
      second,
      queue,
      item,
      enqueuedAtMs: typeof value['e'] === 'number' ? value['e'] : 0,
      withMetadata: value['m'] === 1,
      retry: isObject(value['r']) ? value['r'] : undefined,
      trace: isObject(value['t']) ? value['t'] : undefined,
      unique: isObject(value['u']) ? value['u'] : undefined,
      limitKeys: {
        concurrencyKey: stringOrUndefined(value['c']),
        rateKey: stringOrUndefined(value['k']),
        tenant: stringOrUndefined(value['n']),
      },
      statusTtlMs: trackedTtl(value['l'] as JsonValue | undefined),
    };
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
