import { randomBytes } from 'node:crypto';
import { FailureNotFoundError, FailureNotRetryableError } from '../errors/index.js';
import { runScript, SCRIPTS } from '../redis/scripts.js';
import { type Failure, retryTime, retryWrite, toFailure } from './failure.js';
import { type FailureId, parseFailureId, recordDigest } from './identity.js';
import { CHUNK } from './read.js';
import type { StoreContext } from './scope.js';

/** Records read around the id's index before searching the whole list (removals shift records towards the head). */
const NEARBY = 50;
/** Compare-and-set attempts before giving up on a record that keeps changing. */
const ATTEMPTS = 5;

/** Finds the failure an id names: at its index, else nearby, else anywhere in its list (chunked). */
export async function locate(ctx: StoreContext, text: string): Promise<Failure> {
  const id = parseFailureId(text);
  const key = ctx.keys.failedList(id.list);
  const from = Math.max(0, id.index - NEARBY);
  const near = await ctx.redis.lrange(key, from, id.index + NEARBY);
  const at = nearestMatch(near, from, id);
  if (at !== undefined) return toFailure(id.list, at, near[at - from]!);
  const found = await searchList(ctx, id, from, from + near.length);
  if (!found) throw new FailureNotFoundError(text);
  return found;
}

function nearestMatch(items: readonly string[], from: number, id: FailureId): number | undefined {
  for (let distance = 0; distance <= NEARBY; distance++) {
    for (const index of distance === 0 ? [id.index] : [id.index - distance, id.index + distance]) {
      const raw = items[index - from];
      if (raw !== undefined && recordDigest(raw) === id.digest) return index;
    }
  }
  return undefined;
}

/** Chunked search outside [skipFrom, skipTo): towards the head first, then towards the tail. */
async function searchList(
  ctx: StoreContext,
  id: FailureId,
  skipFrom: number,
  skipTo: number,
): Promise<Failure | undefined> {
  const key = ctx.keys.failedList(id.list);
  for (let end = skipFrom - 1; end >= 0; end -= CHUNK) {
    const start = Math.max(0, end - CHUNK + 1);
    const items = await ctx.redis.lrange(key, start, end);
    const i = items.findIndex((raw) => recordDigest(raw) === id.digest);
    if (i >= 0) return toFailure(id.list, start + i, items[i]!);
  }
  for (let start = skipTo; ; start += CHUNK) {
    const items = await ctx.redis.lrange(key, start, start + CHUNK - 1);
    const i = items.findIndex((raw) => recordDigest(raw) === id.digest);
    if (i >= 0) return toFailure(id.list, start + i, items[i]!);
    if (items.length < CHUNK) return undefined;
  }
}

export interface RetryOptions {
  /** Remove the failure once its job is back on its queue (Ruby keeps it, marked with `retried_at`). */
  remove?: boolean;
}

export interface RetryResult {
  /** The queue the job went back to. */
  queue: string;
  /** The failure as it now is (`retried_at` set), or undefined when it was removed. */
  failure: Failure | undefined;
}

/** Retries one failure by id: exactly Ruby's Failure.requeue, but only on the record the id names. */
export async function retryById(
  ctx: StoreContext,
  text: string,
  options: RetryOptions = {},
): Promise<RetryResult> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const failure = await locate(ctx, text);
    const write = retryWrite(failure, retryTime(new Date()));
    if (typeof write === 'string') throw new FailureNotRetryableError(text, write);
    const [retried] = await runRetryScript(ctx, failure.list, [{ failure, write }], options.remove === true);
    if (retried === 1) {
      return {
        queue: write.queue,
        failure: options.remove ? undefined : toFailure(failure.list, failure.index, write.record),
      };
    }
  }
  throw new FailureNotFoundError(text, 'it kept changing while being retried');
}

/** Removes one failure by id (Ruby's tombstone + LREM, on the record the id names only). */
export async function removeById(ctx: StoreContext, text: string): Promise<Failure> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const failure = await locate(ctx, text);
    const [removed] = await runRemoveScript(ctx, failure.list, [failure]);
    if (removed === 1) return failure;
  }
  throw new FailureNotFoundError(text, 'it kept changing while being removed');
}

export interface PlannedRetry {
  failure: Failure;
  write: Exclude<ReturnType<typeof retryWrite>, string>;
}

/** One failure_retry call: returns [retried, ordinals (1-based) of the failures that were not where expected]. */
export function runRetryScript(
  ctx: StoreContext,
  list: string,
  planned: readonly PlannedRetry[],
  remove: boolean,
): Promise<[number, number[]]> {
  const keys = [
    ctx.keys.failedList(list),
    ctx.keys.queues,
    ...planned.map((p) => ctx.keys.queue(p.write.queue)),
  ];
  const args: Array<string | number> = [ctx.keys.announce, remove ? tombstone() : ''];
  for (const { failure, write } of planned) {
    args.push(failure.index, failure.raw, write.record, write.job, write.queue);
  }
  return runScript<[number, number[]]>(ctx.redis, SCRIPTS.failureRetry, keys, args);
}

/** One remove_at call: returns [removed, missed]. */
export function runRemoveScript(
  ctx: StoreContext,
  list: string,
  failures: readonly Failure[],
): Promise<[number, number]> {
  const args: Array<string | number> = [tombstone(), ''];
  for (const failure of failures) args.push(failure.index, failure.raw);
  return runScript<[number, number]>(ctx.redis, SCRIPTS.removeAt, [ctx.keys.failedList(list)], args);
}

function tombstone(): string {
  return `resque-ts:tombstone:${randomBytes(16).toString('hex')}`;
}
