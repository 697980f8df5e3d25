import calculateSlot from 'cluster-key-slot';
import type { Redis } from 'ioredis';
import { type ResolvedConfig, resolveConfig } from '../../config/resolve.js';
import { shardConfig, shardLayoutOf } from '../../config/shards.js';
import { Keys } from '../../protocol/keys.js';
import { parseQueueShards } from '../../protocol/shard-layout.js';
import { hashTagOf } from '../../redis/cluster.js';
import { asConnectionError, checkClusterMode, describeTarget, openRedis } from '../../redis/connection.js';
import { CONNECTION_HELP, CONNECTION_OPTIONS, type Command, EXIT, UsageError } from '../command.js';
import { printTable } from '../output.js';
import { stringOption, writeJson } from './support.js';

/** One shard as `resque shards` shows it. */
interface ShardRow {
  shard: number;
  namespace: string;
  slot: number;
  /** The primary serving the slot (`host:port`), or the single Redis. */
  node: string;
  /** Queues in the shard's `queues` set. */
  queues: number;
  /** The queues named with --queue that live on this shard. */
  placed: string[];
}

/**
 * `resque shards`: a sharded namespace's layout (docs/cluster.md, Shards): each shard's namespace, its slot, the node
 * serving it and how many queues it holds; `--queue name` says where a queue lives.
 */
export const shardsCommand: Command = {
  name: 'shards',
  noArguments: true,
  summary:
    "A sharded namespace's layout: each shard's namespace, slot, node and queues; where a queue lives.",
  usage: '--shards n [--queue name …] [--queue-shards q=n,…] [options]',
  options: { ...CONNECTION_OPTIONS, queue: { type: 'string', multiple: true } },
  optionHelp: {
    ...CONNECTION_HELP,
    queue: { value: 'name', description: 'Say which shard this queue lives on (repeatable).' },
  },
  async run({ values }, io) {
    const config = shardedConfig(values, io.env);
    const layout = shardLayoutOf(config);
    if (!layout)
      throw new UsageError('the namespace is not sharded: give --shards n (or RESQUE_SHARDS) above 1');
    const named = (values['queue'] as string[] | undefined) ?? [];
    const redis = openRedis(shardConfig(config, layout.namespaces[0]!), 'client');
    try {
      await checkClusterMode(redis, config).catch((error: unknown) => {
        throw asConnectionError(error, config.redis);
      });
      const nodes = config.cluster ? await slotOwners(redis) : undefined;
      const rows: ShardRow[] = await Promise.all(
        layout.namespaces.map(async (namespace, shard) => {
          const slot = calculateSlot(hashTagOf(namespace)!);
          return {
            shard,
            namespace,
            slot,
            node: nodes ? (nodes.find((range) => slot >= range.from && slot <= range.to)?.node ?? '?') : '',
            queues: await redis.scard(new Keys(namespace).queues),
            placed: named.filter((queue) => layout.shardOf(queue) === shard),
          };
        }),
      );
      if (!nodes) for (const row of rows) row.node = describeTarget(config.redis);
      if (values['json']) {
        writeJson(io, { base: layout.base, shards: rows });
        return EXIT.ok;
      }
      printTable(
        io.stdout,
        ['shard', 'namespace', 'slot', 'node', 'queues', ...(named.length > 0 ? ['placed'] : [])],
        rows.map((row) => [
          String(row.shard),
          row.namespace,
          String(row.slot),
          row.node,
          String(row.queues),
          ...(named.length > 0 ? [row.placed.join(' ')] : []),
        ]),
      );
      return EXIT.ok;
    } finally {
      redis.disconnect();
    }
  },
};

function shardedConfig(values: Record<string, unknown>, env: NodeJS.ProcessEnv): ResolvedConfig {
  const shards = stringOption(values, 'shards');
  if (shards !== undefined && !/^\d+$/.test(shards))
    throw new UsageError(`--shards must be a positive integer, got ${JSON.stringify(shards)}`);
  const queueShards = stringOption(values, 'queue-shards');
  return resolveConfig(
    {
      redis: stringOption(values, 'redis'),
      namespace: stringOption(values, 'namespace'),
      shards: shards === undefined ? undefined : Number(shards),
      queueShards: queueShards === undefined ? undefined : parseQueueShards(queueShards, '--queue-shards'),
    },
    env,
  );
}

/** Which primary serves each slot range (`CLUSTER SLOTS`). */
async function slotOwners(redis: Redis): Promise<Array<{ from: number; to: number; node: string }>> {
  const ranges = (await redis.cluster('SLOTS')) as unknown as Array<
    [number, number, [string, number, ...unknown[]]]
  >;
  return ranges.map(([from, to, [host, port]]) => ({ from, to, node: `${host}:${port}` }));
}
