import type { Redis } from 'ioredis';
import type { ResolvedConfig } from '../config/resolve.js';
import { shardConfig, shardLayoutOf } from '../config/shards.js';
import { Keys } from '../protocol/keys.js';
import { openRedis } from '../redis/connection.js';
import type { ShardTargets } from './scheduler.js';

export interface SchedulerConnections {
  /** Where the master lock and the persistent schedules live: the namespace, or shard 0 of a sharded one. */
  readonly redis: Redis;
  readonly keys: Keys;
  /** Every shard of a sharded namespace; undefined otherwise. */
  readonly shards: ShardTargets | undefined;
  /** Every connection opened, to close. */
  readonly connections: readonly Redis[];
}

/** A scheduler's connections: one for a namespace that is not sharded, one per shard (each to its slot) otherwise. */
export function openSchedulerConnections(config: ResolvedConfig): SchedulerConnections {
  const layout = shardLayoutOf(config);
  if (!layout) {
    const redis = openRedis(config, 'worker');
    return { redis, keys: new Keys(config.namespace), shards: undefined, connections: [redis] };
  }
  const targets = layout.namespaces.map((namespace) => ({
    redis: openRedis(shardConfig(config, namespace), 'worker'),
    keys: new Keys(namespace),
  }));
  return {
    ...targets[0]!,
    shards: { targets, shardOf: (queue) => layout.shardOf(queue) },
    connections: targets.map((target) => target.redis),
  };
}
