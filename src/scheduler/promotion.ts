import type { Redis } from 'ioredis';
import { newJobId } from '../client/job-id.js';
import type { LimitKeys } from '../jobs/limit-keys.js';
import type { JsonValue } from '../protocol/json.js';
import type { Keys } from '../protocol/keys.js';
import { runScript } from '../redis/scripts.js';
import { byItemField, decodeDelayedItem, payloadFromItem } from './delayed-item.js';
import { type DelayedRecord, decodeRecord } from './delayed-record.js';
import { DELAYED_SCRIPTS } from './scripts.js';

/** What a promotion batch needs. `beforeEnqueue` runs resque-scheduler's before_delayed_enqueue hooks. */
export interface PromotionContext {
  readonly redis: Redis;
  readonly keys: Keys;
  /** Push exactly `{"class","args"}` for items written by Ruby (resque-ts's own keep their record's choice). */
  readonly strictPayloads: boolean;
  readonly beforeEnqueue?: (className: string, args: unknown[]) => Promise<void>;
  /**
   * The keys and tenant of a job whose item carries none (one written by Ruby), from the class's definition when this
   * process knows it (jobs/limit-keys.ts). resque-ts's own delayed jobs carry theirs in their record.
   */
  readonly limitKeys?: (className: string, args: JsonValue[]) => LimitKeys;
}

export interface BatchResult {
  /** Jobs now on their queues. */
  moved: number;
  /** Entries looked at: fewer than the limit means nothing more is due. */
  seen: number;
}

/**
 * Jobs due within a second that has not wholly come are moved one by one (LREM from their list); in a second this
 * crowded they wait for the second to end and leave from the head of its list instead (at most a second late).
 */
const PARTIAL_SECOND_LIMIT = 1000;

/**
 * One batch of resque-ts's own jobs whose millisecond has come within the current, not yet whole, second: read their
 * records, then move them in one script call (promote_own.lua), which checks each is still due and not taken.
 */
export async function promoteOwnBatch(
  ctx: PromotionContext,
  nowMs: number,
  limit: number,
): Promise<BatchResult> {
  const { redis, keys } = ctx;
  const secondStartMs = Math.floor(nowMs / 1000) * 1000;
  if (secondStartMs === nowMs) return { moved: 0, seen: 0 };
  if ((await redis.llen(keys.delayedAt(secondStartMs / 1000 + 1))) > PARTIAL_SECOND_LIMIT)
    return { moved: 0, seen: 0 };
  const members = await redis.zrangebyscore(keys.delayedDue, `(${secondStartMs}`, nowMs, 'LIMIT', 0, limit);
  if (members.length === 0) return { moved: 0, seen: 0 };
  const records = (await redis.hmget(keys.delayedRecords, ...members)).map(decodeRecord);
  const scriptKeys = [
    keys.delayedSchedule,
    keys.delayedDue,
    keys.delayedRecords,
    keys.delayedByItem,
    keys.queues,
  ];
  const args: Array<string | number> = [nowMs, keys.announce];
  for (const [i, member] of members.entries()) {
    const record = records[i];
    if (!record) continue; // left to dropOrphans once its second has passed
    scriptKeys.push(keys.delayedAt(record.second), keys.timestamps(record.item), keys.queue(record.queue));
    args.push(
      member,
      record.second,
      keys.delayedMember(record.second),
      record.item,
      record.queue,
      await recordPayload(ctx, record, nowMs),
      byItemField(record.second, record.item),
      record.limitKeys?.tenant ?? '',
    );
  }
  if (scriptKeys.length === 5) return { moved: 0, seen: members.length };
  const [moved] = await runScript<[number, number]>(redis, DELAYED_SCRIPTS.promoteOwn, scriptKeys, args);
  return { moved, seen: members.length };
}

/**
 * The earliest second that has wholly come, moved to the queues from the head of its list, batch after batch: while
 * Redis moves one batch this process reads and prepares the next. `seen` is 0 when no second is due.
 */
