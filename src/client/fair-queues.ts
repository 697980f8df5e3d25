// Fair sharing between the tenants of a queue (docs/flow-control.md, Fair sharing): which queues are fair, and what
// waits on their tenants' lists.
import { assertTenantName, assertWeight } from '../jobs/tenant.js';
import { assertQueueName } from '../protocol/names.js';
import { pipelineValues } from '../redis/replies.js';
import type { ClientContext } from './context.js';

type FairContext = Pick<ClientContext, 'redis' | 'keys'>;

/**
 * Makes a queue fair: from now on a job with a tenant enqueued onto it waits on its tenant's list, and resque-ts
 * workers serve the tenants that have jobs in turn. Returns false when it was fair already.
 */
export async function fairQueue(ctx: FairContext, queue: string, now = Date.now()): Promise<boolean> {
  assertQueueName(queue);
  return (await ctx.redis.hsetnx(ctx.keys.fairQueues, queue, String(now))) === 1;
}

/**
 * Makes a queue plain again: new jobs go to its list. Jobs already on tenant lists stay there and are still served in
 * turn, after the queue's own list, until they run out. Returns false when it was not fair.
 */
export async function unfairQueue(ctx: FairContext, queue: string): Promise<boolean> {
  assertQueueName(queue);
  return (await ctx.redis.hdel(ctx.keys.fairQueues, queue)) === 1;
}

/** The fair queues, with when each was made fair. */
export async function fairQueues(ctx: FairContext): Promise<Map<string, Date>> {
  const entries = await ctx.redis.hgetall(ctx.keys.fairQueues);
  return new Map(Object.entries(entries).map(([queue, at]) => [queue, new Date(Number(at))]));
}

/**
 * The tenants of a queue that have jobs waiting on their lists, in the order they are next served, with how many
 * each has. One `LRANGE` of the rotation and one `LLEN` per tenant: these jobs are not in `size` or `peek`.
 */
export async function tenantSizes(ctx: FairContext, queue: string): Promise<Map<string, number>> {
  assertQueueName(queue);
  const tenants = await ctx.redis.lrange(ctx.keys.fairRotation(queue), 0, -1);
  if (tenants.length === 0) return new Map();
  const pipeline = ctx.redis.pipeline();
  for (const tenant of tenants) pipeline.llen(ctx.keys.fairTenant(queue, tenant));
  const lengths = pipelineValues(await pipeline.exec());
  return new Map(tenants.map((tenant, i) => [tenant, Number(lengths[i])]));
}

/**
 * Serves `tenant` `weight` jobs in a row per turn of a fair queue's rotation (1, the default, removes its weight).
 * Applies from the next turn: the turn in progress starts over.
 */
export async function weighTenant(
  ctx: FairContext,
  queue: string,
  tenant: string,
  weight: number,
): Promise<void> {
  assertQueueName(queue);
  assertTenantName(tenant);
  assertWeight(weight, tenant);
  const multi = ctx.redis.multi();
  if (weight === 1) multi.hdel(ctx.keys.fairWeights(queue), tenant);
  else multi.hset(ctx.keys.fairWeights(queue), tenant, weight);
  pipelineValues(await multi.del(ctx.keys.fairTurn(queue)).exec());
}

/** The tenants of a queue that have a weight other than 1, with it. */
export async function tenantWeights(ctx: FairContext, queue: string): Promise<Map<string, number>> {
  assertQueueName(queue);
  const entries = await ctx.redis.hgetall(ctx.keys.fairWeights(queue));
  return new Map(Object.entries(entries).map(([tenant, weight]) => [tenant, Number(weight)]));
}
