import type { ClientContext } from '../client/context.js';
import { enqueueOne, enqueueRetryOf, type JobRef, queueOf } from '../client/enqueue.js';
import { newJobId } from '../client/job-id.js';
import { hooksFor, type JobDefinition } from '../jobs/define.js';
import { type LimitKeys, limitKeysOf } from '../jobs/limit-keys.js';
import { assertJsonSafe, type JsonObject, type JsonValue } from '../protocol/json.js';
import { assertClassName } from '../protocol/names.js';
import { runScript } from '../redis/scripts.js';
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
  const limitKeys = entries.map((entry) => limitKeysOf(definition, className, entry.args));
  const results: Array<Scheduled | null> = [];
  const filed: Array<{ entry: DelayedEntry; id: string; limitKeys: LimitKeys }> = [];
  const allowed: DelayedEntry[] = [];
  for (const [i, entry] of entries.entries()) {
    if (!(await allowedBySchedule(definition, entry.args))) {
      results.push(null);
      continue;
    }
    allowed.push(entry);
    if (ctx.config.inline || entry.dueMs <= nowMs) {
      const enqueued = await enqueueOne(ctx, job, queue, entry.args);
      results.push(enqueued && { queue, id: enqueued.id, dueAtMs: entry.dueMs, delayed: false });
      continue;
    }
    const id = newJobId();
    filed.push({ entry, id, limitKeys: limitKeys[i] ?? {} });
    results.push({ queue, id, dueAtMs: entry.dueMs, delayed: true });
  }
  for (let i = 0; i < filed.length; i += JOBS_PER_CALL) {
    await fileChunk(ctx, className, queue, filed.slice(i, i + JOBS_PER_CALL), nowMs, enqueueRetryOf(job));
  }
  for (const entry of allowed) {
    for (const hook of hooksFor(definition, 'after_schedule')) await hook(...entry.args);
  }
  return results;
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
  chunk: ReadonlyArray<{ entry: DelayedEntry; id: string; limitKeys: LimitKeys }>,
  nowMs: number,
  retry: JsonObject | undefined,
): Promise<void> {
  const { keys } = ctx;
  const scriptKeys = [
    keys.delayedSchedule,
    keys.delayedDue,
    keys.delayedRecords,
    keys.delayedByItem,
    keys.delayedSequence,
  ];
  const earliest = Math.min(...chunk.map(({ entry }) => entry.dueMs));
  const args: Array<string | number> = [keys.delayedWakeChannel, earliest];
  for (const { entry, id, limitKeys } of chunk) {
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
      retry,
      limitKeys,
    });
    args.push(second, keys.delayedMember(second), item, id, entry.dueMs, record, byItemField(second, item));
  }
  await runScript(ctx.redis, DELAYED_SCRIPTS.push, scriptKeys, args);
}
