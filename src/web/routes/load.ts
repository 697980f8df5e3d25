import { workerCondition } from '../../api/health.js';
import type { ShardFilter } from '../../api/shard-failures.js';
import { parseShardRef } from '../../api/shard-refs.js';
import { bucketSamples, type SeriesBucket } from '../../api/stats.js';
import type { FailureFilter } from '../../failure/scope.js';
import type { App } from '../context.js';
import { BadRequestError } from '../errors.js';
import type { WorkerRow } from '../views/workers.js';

/** Workers with their health flags. */
export async function workerRows(app: App): Promise<WorkerRow[]> {
  const { stuckJobMs, lateHeartbeatMs } = app.options;
  return (await app.admin.workers()).map((worker) => ({
    worker,
    condition: workerCondition(worker, { stuckJobMs, lateHeartbeatMs }),
  }));
}

/** The chart buckets of the last `windowMs`, `bucketMs` each. */
export async function series(app: App, windowMs: number, bucketMs: number): Promise<SeriesBucket[]> {
  const end = Math.ceil(Date.now() / bucketMs) * bucketMs;
  const samples = await app.admin.samples(end - windowMs - bucketMs);
  return bucketSamples(samples, end, bucketMs, Math.round(windowMs / bucketMs));
}

/** `start` (resque-web's name) or `offset`, and `limit` (at most 500). */
export function paging(query: URLSearchParams, pageSize: number): { offset: number; limit: number } {
  const offset = integer(query.get('start') ?? query.get('offset'), 0, 'start');
  const limit = Math.min(500, integer(query.get('limit'), pageSize, 'limit'));
  if (limit < 1) throw new BadRequestError('limit must be at least 1');
  return { offset, limit };
}

/** `keys`: how many of a keyed limit's busiest keys to show (10 by default, at most 100). */
export function keysParam(query: URLSearchParams): number {
  return Math.min(100, integer(query.get('keys'), 10, 'keys'));
}

function integer(text: string | null, fallback: number, name: string): number {
  if (text === null || text === '') return fallback;
  if (!/^\d{1,12}$/.test(text))
    throw new BadRequestError(`${name} must be a whole number, got ${JSON.stringify(text)}`);
  return Number(text);
}

/** A failure filter from query or form fields: queue, class, args, error, group, retried (yes/no), list. */
export function failureFilter(fields: URLSearchParams, list?: string): FailureFilter {
  const text = (name: string) => {
    const value = fields.get(name)?.trim();
    return value ? value : undefined;
  };
  const retried = text('retried');
  if (retried !== undefined && retried !== 'yes' && retried !== 'no') {
    throw new BadRequestError(`retried must be "yes" or "no", got ${JSON.stringify(retried)}`);
  }
  const filter: FailureFilter = {
    list: list ?? text('list'),
    queue: text('queue'),
    className: text('class'),
    argsText: text('args'),
    errorText: text('error'),
    group: text('group'),
    retried: retried === undefined ? undefined : retried === 'yes',
  };
  for (const key of Object.keys(filter) as Array<keyof FailureFilter>) {
    if (filter[key] === undefined) delete filter[key];
  }
  return filter;
}

/**
 * The failure filter and, on a sharded namespace, `?shard=n`: one shard's failures, a page of them O(page) at any
 * depth (unsharded, `shard` is ignored as before).
 */
export function failureScope(app: App, fields: URLSearchParams, list?: string): ShardFilter {
  const shard = shardParam(app, fields);
  return { ...failureFilter(fields, list), ...(shard === undefined ? {} : { shard }) };
}

/** A queue search from query or form fields: class, args. */
export function jobMatch(fields: URLSearchParams): { className?: string; argsText?: string } {
  const className = fields.get('class')?.trim() || undefined;
  const argsText = fields.get('args')?.trim() || undefined;
  return { ...(className ? { className } : {}), ...(argsText ? { argsText } : {}) };
}

/** The count the confirmation page showed; the action refuses to run when the count has grown since. */
export function expected(form: URLSearchParams): number | undefined {
  const text = form.get('expected');
  return text && /^\d+$/.test(text) ? Number(text) : undefined;
}

/** The largest SCAN cursor Redis accepts (an unsigned 64-bit integer). */
const MAX_CURSOR = 18_446_744_073_709_551_615n;

/**
 * A SCAN cursor (or list index) from the query: '0' when absent; a 400 for anything Redis would refuse. With
 * `shards` above 1, a key scan's cursor over a sharded namespace carries its shard (`2@1234`, see Admin.scanKeys),
 * which must be one of them.
 */
export function cursorParam(query: URLSearchParams, name: string, shards = 1): string {
  const text = query.get(name);
  if (text === null || text === '' || text === '0') return '0';
  const cursor = shards > 1 ? parseShardRef(text, shards)?.ref : text;
  if (cursor === undefined || !/^\d{1,20}$/.test(cursor) || BigInt(cursor) > MAX_CURSOR) {
    throw new BadRequestError(
      `${name} must be a cursor this page gave, got ${JSON.stringify(text.slice(0, 40))}`,
    );
  }
  return text;
}

/**
 * `?shard=n` of a sharded namespace (the shard a worker link or a page is about); undefined when absent or when the
 * namespace is not sharded.
 */
export function shardParam(app: App, query: URLSearchParams): number | undefined {
  const text = query.get('shard');
  if (text === null || text === '' || app.admin.shardCount === 1) return undefined;
  const shard = Number(text);
  if (!/^\d+$/.test(text) || shard >= app.admin.shardCount)
    throw new BadRequestError(
      `shard must be from 0 to ${app.admin.shardCount - 1}, got ${JSON.stringify(text)}`,
    );
  return shard;
}
