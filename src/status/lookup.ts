// What `resque.status(id)`, `resque job <id>` and the dashboard's job page know of one job. A tracked job has its
// record; of any job with an id (an untracked one, or a tracked one whose record expired) what Redis shows without
// walking a queue: a slot running it, the retry set, resque-ts's delayed index, the newest failures.
import type { Redis } from 'ioredis';
import { type AttemptError, attemptOf, errorHistoryOf } from '../protocol/attempts.js';
import type { JsonValue } from '../protocol/json.js';
import type { Keys } from '../protocol/keys.js';
import { decodePayload, type JobPayload } from '../protocol/payload.js';
import { parseResqueTime } from '../protocol/time.js';
import { decodeWorkerStatus } from '../protocol/worker-status.js';
import { parseInflight } from '../worker/fetch/inflight.js';
import { type JobStatus, parseStatusRecord } from './record.js';

/** Members of `ts:retry` and `ts:delayed:due` looked at, at most, for an untracked job (ZSCAN with MATCH). */
export const SCAN_LIMIT = 10_000;
/** The newest failure records looked at for an untracked job. */
export const RECENT_FAILURES = 100;

export interface LookupContext {
  readonly redis: Redis;
  readonly keys: Keys;
}

/** A failure record of the job, as the failure store keeps it. */
export interface JobFailureRecord {
  /** The failure list holding it (`failed`, `<queue>_failed`). */
  readonly list: string;
  readonly exception: string;
  readonly error: string;
  readonly backtrace: string[];
  /** As Ruby writes it: `2026/11/27 22:09:46 UTC`. */
  readonly failedAt: string;
  readonly worker: string;
}

/** Everything known of one job, for its page: its status, its payload as last seen, its attempts' errors. */
export interface JobStory {
  readonly status: JobStatus;
  /** The job's payload where it was found (a slot, the retry set, a failure record); undefined when not found. */
  readonly payload?: JobPayload;
  /** The failed attempts before the latest, oldest first (the payload's `"errors"`). */
  readonly errors: AttemptError[];
  readonly failure?: JobFailureRecord;
}

/** The job's status: its record (a delayed one past its due time reads `queued`), else what can be inferred. */
export async function jobStatus(
  ctx: LookupContext,
  id: string,
  now: number = Date.now(),
): Promise<JobStatus> {
  const record = await readRecord(ctx, id, now);
  if (record) return record;
  return (await inferred(ctx, id, undefined)).status;
}

/** The job's status and whatever else Redis holds about it. */
export async function jobStory(ctx: LookupContext, id: string, now: number = Date.now()): Promise<JobStory> {
  const record = await readRecord(ctx, id, now);
  const found = await inferred(ctx, id, record?.queue);
  if (!record) return found;
  return { ...found, status: record };
}

async function readRecord(ctx: LookupContext, id: string, now: number): Promise<JobStatus | undefined> {
  const record = parseStatusRecord(id, await ctx.redis.hgetall(ctx.keys.jobStatus(id)));
  // Promotion does not touch the record: a delayed job past its due time is on its queue, or about to be.
  if (record?.state === 'delayed' && record.nextAt !== undefined && record.nextAt <= now)
    return { ...record, state: 'queued' };
  return record;
}

async function inferred(ctx: LookupContext, id: string, queue: string | undefined): Promise<JobStory> {
  const running = await findRunning(ctx, id);
  if (running) return running;
  const retrying = await findRetrying(ctx, id);
  if (retrying) return retrying;
  const delayed = await findDelayed(ctx, id);
  if (delayed) return delayed;
  const failed = await findFailed(ctx, id, queue);
  if (failed) return failed;
  return { status: { id, state: 'unknown', source: 'none' }, errors: [] };
}

/** A registered slot whose `worker:<slot>` status holds the job. O(slots). */
async function findRunning(ctx: LookupContext, id: string): Promise<JobStory | undefined> {
  const slots = await ctx.redis.smembers(ctx.keys.workers);
  if (slots.length === 0) return undefined;
  const statuses = await ctx.redis.mget(slots.map((slot) => ctx.keys.worker(slot)));
  for (const [i, raw] of statuses.entries()) {
    const status = decodeWorkerStatus(raw);
    const payload = payloadOf(status?.payload);
    if (!status || payload?.id !== id) continue;
    return {
      status: {
        id,
        state: 'running',
        source: 'inferred',
        className: payload.class,
        queue: status.queue,
        worker: slots[i]!,
        ...timeField('startedAt', parseResqueTime(status.run_at)?.getTime()),
        ...enqueuedAt(payload),
        attempt: attemptOf(payload),
        ...returnsOf(payload),
      },
      payload,
      errors: errorHistoryOf(payload),
    };
  }
  return undefined;
}

