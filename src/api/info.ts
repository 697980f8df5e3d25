import { infoFrom, type ResqueInfo } from '../client/info.js';
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
  return infoFrom(ctx, {
    sizes: queues.map((q) => q.size),
    processed: counters.processed,
    workerIds,
    failed,
  });
}
