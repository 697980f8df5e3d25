import { decodeFailureRecord, type FailureRecord } from '../protocol/failure-record.js';
import type { JsonValue } from '../protocol/json.js';
import { compactJson, rawMember, withStringMember } from '../protocol/raw-json.js';
import { failureTime, parseResqueTime } from '../protocol/time.js';
import { groupId, groupSignature, payloadClass } from './grouping.js';
import { formatFailureId } from './identity.js';

/**
 * One failure as stored, with its id and the fields people filter and sort on. The store returns objects whose `id` and
 * `groupId` are computed on first read: `JSON.stringify` includes them, object spread does not.
 */
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

/** Reads one stored record. */
export function toFailure(list: string, index: number, raw: string): Failure {
  return new StoredFailure(list, index, raw);
}

/** A stored record; `id` and `groupId` are computed when first read (a sweep of 100,000 records needs neither). */
class StoredFailure implements Failure {
  readonly record: FailureRecord;
  readonly readable: boolean;
  readonly queue: string;
  readonly className: string | undefined;
  readonly args: JsonValue[] | undefined;
  readonly failedAt: Date | undefined;
  readonly retriedAt: Date | undefined;
  #id: string | undefined;
  #groupId: string | undefined;

  constructor(
    readonly list: string,
    readonly index: number,
    readonly raw: string,
  ) {
    const decoded = decodeFailureRecord(raw);
    this.record = decoded ?? unreadable(raw);
    this.readable = decoded !== undefined;
    const payload = this.record.payload;
    const job =
      payload !== null && typeof payload === 'object' && !Array.isArray(payload) ? payload : undefined;
    this.queue = this.record.queue;
    this.className = payloadClass(payload);
    this.args = Array.isArray(job?.['args']) ? job['args'] : undefined;
    this.failedAt = parseResqueTime(this.record.failed_at);
    const retriedAt = this.record.retried_at;
    this.retriedAt = typeof retriedAt === 'string' ? parseResqueTime(retriedAt) : undefined;
  }

  get id(): string {
    this.#id ??= formatFailureId(this.list, this.index, this.raw);
    return this.#id;
  }

  get groupId(): string {
    this.#groupId ??= groupId(groupSignature(this.record));
    return this.#groupId;
  }

  toJSON(): Failure {
    return failureFields(this);
  }
}

/** A failure's fields as a plain object (its computed `id` and `groupId` included): what `JSON.stringify` shows. */
export function failureFields(failure: Failure): Failure {
  const { id, list, index, raw, record, readable, queue, className, args, failedAt, retriedAt, groupId } =
    failure;
  return { id, list, index, raw, record, readable, queue, className, args, failedAt, retriedAt, groupId };
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
  /**
   * `{"class":…,"args":…}` with the args' bytes untouched (Ruby's floats and big integers survive); a job that had
   * a resque-ts id keeps it and gains a new `enqueued_at` and a `retried_at` (epoch seconds, the same instant).
   */
  job: string;
  /** The record with `retried_at` set (replaced in place, or appended as the last key). */
  record: string;
}

/** When a retry happens: as the failure record writes it, and as a payload does (epoch seconds). */
export interface RetryTime {
  record: string;
  epochSeconds: number;
}

export function retryTime(date: Date): RetryTime {
  return { record: failureTime(date), epochSeconds: date.getTime() / 1000 };
}

/** Builds a retry's writes, or returns why the failure cannot be retried. */
export function retryWrite(failure: Failure, at: RetryTime): RetryWrite | string {
  if (!failure.readable) return 'its record is not JSON';
  if (failure.queue === '') return 'its record names no queue';
  const job = cleanJob(failure.raw, at.epochSeconds);
  if (typeof job === 'string' && job.startsWith('{')) {
    return { queue: failure.queue, job, record: withStringMember(failure.raw, 'retried_at', at.record) };
  }
  return job;
}

function cleanJob(raw: string, now: number): string {
  const payload = rawMember(raw, 'payload');
  if (!payload || raw[payload.valueStart] !== '{') return 'its payload is not a job';
  const className = rawMember(raw, 'class', payload.valueStart);
  const args = rawMember(raw, 'args', payload.valueStart);
  const classText = className ? raw.slice(className.valueStart, className.valueEnd) : '';
  if (!classText.startsWith('"') || classText === '""') return 'its payload has no class';
  if (!args || raw[args.valueStart] !== '[') return 'its payload has no args array';
  const name = JSON.parse(classText) as string;
  const head = `{"class":${JSON.stringify(name)},"args":${compactJson(raw.slice(args.valueStart, args.valueEnd))}`;
  // Ruby's requeue pushes class and args only; a job resque-ts enqueued keeps its id, so its story continues.
  const id = rawMember(raw, 'id', payload.valueStart);
  const idText = id ? raw.slice(id.valueStart, id.valueEnd) : '';
  if (!idText.startsWith('"') || idText === '""') return `${head}}`;
  // Its retry options given at enqueue stay too; its attempts start again from the first.
  const retry = rawMember(raw, 'retry', payload.valueStart);
  const retryText = retry && raw[retry.valueStart] === '{' ? raw.slice(retry.valueStart, retry.valueEnd) : '';
  const options = retryText ? `,"retry":${compactJson(retryText)}` : '';
  return `${head},"id":${compactJson(idText)},"enqueued_at":${now},"retried_at":${now}${options}}`;
}
