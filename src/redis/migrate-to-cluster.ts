import type { Redis } from 'ioredis';
import { ConfigError, ResqueError } from '../errors/index.js';
import { Keys } from '../protocol/keys.js';
import { checkClusterNamespace, isOneSlotCluster } from './cluster.js';

/**
 * Copies one namespace of a single Redis into a {tagged} namespace of a Redis Cluster (docs/cluster.md, "Moving a
 * single-Redis deployment"): every key with its type and TTL, a bounded number of keys and elements per round trip,
 * each key's size checked on the cluster once written. The source is only read.
 */

export interface MigrationOptions {
  /** A plain connection to the single Redis. */
  source: Redis;
  sourceNamespace: string;
  /** A one-slot cluster connection (openRedis with cluster mode) for `targetNamespace`. */
  target: Redis;
  targetNamespace: string;
  /** Report what would be copied; write nothing. */
  dryRun?: boolean;
  /** Copy even with workers registered on the source or keys already in the target namespace (overwritten). */
  force?: boolean;
  /** Keys per SCAN and per batch, and elements per read and write of one key. Default 500. */
  batchSize?: number;
  /** Called after each batch with the keys copied so far. */
  onProgress?: (copied: number) => void;
}

export interface MigrationReport {
  dryRun: boolean;
  /** Keys copied (or, in a dry run, that would be). */
  keys: number;
  /** Keys by Redis type. */
  byType: Record<string, number>;
  /** Keys with a TTL, copied with their remaining time. */
  withTtl: number;
  /** Elements (list items, hash fields, set and sorted-set members; 1 per string) copied. */
  elements: number;
}

/** The migration cannot go on as asked (bad input: exit code 2 in the CLI): names what to change. Nothing was written. */
export class MigrationRefusedError extends ResqueError {
  constructor(message: string) {
    super('INVALID_MIGRATION', message);
    this.name = 'MigrationRefusedError';
  }
}

/** A key that came out different on the cluster (its size), or that changed type while being copied. */
export class MigrationMismatchError extends ResqueError {
  constructor(message: string) {
    super('MIGRATION_MISMATCH', message);
    this.name = 'MigrationMismatchError';
  }
}

const COPIED_TYPES = new Set(['string', 'list', 'hash', 'set', 'zset']);

export async function migrateToCluster(options: MigrationOptions): Promise<MigrationReport> {
  const { source, target, sourceNamespace, targetNamespace } = options;
  const batchSize = options.batchSize ?? 500;
  checkClusterNamespace(targetNamespace);
  if (!isOneSlotCluster(target as unknown))
    throw new ConfigError('redis', 'the target must be a Redis Cluster: use a redis+cluster:// URL');
  if (/^cluster_enabled:1\b/m.test(await source.info('cluster')))
    throw new MigrationRefusedError(
      'the source is a Redis Cluster node: the source must be the single Redis the namespace lives on now',
    );
  const from = new Keys(sourceNamespace);
  const to = new Keys(targetNamespace);
  if (!options.force) await checkNothingRuns(source, from, target, to);

  const report: MigrationReport = {
    dryRun: options.dryRun === true,
    keys: 0,
    byType: {},
    withTtl: 0,
    elements: 0,
  };
  const sourcePattern = `${globEscape(from.prefix)}*`;
  let cursor = '0';
  do {
    const [next, batch] = await source.scan(cursor, 'MATCH', sourcePattern, 'COUNT', batchSize);
    cursor = next;
    const pipeline = source.pipeline();
    for (const key of batch) pipeline.type(key).pttl(key);
    const answers = (await pipeline.exec()) ?? [];
    await Promise.all(
      batch.map(async (key, i) => {
        const type = String(answers[2 * i]?.[1] ?? 'none');
        const ttl = Number(answers[2 * i + 1]?.[1] ?? -2);
        if (type === 'none') return; // gone since SCAN saw it
        if (!COPIED_TYPES.has(type))
          throw new MigrationRefusedError(
            `${key} is a ${type}; only strings, lists, hashes, sets and sorted sets are copied`,
          );
        const into = renamed(key, from, to);
        const copied = options.dryRun ? 0 : await copyKey(source, key, target, into, type, batchSize);
        if (copied === undefined) return; // expired while it was copied
        report.keys += 1;
        report.byType[type] = (report.byType[type] ?? 0) + 1;
        report.elements += copied;
        if (ttl > 0) {
          report.withTtl += 1;
          if (!options.dryRun) await target.pexpire(into, ttl);
        }
      }),
    );
    options.onProgress?.(report.keys);
  } while (cursor !== '0');
  if (!options.dryRun) await verifyCount(target, to, report.keys, options.force === true);
  return report;
}

/** Refuses while workers are registered on the source, or the target namespace holds keys. */
async function checkNothingRuns(source: Redis, from: Keys, target: Redis, to: Keys): Promise<void> {
  const workers = await source.scard(from.workers);
  if (workers > 0)
    throw new MigrationRefusedError(
      `${workers} worker(s) are registered on the source (${from.workers}): stop them first (resque workers lists them), or pass --force if they are gone for good`,
    );
  const anyKey = await firstKeys(target, to);
  if (anyKey.length > 0)
    throw new MigrationRefusedError(
      `the target namespace ${to.namespace} is not empty (${anyKey[0]}…): migrate into an empty namespace, or pass --force to overwrite the keys it has`,
    );
}

