import { describeTarget } from '../redis/connection.js';
import type { ClientContext } from './context.js';
import { queueSizes } from './inspect.js';

/** Resque.info's fields (docs/protocol.md, `info()`). `failed` is `LLEN failed`, as Ruby reports it. */
export interface ResqueInfo {
  pending: number;
  processed: number;
  queues: number;
  workers: number;
  working: number;
  failed: number;
  servers: string[];
  environment: string;
}

export async function resqueInfo(ctx: ClientContext): Promise<ResqueInfo> {
  const sizes = await queueSizes(ctx);
  const [processed, workerIds, failed] = await Promise.all([
    ctx.redis.get(ctx.keys.processed),
    ctx.redis.smembers(ctx.keys.workers),
    ctx.redis.llen(ctx.keys.failed),
  ]);
  const statuses =
    workerIds.length > 0 ? await ctx.redis.mget(workerIds.map((id) => ctx.keys.worker(id))) : [];
  return {
    pending: Object.values(sizes).reduce((sum, n) => sum + n, 0),
    processed: Number(processed ?? 0),
    queues: Object.keys(sizes).length,
    workers: workerIds.length,
    working: statuses.filter((status) => status !== null && status !== '').length,
    failed,
    servers: [
      `redis://${describeTarget(ctx.config.redis).replace(/^rediss?:\/\//, '')}/${ctx.config.namespace}`,
    ],
    environment: ctx.config.environment,
  };
}
