import { assertQueueName } from '../protocol/names.js';
import { decodePayload, type JobPayload } from '../protocol/payload.js';
import { pipelineValues } from '../redis/replies.js';
import { pipelineScript, SCRIPTS } from '../redis/scripts.js';
import type { ClientContext } from './context.js';

/** One item of a queue as stored: its raw bytes, and the decoded job or why it could not be decoded. */
export interface QueuedJob {
  /** Position from the head of the queue when read. */
  index: number;
  raw: string;
  payload: JobPayload | undefined;
  malformed: string | undefined;
}

export function toQueuedJob(raw: string, index: number): QueuedJob {
  try {
    return { index, raw, payload: decodePayload(raw), malformed: undefined };
  } catch (error) {
    return { index, raw, payload: undefined, malformed: (error as Error).message };
  }
}

export async function queueSize(ctx: ClientContext, queue: string): Promise<number> {
  return ctx.redis.llen(ctx.keys.queue(queue));
}

/** Resque.peek / list_range: `count` items from `start` (LRANGE, O(start + count)). */
export async function peekQueue(
  ctx: ClientContext,
  queue: string,
  start = 0,
  count = 1,
): Promise<QueuedJob[]> {
  if (!Number.isInteger(start) || !Number.isInteger(count) || count < 1) {
    throw new RangeError(`peek expects integer start and count >= 1, got start=${start} count=${count}`);
  }
  const items = await ctx.redis.lrange(ctx.keys.queue(queue), start, start + count - 1);
  const first = start < 0 ? (await ctx.redis.llen(ctx.keys.queue(queue))) + start : start;
  return items.map((raw, i) => toQueuedJob(raw, first + i));
}

export async function listQueues(ctx: ClientContext): Promise<string[]> {
  return (await ctx.redis.smembers(ctx.keys.queues)).sort();
}

export async function queueSizes(ctx: ClientContext): Promise<Record<string, number>> {
  const names = await listQueues(ctx);
  if (names.length === 0) return {};
  const pipeline = ctx.redis.pipeline();
  for (const name of names) pipeline.llen(ctx.keys.queue(name));
  const results = await pipeline.exec();
  pipelineValues(results);
  return Object.fromEntries(names.map((name, i) => [name, Number(results![i]![1])]));
}

/**
 * Ruby's remove_queue: the queue leaves `queues` and its list is dropped (UNLINK: no pause on a long list), with the
 * tenant lists of a fair queue (drop_tenants.lua). Returns how many jobs it held.
 */
export async function removeQueue(
  ctx: Pick<ClientContext, 'redis' | 'keys'>,
  queue: string,
): Promise<number> {
  const key = ctx.keys.queue(queue);
  const multi = ctx.redis
    .multi()
    .llen(key)
    .srem(ctx.keys.queues, queue)
    .unlink(key)
    .zrem(ctx.keys.nonEmptyQueues, queue)
    .del(ctx.keys.queueWake(queue));
  const values = pipelineValues(await dropTenants(ctx, multi, queue).exec());
  return Number(values[0]) + Number(values.at(-1));
}

/** Queues the drop of a queue's tenant lists and rotation (drop_tenants.lua); its reply is how many jobs they held. */
export function dropTenants<P extends Parameters<typeof pipelineScript>[0]>(
  ctx: Pick<ClientContext, 'keys'>,
  pipeline: P,
  queue: string,
): P {
  return pipelineScript(
    pipeline,
    SCRIPTS.dropTenants,
    [ctx.keys.fairRotation(queue), ctx.keys.fairTurn(queue)],
    [ctx.keys.fairTenant(queue, '')],
  ) as P;
}

export async function watchQueue(ctx: ClientContext, queue: string): Promise<void> {
  assertQueueName(queue);
  await ctx.redis.sadd(ctx.keys.queues, queue);
}
