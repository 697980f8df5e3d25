// Reading and clearing one unique key's lock (docs/unique-jobs.md): for an operator who removed a job by hand and
// wants its key free before the lock's TTL runs out.
import { ConfigError } from '../errors/index.js';
import { releaseLock } from '../fleet/lock.js';
import type { JobDefinition } from '../jobs/define.js';
import { type UniqueLock, uniqueLockOf } from '../jobs/unique.js';
import { assertJsonSafe, type JsonValue } from '../protocol/json.js';
import type { ClientContext } from './context.js';

function lockOf(job: JobDefinition, args: JsonValue[]): UniqueLock {
  if (!job || typeof job !== 'object' || job.unique === undefined)
    throw new ConfigError(
      'unique',
      `Job ${job?.className ?? String(job)} is not unique (no "unique" in its definition)`,
    );
  assertJsonSafe(args, 'args');
  const lock = uniqueLockOf(job.className, job.unique, args);
  if (!lock) throw new ConfigError('unique', `Job ${job.className} is not unique`);
  return lock;
}

/** The id of the job holding the key of `job` with `args`, or null when the key is free. */
export async function uniqueHolder(
  ctx: ClientContext,
  job: JobDefinition,
  args: JsonValue[],
): Promise<string | null> {
  return ctx.redis.get(ctx.keys.uniqueLock(lockOf(job, args).key));
}

/**
 * Deletes the lock of `job` with `args` whoever holds it; true when there was one. The job holding it, if it is still
 * queued or running, no longer keeps duplicates out and leaves alone a lock taken after this.
 */
export async function releaseUnique(
  ctx: ClientContext,
  job: JobDefinition,
  args: JsonValue[],
): Promise<boolean> {
  return (await ctx.redis.del(ctx.keys.uniqueLock(lockOf(job, args).key))) === 1;
}

/**
 * A unique job that ends for good outside the scripts that run it (cancelled, or dropped from the retry set by hand):
 * its lock (`unique`, the payload's `"unique"` member) goes, if it still holds the job's id.
 */
export async function freeUniqueLock(
  ctx: Pick<ClientContext, 'redis' | 'keys'>,
  id: string,
  unique: unknown,
): Promise<void> {
  const key = unique !== null && typeof unique === 'object' ? (unique as { key?: unknown }).key : undefined;
  if (typeof key === 'string') await releaseLock(ctx.redis, ctx.keys.uniqueLock(key), id);
}

/** freeUniqueLock for a job known by its bytes; nothing for a job that is not unique or has no id. */
export async function freeUniqueLockOfItem(
  ctx: Pick<ClientContext, 'redis' | 'keys'>,
  item: string,
): Promise<void> {
  if (!item.includes('"unique":')) return;
  let payload: { id?: unknown; unique?: unknown };
  try {
    payload = JSON.parse(item) as { id?: unknown; unique?: unknown };
  } catch {
    return;
  }
  if (typeof payload.id === 'string') await freeUniqueLock(ctx, payload.id, payload.unique);
}
