import calculateSlot from 'cluster-key-slot';
import { ConfigError } from '../errors/index.js';

/**
 * A sharded namespace (docs/cluster.md, Shards): `shards` one-slot namespaces made from one base name, each a whole
 * Resque namespace of its own (queues, in-flight jobs, delayed jobs, retries, failures, workers, stats), and every
 * queue assigned to one of them. Spread over a Redis Cluster, each shard's keys live on the primary serving its slot.
 */

/** Redis Cluster's slot count. */
const CLUSTER_SLOTS = 16384;
/** More shards than this would put several in one slot's neighbourhood for nothing: a cluster has at most ~1000 primaries. */
export const MAX_SHARDS = 1024;

/**
 * Shard `index` of `count`'s namespace: `{<base>:<index>}`, or `{<base>:<index>:<n>}` with the smallest `n` that puts
 * the tag's slot in the index-th of `count` equal slot ranges. A cluster made with even slot ranges (what
 * `redis-cli --cluster create` and managed services do) then serves the shards from its primaries in turn: 3 shards on
 * 3 primaries land one on each.
 */
export function shardNamespace(base: string, index: number, count: number): string {
  const low = Math.floor((index * CLUSTER_SLOTS) / count);
  const high = Math.floor(((index + 1) * CLUSTER_SLOTS) / count);
  for (let n = 0; ; n++) {
    const tag = n === 0 ? `${base}:${index}` : `${base}:${index}:${n}`;
    const slot = calculateSlot(tag);
    if (slot >= low && slot < high) return `{${tag}}`;
  }
}

/** One shard's part of a worker's queue list, in the list's order. */
export interface ShardQueues {
  readonly shard: number;
  readonly namespace: string;
  readonly queues: readonly string[];
}

export class ShardLayout {
  /** Each shard's namespace, by index. */
  readonly namespaces: readonly string[];

  constructor(
    readonly base: string,
    readonly count: number,
    /** Queues placed by name instead of by hash. */
    readonly placed: ReadonlyMap<string, number> = new Map(),
  ) {
    checkLayout(base, count, placed);
    this.namespaces = Array.from({ length: count }, (_, index) => shardNamespace(base, index, count));
  }

  /** The shard a queue's jobs live on: where it was placed, else by the CRC16 slot of its name. */
  shardOf(queue: string): number {
    return this.placed.get(queue) ?? Math.floor((calculateSlot(queue) * this.count) / CLUSTER_SLOTS);
  }

  namespaceOf(queue: string): string {
    return this.namespaces[this.shardOf(queue)]!;
  }

  /**
   * A worker's queue list split by shard: a named queue goes to its shard, a pattern (`*`, `mail_*`) and an exclusion
   * (`!slow`) to every shard. Shards left with exclusions only are dropped; the others come in the order of their first
   * named queue or pattern, each keeping the list's order.
   */
  split(list: readonly string[]): ShardQueues[] {
    const byShard = new Map<number, string[]>();
    const add = (shard: number, entry: string) => {
      const entries = byShard.get(shard);
      if (entries) entries.push(entry);
      else byShard.set(shard, [entry]);
    };
    const everywhere = (entry: string) => {
      for (let shard = 0; shard < this.count; shard++) add(shard, entry);
    };
    for (const entry of list) {
      if (entry.startsWith('!') || isPattern(entry)) everywhere(entry);
      else add(this.shardOf(entry), entry);
    }
    const result: ShardQueues[] = [];
    for (const [shard, queues] of byShard) {
      if (queues.every((q) => q.startsWith('!'))) continue;
      result.push({ shard, namespace: this.namespaces[shard]!, queues });
    }
    return result;
  }
}

function checkLayout(base: string, count: number, placed: ReadonlyMap<string, number>): void {
  if (!Number.isInteger(count) || count < 1 || count > MAX_SHARDS)
    throw new ConfigError('shards', `expected an integer from 1 to ${MAX_SHARDS}, got ${String(count)}`);
  if (count > 1 && /[{}]/.test(base))
    throw new ConfigError(
      'namespace',
      `with shards the namespace is the base each shard's {tag} is made from: use "${base.replace(/[{}]/g, '') || 'resque'}" instead of "${base}"`,
    );
  for (const [queue, shard] of placed)
    if (!Number.isInteger(shard) || shard < 0 || shard >= count)
      throw new ConfigError(
        'queueShards',
        `queue ${JSON.stringify(queue)} is placed on shard ${String(shard)}, but shards are numbered 0 to ${count - 1}`,
      );
}

/** `RESQUE_QUEUE_SHARDS` or `--queue-shards` (`source`, named in the error): `critical=0,mail=2`. */
export function parseQueueShards(text: string, source = 'RESQUE_QUEUE_SHARDS'): Record<string, number> {
  const placed: Record<string, number> = {};
  for (const part of text.split(',')) {
    const entry = part.trim();
    if (entry === '') continue;
    const match = /^([^=\s]+)\s*=\s*(\d+)$/.exec(entry);
    if (!match)
      throw new ConfigError(
        source,
        `expected queue=shard entries separated by commas (critical=0,mail=2), got ${JSON.stringify(entry)}`,
      );
    placed[match[1]!] = Number(match[2]);
  }
  return placed;
}

/** A queue-list entry that is a pattern: queue names cannot hold glob characters (protocol/names.ts), so any is one. */
function isPattern(entry: string): boolean {
  return /[*?[\]{}\\]/.test(entry);
}
