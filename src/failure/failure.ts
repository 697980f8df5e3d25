import { decodeFailureRecord, type FailureRecord } from '../protocol/failure-record.js';
import type { JsonValue } from '../protocol/json.js';
import { parseResqueTime } from '../protocol/time.js';
import { groupId, groupSignature, payloadClass } from './grouping.js';
import { formatFailureId } from './identity.js';
import { compactJson, rawMember, withStringMember } from './raw-json.js';

/** One failure as stored, with its id and the fields people filter and sort on. */
export interface Failure {
  /** `<list>:<index>:<digest>`: pass it to get/retry/remove. */
  id: string;
  /** The failure list holding it: `failed`, or `<queue>_failed` with the RedisMultiQueue layout. */
  list: string;
  /** Position in that list when read (a hint: the digest in `id` is the identity). */
  index: number;
  /** The record's bytes exactly as stored. */
  raw: string;
  /** The decoded record; a placeholder for bytes that are not a JSON object (`readable` false). */
  record: FailureRecord;
  readable: boolean;
  queue: string;
  className: string | undefined;
  args: JsonValue[] | undefined;
  failedAt: Date | undefined;
  retriedAt: Date | undefined;
  /** The error group it belongs to (see grouping.ts). */
  groupId: string;
}

export function toFailure(list: string, index: number, raw: string): Failure {
  const decoded = decodeFailureRecord(raw);
  const record = decoded ?? unreadable(raw);
  const payload = record.payload;
  const args =
    payload !== null &&
    typeof payload === 'object' &&
    !Array.isArray(payload) &&
    Array.isArray(payload['args'])
      ? payload['args']
      : undefined;
  return {
    id: formatFailureId(list, index, raw),
    list,
    index,
    raw,
    record,
    readable: decoded !== undefined,
    queue: record.queue,
    className: payloadClass(payload),
    args,
    failedAt: parseResqueTime(record.failed_at),
    retriedAt: typeof record.retried_at === 'string' ? parseResqueTime(record.retried_at) : undefined,
    groupId: groupId(groupSignature(record)),
  };
}

function unreadable(raw: string): FailureRecord {
  return {
    failed_at: '',
    payload: null,
    exception: '(unreadable)',
    error: raw.slice(0, 200),
    backtrace: [],
    worker: '',
    queue: '',
  };
}

/** What Ruby's Failure.requeue writes: the record with `retried_at` set, and the clean job pushed to its queue. */
export interface RetryWrite {
  queue: string;
  /** `{"class":…,"args":…}` with the args' bytes untouched (Ruby's floats and big integers survive). */
  job: string;
  /** The record with `retried_at` set (replaced in place, or appended as the last key). */
  record: string;
}

/** Builds a retry's writes, or returns why the failure cannot be retried. */
export function retryWrite(failure: Failure, retriedAt: string): RetryWrite | string {
  if (!failure.readable) return 'its record is not JSON';
  if (failure.queue === '') return 'its record names no queue';
  const job = cleanJob(failure.raw);
  if (typeof job === 'string' && job.startsWith('{')) {
    return { queue: failure.queue, job, record: withStringMember(failure.raw, 'retried_at', retriedAt) };
  }
  return job;
}

function cleanJob(raw: string): string {
  const payload = rawMember(raw, 'payload');
  if (!payload || raw[payload.valueStart] !== '{') return 'its payload is not a job';
  const className = rawMember(raw, 'class', payload.valueStart);
  const args = rawMember(raw, 'args', payload.valueStart);
  const classText = className ? raw.slice(className.valueStart, className.valueEnd) : '';
  if (!classText.startsWith('"') || classText === '""') return 'its payload has no class';
  if (!args || raw[args.valueStart] !== '[') return 'its payload has no args array';
  const name = JSON.parse(classText) as string;
  return `{"class":${JSON.stringify(name)},"args":${compactJson(raw.slice(args.valueStart, args.valueEnd))}}`;
}