export async function promoteEarliestSecond(
  ctx: PromotionContext,
  nowMs: number,
  limit: number,
): Promise<BatchResult> {
  const { redis, keys } = ctx;
  const [first] = await redis.zrangebyscore(
    keys.delayedSchedule,
    '-inf',
    Math.floor(nowMs / 1000),
    'LIMIT',
    0,
    1,
  );
  if (first === undefined) return { moved: 0, seen: 0 };
  const second = Number(first);
  let head = await readHead(ctx, second, 0, limit);
  // An empty list is dropped from the schedule by a move of nothing: that still counts as progress.
  if (head.length === 0) return { moved: (await moveHead(ctx, second, limit, nowMs)).moved, seen: 1 };
  let moved = 0;
  let inFlight: { result: Promise<number>; fields: ReadonlySet<string> } | undefined;
  while (head.length > 0) {
    const prepared = await prepareMove(ctx, second, head, nowMs);
    // Sent before this batch's move, the read runs right after the move in flight: it reads the batch after this one.
    const ahead = readHead(ctx, second, head.length, limit);
    const result = runMove(ctx, prepared);
    // Both are awaited below; these only keep one from going unhandled when the other fails first.
    ahead.catch(() => undefined);
    result.catch(() => undefined);
    const earlier = inFlight ? await inFlight.result : 0;
    moved += Math.max(0, earlier);
    head = await ahead;
    inFlight = { result, fields: prepared.fields };
    // A move that found the list changed, or a copy of one item in both batches, makes the read ahead wrong: its
    // move would be refused. Wait for this move and read from the head instead.
    if (earlier < 0 || head.some((entry) => prepared.fields.has(entry.field))) {
      moved += Math.max(0, await result);
      inFlight = undefined;
      head = await readHead(ctx, second, 0, limit);
    }
  }
  if (inFlight) moved += Math.max(0, await inFlight.result);
  return { moved, seen: 1 };
}

/**
 * Moves up to `limit` items from the head of `delayed:<second>` to their queues now, whatever their due time (also
 * "queue now"): resque-ts's copies with their record's payload, Ruby's as Ruby's master pushes them
 * (promote_second.lua). Returns `seen: 0` when the second had no items left. `moved` hears of the records of the
 * resque-ts copies moved.
 */
export async function moveHead(
  ctx: PromotionContext,
  second: number,
  limit: number,
  nowMs: number,
  moved?: (records: DelayedRecord[]) => void,
): Promise<BatchResult> {
  for (;;) {
    const head = await readHead(ctx, second, 0, limit);
    const count = await runMove(ctx, await prepareMove(ctx, second, head, nowMs));
    // -1: the list or an item's copies changed between the read and the move: read again.
    if (count < 0) continue;
    moved?.(head.flatMap(({ item, record }) => (record && record.item === item ? [record] : [])));
    return { moved: count, seen: head.length };
  }
}

/** An item of a second's list as read_head.lua reads it, with the resque-ts copy it is (if any) and its record. */
interface HeadEntry {
  item: string;
  /** Its `ts:delayed:by-item` field. */
  field: string;
  /** The `ts:delayed:due` member of the copy it is; '' for an item without one (Ruby's). */
  member: string;
  record: DelayedRecord | undefined;
}

/** The keys and arguments of one promote_second.lua call. */
interface PreparedMove {
  keys: string[];
  args: Array<string | number>;
  fields: ReadonlySet<string>;
}

async function readHead(
  ctx: PromotionContext,
  second: number,
  start: number,
  limit: number,
): Promise<HeadEntry[]> {
  const { redis, keys } = ctx;
  const flat = await runScript<string[]>(
    redis,
    DELAYED_SCRIPTS.readHead,
    [keys.delayedAt(second), keys.delayedByItem, keys.delayedRecords],
    [second, limit, start],
  );
  const head: HeadEntry[] = [];
  for (let i = 0; i < flat.length; i += 4) {
    head.push({
      item: flat[i]!,
      field: flat[i + 1]!,
      member: flat[i + 2]!,
      record: decodeRecord(flat[i + 3]),
    });
  }
  return head;
}

