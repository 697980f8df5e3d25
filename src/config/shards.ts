import { ShardLayout } from '../protocol/shard-layout.js';
import type { ResolvedConfig } from './resolve.js';

/** The configuration's shard layout, or undefined for a namespace that is not sharded (`shards: 1`). */
export function shardLayoutOf(config: Pick<ResolvedConfig, 'namespace' | 'shards' | 'queueShards'>) {
  if (config.shards <= 1) return undefined;
  return new ShardLayout(config.namespace, config.shards, new Map(Object.entries(config.queueShards)));
}

/**
 * One shard's configuration: the same settings on the shard's own namespace, not sharded, with `queues` (a worker's
 * part of its queue list on that shard) when given.
 */
export function shardConfig(
  config: ResolvedConfig,
  namespace: string,
  queues: readonly string[] = config.queues,
): ResolvedConfig {
  return Object.freeze({
    ...config,
    namespace,
    shards: 1,
    queueShards: {},
    queues: Object.freeze([...queues]),
  });
}

/** Every shard's configuration, by index; a namespace that is not sharded is its own only shard. */
export function allShardConfigs(config: ResolvedConfig): ResolvedConfig[] {
  const layout = shardLayoutOf(config);
  if (!layout) return [config];
  return layout.namespaces.map((namespace) => shardConfig(config, namespace));
}
