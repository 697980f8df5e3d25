import type { Redis } from 'ioredis';
import { InvalidQueueNameError } from '../errors/index.js';
import type { Keys } from '../protocol/keys.js';
import type { Failure } from './failure.js';
import { isFailureListName } from './identity.js';

/** What the failure-store modules need: a connection and the key builder. */
export interface StoreContext {
  readonly redis: Redis;
  readonly keys: Keys;
}

/** Which failures an operation concerns. Every field narrows; none means all failures in every list. */
export interface FailureFilter {
  /** One failure list: `failed`, or `<queue>_failed` with the RedisMultiQueue layout. Default: all of them. */
  list?: string;
  /** Failures of jobs from this queue. */
  queue?: string;
  /** Failures of jobs of this class (`payload.class`). */
  className?: string;
  /** Failures in this error group. */
  group?: string;
  /** true: only failures retried before; false: only those never retried. */
  retried?: boolean;
  /** Failures whose job arguments (as JSON text) contain this text, ignoring case. */
  argsText?: string;
  /** Failures whose exception or error message contains this text, ignoring case. */
  errorText?: string;
}

/** One list to visit and the test its records must pass (undefined: every record). */
export interface ListScope {
  list: string;
  match: ((failure: Failure) => boolean) | undefined;
}

/**
 * Every failure list: `failed` (the default backend's) and those named in `failed_queues` (RedisMultiQueue's).
 * Both are always read, so switching FAILURE_BACKEND never hides failures written under the other one.
 */
export async function failureLists(ctx: StoreContext): Promise<string[]> {
  const multi = await ctx.redis.smembers(ctx.keys.failedQueues);
  return ['failed', ...multi.filter((name) => name !== 'failed' && isFailureListName(name)).sort()];
}

export async function listLengths(ctx: StoreContext, lists: readonly string[]): Promise<number[]> {
  if (lists.length === 0) return [];
  const pipeline = ctx.redis.pipeline();
  for (const list of lists) pipeline.llen(ctx.keys.failedList(list));
  const results = (await pipeline.exec()) ?? [];
  return results.map(([error, length]) => {
    if (error) throw error;
    return Number(length);
  });
}

export async function scopesFor(ctx: StoreContext, filter: FailureFilter = {}): Promise<ListScope[]> {
  if (filter.list !== undefined && !isFailureListName(filter.list)) {
    throw new InvalidQueueNameError(filter.list, 'is not a failure list ("failed" or "<queue>_failed")');
  }
  let lists = filter.list !== undefined ? [filter.list] : await failureLists(ctx);
  if (filter.queue !== undefined) {
    const own = `${filter.queue}_failed`;
    lists = lists.filter((list) => list === 'failed' || list === own);
  }
  return lists.map((list) => ({ list, match: matcher(filter, list) }));
}

function matcher(filter: FailureFilter, list: string): ListScope['match'] {
  const tests: Array<(failure: Failure) => boolean> = [];
  const { queue, className, group, retried, argsText, errorText } = filter;
  if (queue !== undefined && list !== `${queue}_failed`) tests.push((f) => f.queue === queue);
  if (className !== undefined) tests.push((f) => f.className === className);
  if (group !== undefined) tests.push((f) => f.groupId === group);
  if (retried !== undefined) tests.push((f) => (f.record.retried_at !== undefined) === retried);
  if (argsText) tests.push(containsText(argsText, (f) => (f.args ? JSON.stringify(f.args) : '')));
  if (errorText) tests.push(containsText(errorText, (f) => `${f.record.exception}\n${f.record.error}`));
  if (tests.length === 0) return undefined;
  return (failure) => tests.every((test) => test(failure));
}

function containsText(text: string, of: (failure: Failure) => string): (failure: Failure) => boolean {
  const needle = text.toLowerCase();
  return (failure) => of(failure).toLowerCase().includes(needle);
}