/** The job's member of the retry set: `<token>\n<queue>\n<item>` whose item carries its id. */
async function findRetrying(ctx: LookupContext, id: string): Promise<JobStory | undefined> {
  const pattern = `*"id":${escapeGlob(JSON.stringify(id))}*`;
  const hit = await zscanFirst(ctx.redis, ctx.keys.retrySet, pattern);
  if (!hit) return undefined;
  const held = parseInflight(hit.member);
  const payload = payloadOf(held?.raw);
  if (!held || payload?.id !== id) return undefined;
  const errors = errorHistoryOf(payload);
  const last = errors.at(-1);
  return {
    status: {
      id,
      state: 'retrying',
      source: 'inferred',
      className: payload.class,
      queue: held.queue,
      ...enqueuedAt(payload),
      attempt: attemptOf(payload) - 1,
      ...returnsOf(payload),
      nextAt: hit.score,
      ...(last ? { error: { class: last.exception, message: last.error } } : {}),
    },
    payload,
    errors,
  };
}

/** resque-ts's delayed index: members `<sequence>-<id>`. */
async function findDelayed(ctx: LookupContext, id: string): Promise<JobStory | undefined> {
  const hit = await zscanFirst(ctx.redis, ctx.keys.delayedDue, `*-${escapeGlob(id)}`);
  if (!hit?.member.endsWith(`-${id}`)) return undefined;
  return {
    status: { id, state: 'delayed', source: 'inferred', nextAt: hit.score },
    errors: [],
  };
}

/** The newest failure records of `failed` (and `<queue>_failed` when the queue is known). */
async function findFailed(
  ctx: LookupContext,
  id: string,
  queue: string | undefined,
): Promise<JobStory | undefined> {
  const lists = queue === undefined ? ['failed'] : ['failed', `${queue}_failed`];
  for (const list of lists) {
    const records = await ctx.redis.lrange(ctx.keys.failedList(list), -RECENT_FAILURES, -1);
    for (const raw of records.reverse()) {
      if (!raw.includes(id)) continue;
      const record = parseObject(raw);
      const payload = payloadOf(record?.['payload']);
      if (!record || payload?.id !== id) continue;
      const failure: JobFailureRecord = {
        list,
        exception: String(record['exception'] ?? ''),
        error: String(record['error'] ?? ''),
        backtrace: Array.isArray(record['backtrace']) ? record['backtrace'].map(String) : [],
        failedAt: String(record['failed_at'] ?? ''),
        worker: String(record['worker'] ?? ''),
      };
      return {
        status: {
          id,
          state: 'failed',
          source: 'inferred',
          className: payload.class,
          queue: String(record['queue'] ?? ''),
          ...enqueuedAt(payload),
          attempt: attemptOf(payload),
          ...returnsOf(payload),
          ...timeField('updatedAt', parseResqueTime(failure.failedAt)?.getTime()),
          worker: failure.worker,
          error: { class: failure.exception, message: failure.error },
        },
        payload,
        errors: errorHistoryOf(payload),
        failure,
      };
    }
  }
  return undefined;
}

/** The first member matching `pattern`, looking at no more than SCAN_LIMIT members. */
async function zscanFirst(
  redis: Redis,
  key: string,
  pattern: string,
): Promise<{ member: string; score: number } | undefined> {
  let cursor = '0';
  let looked = 0;
  do {
    const [next, flat] = await redis.zscan(key, cursor, 'MATCH', pattern, 'COUNT', 1000);
    if (flat.length >= 2) return { member: flat[0]!, score: Number(flat[1]) };
    cursor = next;
    looked += 1000;
  } while (cursor !== '0' && looked < SCAN_LIMIT);
  return undefined;
}

/** Glob characters of a MATCH pattern taken literally. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

function payloadOf(value: JsonValue | string | undefined): JobPayload | undefined {
  if (value === undefined || value === null) return undefined;
  try {
    return decodePayload(typeof value === 'string' ? value : JSON.stringify(value));
  } catch {
    return undefined;
  }
}

function parseObject(raw: string): Record<string, JsonValue> | undefined {
  try {
    const value = JSON.parse(raw) as JsonValue;
    return value && typeof value === 'object' && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function enqueuedAt(payload: JobPayload): { enqueuedAt?: number } {
  const at = payload.enqueued_at;
  return typeof at === 'number' && Number.isFinite(at) ? { enqueuedAt: Math.round(at * 1000) } : {};
}

function returnsOf(payload: JobPayload): { returns?: number } {
  return typeof payload.returns === 'number' ? { returns: payload.returns } : {};
}

function timeField<K extends string>(key: K, ms: number | undefined): Partial<Record<K, number>> {
  return ms === undefined || Number.isNaN(ms) ? {} : ({ [key]: ms } as Record<K, number>);
}
