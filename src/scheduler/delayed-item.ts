import { createHash } from 'node:crypto';
import {
  decodePayload,
  type EncodeMetadata,
  encodePayload,
  type JobPayload,
  metadataMembers,
} from '../protocol/payload.js';

/**
 * resque-scheduler's delayed item, byte for byte: `{"class":…,"args":…,"queue":…}` and nothing else, because
 * resque-scheduler finds and removes items by their exact bytes (`timestamps:<item>`, LREM).
 */
export function encodeDelayedItem(className: string, args: readonly unknown[], queue: string): string {
  return `{"class":${JSON.stringify(className)},"args":${JSON.stringify(args)},"queue":${JSON.stringify(queue)}}`;
}

/**
 * The second a job due at `dueMs` is filed under. Ruby promotes a second's list once that second has come, so the
 * ceiling keeps a Ruby master from running the job early; resque-ts's own index keeps the millisecond.
 */
export function bucketSecond(dueMs: number): number {
  return Math.ceil(dueMs / 1000);
}

/** The field of `ts:delayed:by-item` listing resque-ts's copies of one item at one second. */
export function byItemField(second: number, item: string): string {
  return `${second}:${createHash('sha1').update(item).digest('hex')}`;
}

export interface DecodedItem {
  className: string;
  args: JobPayload['args'];
  /** Undefined when the item names no queue (Ruby then asks the class, which only the application knows). */
  queue: string | undefined;
}

/** Decodes a delayed item, throwing MalformedPayloadError with the reason when it is not one. */
export function decodeDelayedItem(raw: string): DecodedItem {
  const payload = decodePayload(raw);
  const queue =
    typeof payload['queue'] === 'string' && payload['queue'] !== '' ? payload['queue'] : undefined;
  return { className: payload.class, args: payload.args, queue };
}

/**
 * The queue payload for a delayed item: Ruby's master pushes `{"class","args"}`; resque-ts adds its metadata as any
 * enqueue does. Cut from the item's own bytes when it ends with the `"queue"` field as written here and by Ruby, so
 * `2.0` stays `2.0`; re-encoded otherwise.
 */
export function payloadFromItem(raw: string, decoded: DecodedItem, meta?: EncodeMetadata): string {
  const suffix = decoded.queue === undefined ? undefined : `,"queue":${JSON.stringify(decoded.queue)}}`;
  if (suffix !== undefined && raw.endsWith(suffix)) {
    const head = raw.slice(0, raw.length - suffix.length);
    return `${head}${meta ? metadataMembers(meta) : ''}}`;
  }
  return encodePayload(decoded.className, decoded.args, meta);
}
