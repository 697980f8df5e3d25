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
  return infoFrom(ctx, { sizes: Object.values(sizes), processed: Number(processed ?? 0), workerIds, failed });
}

/** The figures around the queue sizes and counters, however those were read (the dashboard reads them tolerantly). */
export async function infoFrom(
  ctx: Pick<ClientContext, 'redis' | 'keys' | 'config'>,
  read: { sizes: readonly number[]; processed: number; workerIds: readonly string[]; failed: number },
): Promise<ResqueInfo> {
  const { redis, keys, config } = ctx;
  const statuses =
    read.workerIds.length > 0 ? await redis.mget(read.workerIds.map((id) => keys.worker(id))) : [];
  return {
    pending: read.sizes.reduce((sum, n) => sum + n, 0),
    processed: read.processed,
    queues: read.sizes.length,
    workers: read.workerIds.length,
    working: statuses.filter((status) => status !== null && status !== '').length,
    failed: read.failed,
    servers: [serverName(describeTarget(config.redis), config.namespace)],
    environment: config.environment,
  };
}

/** Ruby's `redis://host:port/<namespace>`; a cluster keeps its scheme (`redis+cluster://a:1,b:2/<namespace>`). */
function serverName(address: string, namespace: string): string {
  if (/^rediss?\+cluster:\/\//.test(address)) return `${address}/${namespace}`;
  return `redis://${address.replace(/^rediss?:\/\//, '')}/${namespace}`;
}
