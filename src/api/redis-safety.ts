import type { Redis } from 'ioredis';
import { RedisUnsafeError } from '../errors/index.js';
import type { Logger } from '../logging/logger.js';
import { parseInfo } from './redis-info.js';

/**
 * Settings under which Redis itself can lose queued jobs:
 * - `EVICTION_POLICY`: `maxmemory-policy` is not `noeviction`, so under memory pressure Redis deletes keys (queues,
 *   failures, worker records) without telling anyone, instead of refusing writes.
 * - `NO_PERSISTENCE`: neither AOF nor RDB snapshots are on, so a restart empties every queue.
 */
export type RedisRiskCode = 'EVICTION_POLICY' | 'NO_PERSISTENCE';

export interface RedisRisk {
  code: RedisRiskCode;
  /** One line for people, saying what to change. */
  message: string;
}

/** How Redis is configured to keep data; `undefined` fields could not be read (a managed Redis may refuse). */
export interface RedisSafety {
  /** `maxmemory-policy` (from INFO, which servers that refuse CONFIG still answer). */
  maxmemoryPolicy: string | undefined;
  /** `maxmemory` in bytes; 0 means no limit. */
  maxmemoryBytes: number | undefined;
  /** AOF is on. */
  appendOnly: boolean | undefined;
  /** The RDB `save` rules (`3600 1 300 100`); empty when snapshots are off; undefined when CONFIG GET is refused. */
  saveRules: string | undefined;
  /** What can lose jobs, empty when nothing known can. */
  risks: RedisRisk[];
}

/**
 * Reads the settings that decide whether Redis can drop jobs and names the risks. Two round trips at most, read-only.
 * A server that refuses INFO or CONFIG GET (managed services rename or forbid them) is not an error: what cannot be
 * read is left undefined and raises no warning. Connection errors are thrown as they come.
 */
export async function checkRedisSafety(redis: Redis): Promise<RedisSafety> {
  const [memory, persistence] = await Promise.all([
    refusedAsUndefined(redis.info('memory')),
    refusedAsUndefined(redis.info('persistence')),
  ]);
  const fields = new Map(parseInfo(`${memory ?? ''}\n${persistence ?? ''}`).flatMap((s) => s.entries));
  const maxmemoryPolicy = fields.get('maxmemory_policy') ?? (await configValue(redis, 'maxmemory-policy'));
  const maxmemory = fields.get('maxmemory');
  const aof = fields.get('aof_enabled');
  const appendOnly = aof === undefined ? undefined : aof === '1';
  // INFO does not say whether snapshots are scheduled; only CONFIG does. With AOF on the answer does not matter.
  const saveRules = appendOnly === true ? undefined : await configValue(redis, 'save');
  const safety: RedisSafety = {
    maxmemoryPolicy,
    maxmemoryBytes: maxmemory === undefined ? undefined : Number(maxmemory),
    appendOnly,
    saveRules,
    risks: [],
  };
  safety.risks = risksOf(safety);
  return safety;
}

/** The risks a set of settings carries; unknown settings carry none. */
export function risksOf(settings: Omit<RedisSafety, 'risks'>): RedisRisk[] {
  const risks: RedisRisk[] = [];
  const policy = settings.maxmemoryPolicy;
  if (policy !== undefined && policy !== 'noeviction') {
    risks.push({
      code: 'EVICTION_POLICY',
      message:
        `Redis maxmemory-policy is "${policy}": under memory pressure Redis deletes keys, queued jobs included; ` +
        'set it to "noeviction" (CONFIG SET maxmemory-policy noeviction, and in redis.conf)',
    });
  }
  if (settings.appendOnly === false && settings.saveRules === '') {
    risks.push({
      code: 'NO_PERSISTENCE',
      message:
        'Redis persists nothing (appendonly no, no save rules): a restart empties every queue; ' +
        'turn on AOF (appendonly yes) or RDB snapshots (save)',
    });
  }
  return risks;
}

async function configValue(redis: Redis, name: string): Promise<string | undefined> {
  const reply = await refusedAsUndefined(redis.config('GET', name) as Promise<unknown>);
  if (!Array.isArray(reply)) return undefined;
  const at = reply.indexOf(name);
  return at >= 0 && typeof reply[at + 1] === 'string' ? (reply[at + 1] as string) : undefined;
}

/** A command the server refuses (unknown, renamed, NOPERM) answers undefined; other errors are thrown. */
async function refusedAsUndefined<T>(reply: Promise<T>): Promise<T | undefined> {
  try {
    return await reply;
  } catch (error) {
    if (error instanceof Error && error.name === 'ReplyError') return undefined;
    throw error;
  }
}

/**
 * A worker's start-up check: each risk logged as a warning; with `refuse`, a RedisUnsafeError instead (the worker does
 * not start). A check that fails for another reason (the connection) is logged and lets the worker start: the worker
 * deals with its connection as it always does.
 */
export async function checkRedisAtStartUp(redis: Redis, logger: Logger, refuse: boolean): Promise<void> {
  let risks: RedisRisk[];
  try {
    risks = (await checkRedisSafety(redis)).risks;
  } catch (error) {
    logger.warn(`Could not check whether Redis can lose jobs: ${(error as Error).message}`);
    return;
  }
  if (refuse && risks.length > 0) throw new RedisUnsafeError(risks);
  for (const risk of risks)
    logger.warn(`${risk.message} (RESQUE_REFUSE_UNSAFE_REDIS=1 refuses to start instead)`);
}