async function prepareMove(
  ctx: PromotionContext,
  second: number,
  head: readonly HeadEntry[],
  nowMs: number,
): Promise<PreparedMove> {
  const { keys } = ctx;
  const scriptKeys = [
    keys.delayedSchedule,
    keys.delayedAt(second),
    keys.queues,
    keys.delayedUnpromotable,
    keys.delayedDue,
    keys.delayedRecords,
    keys.delayedByItem,
  ];
  const args: Array<string | number> = [second, keys.delayedMember(second), keys.announce];
  const fields = new Set<string>();
  for (const { item, field, member, record } of head) {
    const target =
      record && record.item === item
        ? {
            queue: record.queue,
            payload: await recordPayload(ctx, record, nowMs),
            tenant: record.limitKeys?.tenant,
          }
        : await foreignTarget(ctx, item, second, nowMs);
    scriptKeys.push(
      keys.timestamps(item),
      target.queue ? keys.queue(target.queue) : keys.delayedUnpromotable,
    );
    args.push(item, target.queue ?? '', target.payload, field, member, target.tenant ?? '');
    fields.add(field);
  }
  return { keys: scriptKeys, args, fields };
}

function runMove(ctx: PromotionContext, prepared: PreparedMove): Promise<number> {
  return runScript<number>(ctx.redis, DELAYED_SCRIPTS.promoteSecond, prepared.keys, prepared.args);
}

/**
 * Drops the records of resque-ts jobs whose second is gone (a Ruby master moved it, Ruby removed the item): one batch
 * among the records due before the current second. Returns how many were dropped and how many looked at.
 */
export async function dropOrphans(
  ctx: PromotionContext,
  nowMs: number,
  limit: number,
): Promise<{ dropped: number; seen: number }> {
  const { redis, keys } = ctx;
  const members = await redis.zrangebyscore(
    keys.delayedDue,
    '-inf',
    Math.floor(nowMs / 1000) * 1000,
    'LIMIT',
    0,
    limit,
  );
  if (members.length === 0) return { dropped: 0, seen: 0 };
  const records = (await redis.hmget(keys.delayedRecords, ...members)).map(decodeRecord);
  const args: Array<string | number> = [];
  for (const [i, member] of members.entries()) {
    const record = records[i];
    args.push(member, record?.second ?? 0, record ? byItemField(record.second, record.item) : '');
  }
  const dropped = await runScript<number>(
    redis,
    DELAYED_SCRIPTS.dropOrphans,
    [keys.delayedSchedule, keys.delayedDue, keys.delayedRecords, keys.delayedByItem],
    args,
  );
  return { dropped, seen: members.length };
}

async function recordPayload(ctx: PromotionContext, record: DelayedRecord, nowMs: number): Promise<string> {
  const decoded = decodeDelayedItem(record.item);
  await ctx.beforeEnqueue?.(decoded.className, decoded.args);
  const meta = record.withMetadata
    ? {
        id: record.id,
        enqueuedAt: nowMs / 1000,
        retry: record.retry,
        ...record.limitKeys,
        unique: record.unique,
        trace: record.trace,
        statusTtlMs: record.statusTtlMs,
      }
    : undefined;
  return payloadFromItem(record.item, { ...decoded, queue: record.queue }, meta);
}

async function foreignTarget(
  ctx: PromotionContext,
  item: string,
  second: number,
  nowMs: number,
): Promise<{ queue: string | undefined; payload: string; tenant?: string | undefined }> {
  try {
    const decoded = decodeDelayedItem(item);
    if (decoded.queue === undefined) return setAside(item, second, 'the item names no queue');
    // A key function that throws sets the item aside with its error, as an item that cannot be enqueued.
    const limitKeys = ctx.limitKeys?.(decoded.className, decoded.args) ?? {};
    await ctx.beforeEnqueue?.(decoded.className, decoded.args);
    const meta = ctx.strictPayloads ? undefined : { id: newJobId(), enqueuedAt: nowMs / 1000, ...limitKeys };
    return { queue: decoded.queue, payload: payloadFromItem(item, decoded, meta), tenant: limitKeys.tenant };
  } catch (error) {
    return setAside(item, second, (error as Error).message);
  }
}

function setAside(item: string, second: number, reason: string): { queue: undefined; payload: string } {
  return { queue: undefined, payload: JSON.stringify({ item, second, reason }) };
}
