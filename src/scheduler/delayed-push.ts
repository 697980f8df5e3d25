import type { ClientContext } from '../client/context.js';
import {
  assertUniqueAllowed,
  enqueueOne,
  enqueueRetryOf,
  type JobRef,
  queueOf,
  statusTtlFor,
} from '../client/enqueue.js';
import { newJobId } from '../client/job-id.js';
import { hooksFor, type JobDefinition } from '../jobs/define.js';
import { type LimitKeys, limitKeysOf } from '../jobs/limit-keys.js';
import { locksAtEnqueue, type UniqueLock, uniqueLockOf, uniquePayload } from '../jobs/unique.js';
import type { TraceCarrier } from '../observability/tracing.js';
import { assertJsonSafe, type JsonObject, type JsonValue } from '../protocol/json.js';
import { assertClassName } from '../protocol/names.js';
import { queueScript, runScript } from '../redis/scripts.js';
import { pushWithStatus, type TrackedEnqueue } from '../status/enqueue.js';
import { bucketSecond, byItemField, encodeDelayedItem } from './delayed-item.js';
import { encodeRecord } from './delayed-record.js';
import { DELAYED_SCRIPTS } from './scripts.js';

export interface Scheduled {
  queue: string;
  /** The delayed job's id (also the payload's `"id"` unless strict); undefined for a strict immediate enqueue. */
  id: string | undefined;
  /** When it is due (epoch ms). */
  dueAtMs: number;
  /** False when it was already due and went straight to its queue, as Ruby's enqueue_at does. */
  delayed: boolean;
  /** Only for a unique job whose key was held (docs/unique-jobs.md): nothing was filed, `id` is the holder's. */
  duplicate?: true;
}

export interface DelayedEntry {
  dueMs: number;
  args: JsonValue[];
}

/** Jobs filed by one script call: each costs 2 keys and 7 arguments. */
const JOBS_PER_CALL = 500;

/**
 * Files jobs of one class for later (resque-scheduler's enqueue_at_with_queue): everything is checked before any
 * hook runs or anything is written, the concurrency and rate keys and the tenant worked out (kept in the job's
 * record, as the item must stay resque-scheduler's `{"class","args","queue"}`); before_schedule hooks may veto a job (null in the result); jobs already due, or
 * all jobs in inline mode, are enqueued at once; the rest are filed atomically, 500 per script call.
 */
export async function scheduleJobs(
  ctx: ClientContext,
  job: JobRef<JsonValue[]>,
  explicitQueue: string | undefined,
  entries: readonly DelayedEntry[],
  nowMs: number,
): Promise<Array<Scheduled | null>> {
  const className = typeof job === 'string' ? job : job.className;
  assertClassName(className);
  const queue = queueOf(job, explicitQueue);
  for (const [i, entry] of entries.entries()) {
    assertJsonSafe(entry.args, entries.length === 1 ? 'args' : `jobs[${i}].args`);
  }
  const definition = typeof job === 'string' ? ctx.jobs.resolve(job) : job;
  assertUniqueAllowed(ctx, definition, className);
  const limitKeys = entries.map((entry) => limitKeysOf(definition, className, entry.args));
  const locks = entries.map((entry) => uniqueLockOf(className, definition?.unique, entry.args));
  const results: Array<Scheduled | null> = [];
  const filed: FiledJob[] = [];
  const allowed: DelayedEntry[] = [];
  for (const [i, entry] of entries.entries()) {
    if (!(await allowedBySchedule(definition, entry.args))) {
      results.push(null);
      continue;
    }
    if (ctx.config.inline || entry.dueMs <= nowMs) {
      const enqueued = await enqueueOne(ctx, job, queue, entry.args);
      if (!enqueued?.duplicate) allowed.push(entry);
      results.push(
        enqueued && {
          queue,
          id: enqueued.id,
          dueAtMs: entry.dueMs,
          delayed: false,
          ...(enqueued.duplicate ? { duplicate: true as const } : {}),
        },
      );
      continue;
    }
    const id = newJobId();
    const scheduled: Scheduled = { queue, id, dueAtMs: entry.dueMs, delayed: true };
    filed.push({ entry, id, lock: locks[i], limitKeys: limitKeys[i] ?? {}, scheduled });
    results.push(scheduled);
  }
  const file = async (trace: TraceCarrier | undefined) => {
    for (let i = 0; i < filed.length; i += JOBS_PER_CALL) {
      const chunk = filed.slice(i, i + JOBS_PER_CALL);
      const holders = await fileChunk(ctx, className, queue, chunk, nowMs, {
        retry: enqueueRetryOf(job),
        trace,
        statusTtlMs: ctx.config.strictPayloads ? undefined : statusTtlFor(ctx, job),
      });
      for (const [j, { entry, scheduled }] of chunk.entries()) {
        const holder = holders[j];
        if (holder) {
          scheduled.id = holder;
          scheduled.duplicate = true;
        } else {
          allowed.push(entry);
        }
      }
    }
  };
  if (filed.length > 0 && ctx.tracing) {
    // As a bulk enqueue: one span for the jobs filed together, its context kept in each job's record.
    const span = { operation: 'schedule', className, queue, jobIds: filed.map((f) => f.id) } as const;
    await (await ctx.tracing()).produce(span, file);
  } else await file(undefined);
  for (const entry of allowed) {
    for (const hook of hooksFor(definition, 'after_schedule')) await hook(...entry.args);
  }
  return results;
}