async function firstKeys(redis: Redis, keys: Keys): Promise<string[]> {
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${globEscape(keys.prefix)}*`, 'COUNT', 1000);
    if (found.length > 0) return found;
    cursor = next;
  } while (cursor !== '0');
  return [];
}

/**
 * `<from>:name` → `<to>:name`; resque-scheduler's master lock, namespaced twice (`<from>:<from>:…`), keeps that form
 * (`<to>:<to>:…`).
 */
export function renamed(key: string, from: Keys, to: Keys): string {
  const rest = key.slice(from.prefix.length);
  return rest.startsWith(from.prefix)
    ? `${to.prefix}${to.prefix}${rest.slice(from.prefix.length)}`
    : `${to.prefix}${rest}`;
}

/**
 * Copies one key, `chunk` elements per read and write; returns how many elements it copied, or undefined when the key
 * expired meanwhile (its copy is removed).
 */
async function copyKey(
  source: Redis,
  key: string,
  target: Redis,
  into: string,
  type: string,
  chunk: number,
): Promise<number | undefined> {
  await target.del(into);
  let copied = 0;
  switch (type) {
    case 'string': {
      const value = await source.getBuffer(key);
      if (value !== null) await target.set(into, value);
      copied = value === null ? 0 : 1;
      break;
    }
    case 'list':
      for (let start = 0; ; start += chunk) {
        const items = await source.lrangeBuffer(key, start, start + chunk - 1);
        if (items.length > 0) await target.rpush(into, ...items);
        copied += items.length;
        if (items.length < chunk) break;
      }
      break;
    case 'hash':
      copied =
        (await scanCopy(
          (cursor) => source.hscanBuffer(key, cursor, 'COUNT', chunk),
          (pairs) => target.hset(into, ...pairs),
        )) / 2;
      break;
    case 'set':
      copied = await scanCopy(
        (cursor) => source.sscanBuffer(key, cursor, 'COUNT', chunk),
        (members) => target.sadd(into, ...members),
      );
      break;
    case 'zset':
      copied =
        (await scanCopy(
          (cursor) => source.zscanBuffer(key, cursor, 'COUNT', chunk),
          (pairs) => {
            const scoreFirst: (string | Buffer)[] = [];
            for (let i = 0; i < pairs.length; i += 2) scoreFirst.push(pairs[i + 1]!.toString(), pairs[i]!);
            return target.zadd(into, ...scoreFirst);
          },
        )) / 2;
      break;
  }
  if (!(await verifyKey(source, key, target, into, type))) {
    await target.del(into);
    return undefined;
  }
  return copied;
}

/** HSCAN/SSCAN/ZSCAN from the source, each page written at once; returns the number of items (pairs count twice). */
async function scanCopy(
  read: (cursor: string) => Promise<[Buffer, Buffer[]]>,
  write: (items: Buffer[]) => Promise<unknown>,
): Promise<number> {
  let cursor = '0';
  let items = 0;
  do {
    const [next, page] = await read(cursor);
    cursor = next.toString();
    if (page.length > 0) await write(page);
    items += page.length;
  } while (cursor !== '0');
  return items;
}

const SIZE_OF: Record<string, (redis: Redis, key: string) => Promise<number>> = {
  string: (redis, key) => redis.strlen(key),
  list: (redis, key) => redis.llen(key),
  hash: (redis, key) => redis.hlen(key),
  set: (redis, key) => redis.scard(key),
  zset: (redis, key) => redis.zcard(key),
};

/** Whether the copy has the source key's size; false when the source key is gone (expired). */
async function verifyKey(
  source: Redis,
  key: string,
  target: Redis,
  into: string,
  type: string,
): Promise<boolean> {
  const [sourceType, sourceSize, targetSize] = await Promise.all([
    source.type(key),
    SIZE_OF[type]!(source, key),
    SIZE_OF[type]!(target, into),
  ]);
  if (sourceType === 'none') return false;
  if (sourceType !== type || sourceSize !== targetSize)
    throw new MigrationMismatchError(
      `${key} changed while it was copied (${type} of ${sourceSize} on the source, ${targetSize} on the cluster as ${into}): stop every worker and client of the namespace, then migrate again with --force`,
    );
  return true;
}

/** The target namespace holds as many keys as were copied (at least as many with --force over existing keys). */
async function verifyCount(target: Redis, to: Keys, copied: number, force: boolean): Promise<void> {
  let cursor = '0';
  let found = 0;
  do {
    const [next, batch] = await target.scan(cursor, 'MATCH', `${globEscape(to.prefix)}*`, 'COUNT', 1000);
    cursor = next;
    found += batch.length;
  } while (cursor !== '0');
  if (found < copied || (!force && found !== copied))
    throw new MigrationMismatchError(
      `copied ${copied} keys but the cluster's namespace ${to.namespace} holds ${found}: something else writes to it`,
    );
}

/** A namespace as a literal SCAN MATCH pattern (`{`, `}` are not special; `*?[]\` are). */
function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
