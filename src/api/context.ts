import type { Redis } from 'ioredis';
import { connectionAdvice } from '../config/redis-source.js';
import type { ResolvedConfig } from '../config/resolve.js';
import { ResqueError } from '../errors/index.js';
import type { Keys } from '../protocol/keys.js';
import { asConnectionError, checkClusterMode } from '../redis/connection.js';
import { pipelineValues, timeReplyMs } from '../redis/replies.js';
import { isWrongTypeError, keyTypeProblems, WrongTypeError } from './key-types.js';

/** What the admin read model needs: one connection, the key builder and the frozen config. */
export interface AdminContext {
  readonly redis: Redis;
  readonly keys: Keys;
  readonly config: ResolvedConfig;
}

/**
 * Runs an admin operation, turning an unreachable Redis into RedisConnectionError and a WRONGTYPE answer into a
 * WrongTypeError that names the key (our own errors pass as they are).
 */
export async function guarded<T>(ctx: AdminContext, operation: () => Promise<T>): Promise<T> {
  try {
    await checkClusterMode(ctx.redis, ctx.config);
    return await operation();
  } catch (error) {
    if (error instanceof ResqueError || error instanceof WrongTypeError) throw error;
    if (isWrongTypeError(error)) throw new WrongTypeError(await keyTypeProblems(ctx));
    throw asConnectionError(error, ctx.config.redis, connectionAdvice(ctx.config.redisSource));
  }
}

/** The Redis server's clock (TIME), so ages do not depend on this machine's clock. */
export const redisNow = timeReplyMs;
export { pipelineValues };