interface FiledJob {
  entry: DelayedEntry;
  id: string;
  lock: UniqueLock | undefined;
  limitKeys: LimitKeys;
  /** Its result, made a duplicate's when its lock turns out held. */
  scheduled: Scheduled;
}

async function allowedBySchedule(definition: JobDefinition | undefined, args: JsonValue[]): Promise<boolean> {
  let allowed = true;
  for (const hook of hooksFor(definition, 'before_schedule')) {
    if ((await hook(...args)) === false) allowed = false;
  }
  return allowed;
}

async function fileChunk(
  ctx: ClientContext,
  className: string,
  queue: string,
  chunk: readonly FiledJob[],
  nowMs: number,
  carried: {
    retry: JsonObject | undefined;
    trace: TraceCarrier | undefined;
    statusTtlMs: number | undefined;
  },
): Promise<string[]> {
  const { keys } = ctx;
  const scriptKeys = [
    keys.delayedSchedule,
    keys.delayedDue,
    keys.delayedRecords,
    keys.delayedByItem,
    keys.delayedSequence,
  ];
  const earliest = Math.min(...chunk.map(({ entry }) => entry.dueMs));
  // One class per call: its jobs all take a lock at filing, or none does.
  const locking = chunk.some(({ lock }) => locksAtEnqueue(lock)) && !ctx.config.strictPayloads;
  const args: Array<string | number> = [keys.delayedWakeChannel, earliest, locking ? '1' : ''];
  for (const { entry, id, lock, limitKeys } of chunk) {
    const second = bucketSecond(entry.dueMs);
    const item = encodeDelayedItem(className, entry.args, queue);
    scriptKeys.push(keys.delayedAt(second), keys.timestamps(item));
    const record = encodeRecord({
      id,
      second,
      queue,
      item,
      enqueuedAtMs: nowMs,
      withMetadata: !ctx.config.strictPayloads,
      retry: carried.retry,
      unique: uniquePayload(lock),
      trace: ctx.config.strictPayloads ? undefined : carried.trace,
      limitKeys,
      statusTtlMs: carried.statusTtlMs,
    });
    args.push(second, keys.delayedMember(second), item, id, entry.dueMs, record, byItemField(second, item));
    if (locking) {
      // Held while the job waits, then for the lock's own TTL once it is due.
      scriptKeys.push(keys.uniqueLock(lock?.key ?? ''));
      args.push(Math.max(0, entry.dueMs - nowMs) + (lock?.ttlMs ?? 1));
    }
  }
  const { statusTtlMs } = carried;
  if (statusTtlMs === undefined) {
    const reply = await runScript<unknown[]>(ctx.redis, DELAYED_SCRIPTS.push, scriptKeys, args);
    return reply.map(String);
  }
  const tracked: TrackedEnqueue[] = chunk.map(({ entry, id }) => ({
    id,
    ttlMs: statusTtlMs,
    className,
    queue,
    enqueuedAt: nowMs,
    dueAt: entry.dueMs,
  }));
  const [reply] = await pushWithStatus(ctx.redis, keys, tracked, (multi, call) =>
    queueScript(multi, DELAYED_SCRIPTS.push, scriptKeys, args, call === 'evalsha'),
  );
  const holders = (reply as unknown[]).map(String);
  // A unique job's duplicate was not filed: the record written for it goes (its holder has its own).
  const duplicates = tracked.filter((_, i) => holders[i]).map((job) => keys.jobStatus(job.id));
  if (duplicates.length > 0) await ctx.redis.del(...duplicates);
  return holders;
}
