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
  return mergeInfo([await shardInfo(ctx)], ctx.config.environment);
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

/** One shard's figures for a sharded client's `info()`, with the ids of its workers and of those working. */
export interface ShardInfo {
  sizes: Record<string, number>;
  processed: number;
  failed: number;
  workers: string[];
  working: string[];
  server: string;
}

export async function shardInfo(ctx: ClientContext): Promise<ShardInfo> {
  const [sizes, processed, workers, failed] = await Promise.all([
    queueSizes(ctx),
    ctx.redis.get(ctx.keys.processed),
    ctx.redis.smembers(ctx.keys.workers),
    ctx.redis.llen(ctx.keys.failed),
  ]);
  const statuses = workers.length > 0 ? await ctx.redis.mget(workers.map((id) => ctx.keys.worker(id))) : [];
  return {
    sizes,
    processed: Number(processed ?? 0),
    failed,
    workers,
    working: workers.filter((_, i) => statuses[i] !== null && statuses[i] !== ''),
    server: serverName(describeTarget(ctx.config.redis), ctx.config.namespace),
  };
}

/**
 * The shards' figures as one: counts add up; a worker registered on several shards (one process serving queues on
 * each) counts once, and as working when it works on any.
 */
export function mergeInfo(parts: readonly ShardInfo[], environment: string): ResqueInfo {
  const queues = new Set(parts.flatMap((part) => Object.keys(part.sizes)));
  return {
    pending: parts.reduce((sum, part) => sum + Object.values(part.sizes).reduce((a, n) => a + n, 0), 0),
    processed: parts.reduce((sum, part) => sum + part.processed, 0),
    queues: queues.size,
    workers: new Set(parts.flatMap((part) => part.workers)).size,
    working: new Set(parts.flatMap((part) => part.working)).size,
    failed: parts.reduce((sum, part) => sum + part.failed, 0),
    servers: [...new Set(parts.map((part) => part.server))],
    environment,
  };
}
