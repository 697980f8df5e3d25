import type { ResqueInfo } from '../client/info.js';
import { describeTarget } from '../redis/connection.js';
import type { AdminContext } from './context.js';
import { queueSummaries } from './queues.js';
import { readCounters } from './stats.js';

/**
 * Resque.info's figures, as the dashboard shows them: the same fields as the client's `info()`, read so that a
 * queue key of the wrong type counts as an empty queue instead of failing the whole answer.
 */
export async function resqueInfo(ctx: AdminContext): Promise<ResqueInfo> {
  const [queues, counters, workerIds, failed] = await Promise.all([
    queueSummaries(ctx),
    readCounters(ctx),
    ctx.redis.smembers(ctx.keys.workers),
    ctx.redis.llen(ctx.keys.failed),
  ]);
  const statuses =
    workerIds.length > 0 ? await ctx.redis.mget(workerIds.map((id) => ctx.keys.worker(id))) : [];
  return {
    pending: queues.reduce((sum, q) => sum + q.size, 0),
    processed: counters.processed,
    queues: queues.length,
    workers: workerIds.length,
    working: statuses.filter((status) => status !== null && status !== '').length,
    failed,
    servers: [
      `redis://${describeTarget(ctx.config.redis).replace(/^rediss?:\/\//, '')}/${ctx.config.namespace}`,
    ],
    environment: ctx.config.environment,
  };
}
