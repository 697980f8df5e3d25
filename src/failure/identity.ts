import { createHash } from 'node:crypto';
import { FailureNotFoundError } from '../errors/index.js';

/**
 * A failure's id: `<list>:<index>:<digest>`, e.g. `failed:12:3f2a9c1b07`. The digest (SHA-1 of the record's bytes,
 * without a trailing `retried_at`, first 10 hex digits) is the identity; list and index say where to look first.
 * Every operation checks the bytes at the place it acts on (Lua compare-and-set), and looks the record up again by
 * digest when it has moved, so an id never acts on another failure (docs/protocol.md, Known weaknesses of Ruby Resque, 7).
 */
export interface FailureId {
  list: string;
  index: number;
  digest: string;
}

export const DIGEST_LENGTH = 10;

/** A `retried_at` appended as the last key, as Ruby and resque-ts both write it. */
const RETRIED_AT_TAIL = /,"retried_at":"(?:[^"\\]|\\.)*"\s*\}\s*$/;

/** The identity digest of a record: stable when it is retried (only `retried_at` changes). */
export function recordDigest(raw: string): string {
  const base = raw.replace(RETRIED_AT_TAIL, '}');
  return createHash('sha1').update(base).digest('hex').slice(0, DIGEST_LENGTH);
}

export function formatFailureId(list: string, index: number, raw: string): string {
  return `${list}:${index}:${recordDigest(raw)}`;
}

/** Failure lists are `failed` and RedisMultiQueue's `<queue>_failed`; an id naming anything else is not ours. */
export function isFailureListName(name: string): boolean {
  return name === 'failed' || (name.endsWith('_failed') && name.length > '_failed'.length);
}

export function parseFailureId(text: string): FailureId {
  const digestAt = text.lastIndexOf(':');
  const indexAt = digestAt > 0 ? text.lastIndexOf(':', digestAt - 1) : -1;
  const list = text.slice(0, Math.max(indexAt, 0));
  const index = Number(text.slice(indexAt + 1, digestAt));
  const digest = text.slice(digestAt + 1);
  const valid =
    indexAt > 0 &&
    isFailureListName(list) &&
    /^\d+$/.test(text.slice(indexAt + 1, digestAt)) &&
    Number.isSafeInteger(index) &&
    new RegExp(`^[0-9a-f]{${DIGEST_LENGTH}}$`).test(digest);
  if (!valid) {
    throw new FailureNotFoundError(
      text,
      'not a failure id (expected <list>:<index>:<digest>, e.g. failed:0:3f2a9c1b07)',
    );
  }
  return { list, index, digest };
}
