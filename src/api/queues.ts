import { dropTenants } from '../client/inspect.js';
import { QueueNotFoundError } from '../errors/index.js';
import { queueLimitField } from '../jobs/concurrency.js';
import type { JsonValue } from '../protocol/json.js';
import { parseResqueTime } from '../protocol/time.js';
import { type AdminContext, pipelineValues, redisNow } from './context.js';
import { type FairSummary, fairSummaries } from './fair.js';
import { describeProblem, isWrongTypeError, keyTypeProblems } from './key-types.js';

/** One queue as the dashboard and `resque queues` show it. */
export interface QueueSummary {
  name: string;
  /** The shard it lives on, on a sharded namespace. */
  shard?: number;
  size: number;
  /** When the next job (the head) was enqueued: its `enqueued_at` (resque-ts, or ActiveJob's), if it says. */
  oldestEnqueuedAt: Date | undefined;
  /** How long the next job has waited, by the Redis clock; undefined for empty queues and jobs without a time. */
  latencyMs: number | undefined;
  /** Why the queue cannot be read, e.g. `queue:x holds a hash, not a list` (its size then shows as 0). */
  problem?: string;
  /** When it was paused (no resque-ts worker takes from it), if it is. */
  pausedAt?: Date;
  /** Its concurrency limit (`limitQueue`), if it has one. */
  limit?: number;
  /** Jobs of the queue waiting parked on its limit, when it has one. */
  parked?: number;
  /** A fair queue's tenants and the jobs on their lists (not in `size`), if it is fair. */
  fair?: FairSummary;
}

/**
 * Every queue in the `queues` set, sorted, with size, head latency, pause, limit and fair figures: one pipeline,
 * O(queues), one LLEN per limited queue, and per fair queue its rotation and up to TENANTS_READ tenant lists.
 */
export async function queueSummaries(ctx: AdminContext): Promise<QueueSummary[]> {
  const names = (await ctx.redis.smembers(ctx.keys.queues)).sort();
  const pipeline = ctx.redis
    .pipeline()
    .time()
    .hgetall(ctx.keys.pausedQueues)
    .hgetall(ctx.keys.limits)
    .hgetall(ctx.keys.fairQueues);
  for (const name of names) pipeline.llen(ctx.keys.queue(name)).lindex(ctx.keys.queue(name), 0);
  const results = (await pipeline.exec()) ?? [];
  const [time, pausedEntries, limitEntries, fairEntries] = pipelineValues(results.slice(0, 4));
  const now = redisNow(time);
  const paused = pausedEntries as Record<string, string>;
  const limits = await queueLimits(ctx, names, limitEntries as Record<string, string>);
  const fair = await fairSummaries(ctx, names, fairEntries as Record<string, string>);
  const pausedAt = (name: string) => ({
    ...(paused[name] === undefined ? {} : { pausedAt: new Date(Number(paused[name])) }),
    ...limits.get(name),
    ...(fair.has(name) ? { fair: fair.get(name) } : {}),
  });
  const perQueue = results.slice(4);
  const unreadable = names.filter((_, i) => perQueue[i * 2]?.[0]);
  const problems = await wrongTypes(ctx, unreadable, perQueue);
  return names.map((name, i) => {
    const [error, size] = perQueue[i * 2] ?? [null, 0];
    if (error)
      return {
        name,
        size: 0,
        oldestEnqueuedAt: undefined,
        latencyMs: undefined,
        problem: problems.get(name),
        ...pausedAt(name),
      };
    const oldestEnqueuedAt = enqueuedAt(perQueue[i * 2 + 1]?.[1] as string | null);
    return {
      name,
      size: Number(size),
      oldestEnqueuedAt,
      latencyMs: oldestEnqueuedAt ? Math.max(0, now - oldestEnqueuedAt.getTime()) : undefined,
      ...pausedAt(name),
    };
  });
}

/** The limit of each limited queue and how many jobs are parked on it. */
async function queueLimits(
  ctx: AdminContext,
  names: readonly string[],
  definitions: Record<string, string>,
): Promise<Map<string, { limit: number; parked: number }>> {
  const limited = names.filter((name) => definitions[queueLimitField(name)] !== undefined);
  if (limited.length === 0) return new Map();
  const pipeline = ctx.redis.pipeline();
  for (const name of limited) pipeline.llen(ctx.keys.parked(queueLimitField(name)));
  const parked = pipelineValues(await pipeline.exec());
  return new Map(
    limited.map((name, i) => [
      name,
      { limit: Number(definitions[queueLimitField(name)]), parked: Number(parked[i]) },
    ]),
  );
}

/** Why each unreadable queue could not be read; errors other than WRONGTYPE are thrown. */
async function wrongTypes(
  ctx: AdminContext,
  names: readonly string[],
  results: ReadonlyArray<[Error | null, unknown]>,
): Promise<Map<string, string>> {
  const other = results.find(([error]) => error && !isWrongTypeError(error));
  if (other) throw other[0];
  const problems = await keyTypeProblems(
    ctx,
    names.map((name) => [ctx.keys.queue(name), 'list']),
  );
  const byKey = new Map(problems.map((p) => [p.key, describeProblem(p)]));
  return new Map(
    names.map((name) => [name, byKey.get(ctx.keys.logical(ctx.keys.queue(name))) ?? 'unreadable']),
  );
}

/** `enqueued_at` epoch seconds at the top level (resque-ts), or an ActiveJob wrapper's ISO `enqueued_at`. */
export function enqueuedAt(raw: string | null): Date | undefined {
  if (!raw) return undefined;
  let item: { enqueued_at?: JsonValue; args?: JsonValue };
  try {
    item = JSON.parse(raw) as typeof item;
  } catch {
    return undefined;
  }
  if (typeof item.enqueued_at === 'number') return new Date(item.enqueued_at * 1000);
  const first = Array.isArray(item.args) ? item.args[0] : undefined;
  if (
    first &&
    typeof first === 'object' &&
    !Array.isArray(first) &&
    typeof first['enqueued_at'] === 'string'
  ) {
    return parseResqueTime(first['enqueued_at']);
  }
  return undefined;
}

/** True when the queue is in the `queues` set or its list exists. */
export async function queueExists(ctx: AdminContext, name: string): Promise<boolean> {
  const [member, exists] = pipelineValues(
    await ctx.redis.pipeline().sismember(ctx.keys.queues, name).exists(ctx.keys.queue(name)).exec(),
  );
  return Number(member) === 1 || Number(exists) === 1;
}

/**
 * Empties a queue (its jobs are dropped, those on a fair queue's tenant lists too; it stays in `queues`, so workers
 * and dashboards still list it). UNLINK frees a long list without blocking Redis. Returns how many jobs were dropped.
 */
export async function clearQueue(ctx: AdminContext, name: string): Promise<number> {
  if (!(await queueExists(ctx, name))) throw new QueueNotFoundError(name);
  const key = ctx.keys.queue(name);
  const multi = ctx.redis
    .multi()
    .llen(key)
    .unlink(key)
    .zrem(ctx.keys.nonEmptyQueues, name)
    .del(ctx.keys.queueWake(name));
  const values = pipelineValues(await dropTenants(ctx, multi, name).exec());
  return Number(values[0]) + Number(values.at(-1));
}
