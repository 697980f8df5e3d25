// How a sharded client (docs/cluster.md, Shards, The client) merges the answers of its shards to a call that names no
// queue: each shard is a whole namespace, so a name seen on two shards is the same thing seen twice.
import type { LimitState } from '../limits/definitions.js';
import type { RateLimitState } from '../limits/rate-definitions.js';
import type { JobStatus } from '../status/record.js';

/** Queue sizes of every shard; a queue listed on two shards (a `watchQueue` made before a layout change) adds up. */
export function mergeSizes(parts: ReadonlyArray<Record<string, number>>): Record<string, number> {
  const sizes = new Map<string, number>();
  for (const part of parts)
    for (const [queue, size] of Object.entries(part)) sizes.set(queue, (sizes.get(queue) ?? 0) + size);
  return Object.fromEntries([...sizes].sort(([a], [b]) => compareStrings(a, b)));
}

/** The union of the shards' names, sorted as an unsharded client sorts them. */
export function mergeNames(parts: ReadonlyArray<readonly string[]>): string[] {
  return [...new Set(parts.flat())].sort();
}

/** Paused or fair queues of every shard, each with its earliest date. */
export function mergeDates(parts: ReadonlyArray<ReadonlyMap<string, Date>>): Map<string, Date> {
  const merged = new Map<string, Date>();
  for (const part of parts)
    for (const [name, date] of part) {
      const seen = merged.get(name);
      if (!seen || date < seen) merged.set(name, date);
    }
  return new Map([...merged].sort(([a], [b]) => compareStrings(a, b)));
}

/**
 * Limit definitions of every shard, sorted by name. A class limit is written on every shard a worker running the
 * class serves, so it is listed once; a name defined differently on two shards (workers of two releases) is listed
 * once per distinct definition.
 */
export function mergeLimits<T extends LimitState | RateLimitState>(parts: ReadonlyArray<readonly T[]>): T[] {
  const seen = new Map<string, T>();
  for (const part of parts) for (const limit of part) seen.set(JSON.stringify(limit), limit);
  return [...seen.values()].sort((a, b) => compareStrings(a.name, b.name));
}

/** Per-field sums of the shards' usage figures. */
export function sumFields<T extends Record<string, number>>(parts: readonly T[]): T {
  const total: Record<string, number> = {};
  for (const part of parts)
    for (const [field, n] of Object.entries(part)) total[field] = (total[field] ?? 0) + n;
  return total as T;
}

/**
 * A job's status from the answers of every shard: a job lives on one shard, so at most one knows it. A status record
 * wins over what another shard infers; with none, the first shard's `unknown`.
 */
export function pickStatus(statuses: readonly JobStatus[]): JobStatus {
  return (
    statuses.find((status) => status.source === 'record') ??
    statuses.find((status) => status.state !== 'unknown') ??
    statuses[0]!
  );
}

/** The limit or rate limit name of one queue (`queue:<name>`) names its queue; the others name no queue. */
export function queueOfLimit(name: string): string | undefined {
  return typeof name === 'string' && name.startsWith('queue:') ? name.slice('queue:'.length) : undefined;
}

/** Code-unit order, as `Array.prototype.sort` sorts strings by default. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
