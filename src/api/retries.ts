import { freeUniqueLockOfItem } from '../client/unique-locks.js';
import { type AttemptError, attemptOf, attemptsOf, errorHistoryOf } from '../protocol/attempts.js';
import type { JsonValue } from '../protocol/json.js';
import { decodePayload, type JobPayload } from '../protocol/payload.js';
import { moveRetries } from '../scheduler/retry-promotion.js';
import { parseInflight } from '../worker/fetch/inflight.js';
import type { AdminContext } from './context.js';

/** A job waiting in the retry set for its next attempt. */
export interface RetryingJob {
  /**
   * Its member of `ts:retry` in base64url (the member holds newlines, which forms rewrite): what "retry now" and
   * "remove" are given back.
   */
  ref: string;
  /** The shard its queue lives on, on a sharded namespace (its `ref` carries it too). */
  shard?: number;
  queue: string;
  /** When its next attempt is due (epoch ms). */
  dueAtMs: number;
  /** Undefined when the item is not a job (it is still moved as it is). */
  className: string | undefined;
  args: JsonValue[] | undefined;
  id: string | undefined;
  /** The number its next attempt will run under. */
  attempt: number;
  /** Its attempts in all (the next one included), when the worker that filed it said. */
  attempts: number | undefined;
  /** Its failed attempts' errors, oldest first (the latest few). */
  errors: AttemptError[];
  /** The item's bytes. */
  raw: string;
}

export interface RetryPage {
  jobs: RetryingJob[];
  /** Jobs in the retry set. */
  total: number;
}

/** "2 of 3" when the job's attempts in all are known, else "2". */
export function attemptText(job: Pick<RetryingJob, 'attempt' | 'attempts'>): string {
  return job.attempts === undefined ? String(job.attempt) : `${job.attempt} of ${job.attempts}`;
}

/** A page of the retry set, earliest due first: one MULTI (ZCARD + ZRANGE), O(page). */
export async function retryPage(ctx: AdminContext, offset: number, limit: number): Promise<RetryPage> {
  const reply = await ctx.redis
    .multi()
    .zcard(ctx.keys.retrySet)
    .zrange(ctx.keys.retrySet, offset, offset + limit - 1, 'WITHSCORES')
    .exec();
  const total = Number(reply?.[0]?.[1] ?? 0);
  const flat = (reply?.[1]?.[1] ?? []) as string[];
  const jobs: RetryingJob[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const job = retryingJob(flat[i]!, Number(flat[i + 1]));
    if (job) jobs.push(job);
  }
  return { jobs, total };
}

export function retryCount(ctx: AdminContext): Promise<number> {
  return ctx.redis.zcard(ctx.keys.retrySet);
}

/** Moves one waiting job to its queue now (the promotion script at its own due time); false when it is gone. */
export async function retryNow(ctx: AdminContext, ref: string): Promise<boolean> {
  const member = memberOf(ref);
  const due = await ctx.redis.zscore(ctx.keys.retrySet, member);
  if (due === null) return false;
  return (await moveRetries(ctx, [member], Number(due))) === 1;
}

/**
 * Drops one waiting job: it is not retried and not recorded as a failure, and a unique job frees its lock (it ends
 * for good). False when it is gone.
 */
export async function removeRetry(ctx: AdminContext, ref: string): Promise<boolean> {
  const member = memberOf(ref);
  if ((await ctx.redis.zrem(ctx.keys.retrySet, member)) !== 1) return false;
  await freeUniqueLockOfItem(ctx, parseInflight(member)?.raw ?? '');
  return true;
}

/** The member of `ts:retry` a ref names. */
export function memberOf(ref: string): string {
  return Buffer.from(ref, 'base64url').toString('utf8');
}

function retryingJob(member: string, dueAtMs: number): RetryingJob | undefined {
  const entry = parseInflight(member);
  if (!entry) return undefined;
  const ref = Buffer.from(member, 'utf8').toString('base64url');
  let payload: JobPayload | undefined;
  try {
    payload = decodePayload(entry.raw);
  } catch {
    payload = undefined;
  }
  return {
    ref,
    queue: entry.queue,
    dueAtMs,
    className: payload?.class,
    args: payload?.args,
    id: typeof payload?.id === 'string' ? payload.id : undefined,
    attempt: attemptOf(payload),
    attempts: attemptsOf(payload),
    errors: errorHistoryOf(payload),
    raw: entry.raw,
  };
}
