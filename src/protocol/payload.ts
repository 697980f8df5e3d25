import { MalformedPayloadError } from '../errors/index.js';
import type { JsonObject, JsonValue } from './json.js';

/** A decoded queue item. `class` and `args` are Resque's; the rest is optional metadata other clients may add. */
export interface JobPayload {
  class: string;
  args: JsonValue[];
  /** resque-ts job id (absent in strict mode and in jobs pushed by Ruby). */
  id?: string;
  /** Epoch seconds (fractional) when the job was enqueued, for latency figures. */
  enqueued_at?: number;
  /** Times the reaper returned this job to its queue after its worker died. */
  returns?: number;
  /** Which attempt this is, written when the job is retried (docs/retries.md); absent on the first. */
  attempt?: number;
  /** The errors of the attempts before this one, oldest first, bounded (protocol/attempts.ts). */
  errors?: JsonValue;
  /** Retry options given at enqueue (`withRetry`): `{"attempts","backoff"}`. */
  retry?: JsonValue;
  /** Present only on a job whose status is tracked (docs/status.md): the TTL of its status record, in ms. */
  status?: number;
  /** The job's concurrency key, worked out at enqueue from a keyed limit (jobs/concurrency.ts); Ruby ignores it. */
  concurrency_key?: string;
  /** The job's rate key, worked out at enqueue from a keyed rate limit (jobs/rate.ts); Ruby ignores it. */
  rate_key?: string;
  /** The job's tenant, worked out at enqueue (jobs/tenant.ts); Ruby ignores it. */
  tenant?: string;
  /** The trace context of the enqueue's span (`traceparent`, `tracestate`), written with tracing on; Ruby ignores it. */
  trace?: JsonObject;
  /** The job's unique lock, `{"key","mode","ttl"}` (jobs/unique.ts); Ruby ignores it. */
  unique?: JsonValue;
  [extra: string]: JsonValue | undefined;
}

export interface EncodeMetadata {
  id: string;
  enqueuedAt: number;
  /** Retry options of this enqueue, written as `"retry"` after the others. */
  retry?: JsonObject | undefined;
  /** The status record's TTL (ms) of a tracked job, written as `"status"` right after `"retry"`. */
  statusTtlMs?: number | undefined;
  /** The concurrency key of this enqueue, written as `"concurrency_key"` last. */
  concurrencyKey?: string | undefined;
  /** The rate key of this enqueue, written as `"rate_key"` after the concurrency key. */
  rateKey?: string | undefined;
  /** The tenant of this enqueue, written as `"tenant"` after the rate key. */
  tenant?: string | undefined;
  /** The trace context of the enqueue's span, written as `"trace"` last (docs/operations.md, "Traces"). */
  trace?: JsonObject | undefined;
  /** The unique lock of this enqueue, `{"key","mode","ttl"}` (jobs/unique.ts), written as `"unique"` after the tenant. */
  unique?: JsonObject | undefined;
}

/**
 * Encodes a queue item with Ruby's key order: `{"class":…,"args":[…]}` then, unless strict, `"id"`, `"enqueued_at"`
 * the enqueue's `"retry"` options if it has any, `"status"` if its status is tracked, its `"concurrency_key"` if its
 * class has a keyed limit and its
 * `"rate_key"` if it has a keyed rate limit, its `"tenant"` if its class names one, its `"unique"` lock if its class
 * is unique, and its `"trace"` context when tracing is on. `args` must already be checked with assertJsonSafe.
 */
export function encodePayload(className: string, args: readonly JsonValue[], meta?: EncodeMetadata): string {
  return `${payloadHead(className)}${JSON.stringify(args)}${meta ? metadataMembers(meta) : ''}}`;
}

/** What every payload of class `className` starts with, up to its args: `{"class":…,"args":`. */
export function payloadHead(className: string): string {
  return `{"class":${JSON.stringify(className)},"args":`;
}

/**
 * encodePayload for a job with an id and enqueue time and no other metadata, from its class's payloadHead (worked
 * out once per class): the same bytes.
 */
export function encodeIdentified(
  head: string,
  args: readonly JsonValue[],
  id: string,
  enqueuedAt: number,
): string {
  return `${head}${JSON.stringify(args)},"id":${JSON.stringify(id)},"enqueued_at":${enqueuedAt}}`;
}

/** The members resque-ts adds after `"args"`, in their order, each with its leading comma. */
export function metadataMembers(meta: EncodeMetadata): string {
  const key =
    (meta.concurrencyKey === undefined ? '' : `,"concurrency_key":${JSON.stringify(meta.concurrencyKey)}`) +
    (meta.rateKey === undefined ? '' : `,"rate_key":${JSON.stringify(meta.rateKey)}`) +
    (meta.tenant === undefined ? '' : `,"tenant":${JSON.stringify(meta.tenant)}`) +
    uniqueMember(meta);
  return `,"id":${JSON.stringify(meta.id)},"enqueued_at":${meta.enqueuedAt}${retryMember(meta)}${statusMember(meta)}${key}${traceMember(meta)}`;
}

/** `,"trace":{…}` when the enqueue carries a trace context, else nothing. */
export function traceMember(meta: Pick<EncodeMetadata, 'trace'>): string {
  return meta.trace ? `,"trace":${JSON.stringify(meta.trace)}` : '';
}

/** `,"retry":{…}` when the enqueue has retry options, else nothing. */
export function retryMember(meta: Pick<EncodeMetadata, 'retry'>): string {
  return meta.retry ? `,"retry":${JSON.stringify(meta.retry)}` : '';
}

/** `,"status":<ttl ms>` when the job's status is tracked, else nothing. */
export function statusMember(meta: Pick<EncodeMetadata, 'statusTtlMs'>): string {
  return meta.statusTtlMs === undefined ? '' : `,"status":${meta.statusTtlMs}`;
}

/** `,"unique":{…}` when the enqueue has a unique lock, else nothing. */
export function uniqueMember(meta: Pick<EncodeMetadata, 'unique'>): string {
  return meta.unique ? `,"unique":${JSON.stringify(meta.unique)}` : '';
}

/** Decodes a queue item, throwing MalformedPayloadError with the reason when it is not a Resque job. */
export function decodePayload(raw: string): JobPayload {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    throw new MalformedPayloadError(`not JSON (${(error as Error).message})`, raw);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new MalformedPayloadError(
      `expected a JSON object, got ${Array.isArray(value) ? 'an array' : typeof value}`,
      raw,
    );
  }
  const object = value as JsonObject;
  if (typeof object['class'] !== 'string' || object['class'] === '') {
    throw new MalformedPayloadError('"class" is missing or not a string', raw);
  }
  if (!Array.isArray(object['args']))
    throw new MalformedPayloadError('"args" is missing or not an array', raw);
  return object as unknown as JobPayload;
}

/** Ruby's exact-match form (used by dequeue with args and by retry): `{"class","args"}` and nothing else. */
export function cleanPayload(payload: Pick<JobPayload, 'class' | 'args'>): string {
  return encodePayload(payload.class, payload.args);
}

/** Adds or replaces a top-level numeric field of an encoded JSON object without re-encoding the rest (keeps Ruby's bytes). */
export function withNumberField(raw: string, field: string, value: number): string {
  const pattern = new RegExp(`,"${field}":-?\\d+(?=[,}])`);
  if (pattern.test(raw)) return raw.replace(pattern, `,"${field}":${value}`);
  const end = raw.lastIndexOf('}');
  return `${raw.slice(0, end)},"${field}":${value}${raw.slice(end)}`;
}
