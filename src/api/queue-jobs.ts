import { DEQUEUE_CHUNK, removeMatching } from '../client/dequeue.js';
import { removeQueue as dropQueue, type QueuedJob, toQueuedJob } from '../client/inspect.js';
import { syncQueueIndex } from '../client/queue-index.js';
import { QueueNotFoundError } from '../errors/index.js';
import { JobRegistry } from '../jobs/registry.js';
import { type AdminContext, pipelineValues } from './context.js';
import { explainWrongType, isWrongTypeError } from './key-types.js';
import { queueExists } from './queues.js';

/**
 * A queue's jobs for the dashboard: a page by position (LLEN + LRANGE, O(page)), and search, count and removal by
 * class and argument text, which read the queue in chunks of 1,000 (O(queue), never blocking Redis for long).
 */
export interface JobMatch {
  /** Jobs of this class (`class` of the payload). */
  className?: string;
  /** Jobs whose arguments, as JSON text, contain this text (ignoring case). */
  argsText?: string;
}

export interface QueueJobsPage {
  queue: string;
  /** Jobs in the queue when the page was read. */
  size: number;
  offset: number;
  limit: number;
  jobs: QueuedJob[];
}

export async function queueJobsPage(
  ctx: AdminContext,
  queue: string,
  offset: number,
  limit: number,
): Promise<QueueJobsPage> {
  const key = ctx.keys.queue(queue);
  const [exists, size, items] = (await asList(ctx, queue, async () =>
    pipelineValues(
      await ctx.redis
        .multi()
        .sismember(ctx.keys.queues, queue)
        .llen(key)
        .lrange(key, offset, offset + limit - 1)
        .exec(),
    ),
  )) as [number, number, string[]];
  if (Number(exists) !== 1 && Number(size) === 0) throw new QueueNotFoundError(queue);
  return {
    queue,
    size: Number(size),
    offset,
    limit,
    jobs: items.map((raw, i) => toQueuedJob(raw, offset + i)),
  };
}

/** True when the match selects every job (no criteria). */
export function matchesAll(match: JobMatch): boolean {
  return !match.className && !match.argsText;
}

/** The test a job must pass; malformed items match only an arguments search that finds the text in their bytes. */
export function jobMatcher(match: JobMatch): (job: QueuedJob) => boolean {
  const needle = match.argsText?.toLowerCase();
  return (job) => {
    const payload = job.payload;
    if (match.className && payload?.class !== match.className) return false;
    if (needle) {
      const text = payload ? JSON.stringify(payload.args) : job.raw;
      if (!text.toLowerCase().includes(needle)) return false;
    }
    return true;
  };
}

/**
 * A cheap test on the stored bytes that only says "cannot match" when that is certain: the class name or the text
 * is absent from the bytes, and nothing in them could make the decoded job match anyway. What could: escapes
 * (`\u0041`), numbers JavaScript prints other than they are stored (`1e3` is `1000`; 16 digits or more may round),
 * and, for text with JSON punctuation in it, the spacing of the stored JSON. Lets counts and searches
 * skip decoding most of a million jobs.
 */
export function rawPrefilter(match: JobMatch): (raw: string) => boolean {
  const className = match.className;
  const needle = match.argsText?.toLowerCase();
  const structural = needle !== undefined && /[,:[\]{}"]/.test(needle);
  return (raw) => {
    if (raw.includes('\\') || EXPONENT_OR_HUGE.test(raw)) return true;
    if (className && !raw.includes(className)) return false;
    if (needle && !structural && !raw.toLowerCase().includes(needle)) return false;
    return true;
  };
}

/** A number written with an exponent, or with so many digits that JavaScript may print it otherwise. */
const EXPONENT_OR_HUGE = /\d[eE][+-]?\d|\d{16}/;

/** The full test on a stored item: the prefilter, then the decoded job. */
function itemMatcher(match: JobMatch): (raw: string, index: number) => QueuedJob | undefined {
  const quick = rawPrefilter(match);
  const test = jobMatcher(match);
  return (raw, index) => {
    if (!quick(raw)) return undefined;
    const job = toQueuedJob(raw, index);
    return test(job) ? job : undefined;
  };
}

export interface QueueSearch {
  queue: string;
  size: number;
  /** Matches skipped before `jobs` (the page's offset among the matches). */
  offset: number;
  limit: number;
  jobs: QueuedJob[];
  /** Items read to fill the page. */
  scanned: number;
  hasMore: boolean;
}

/** A page of the jobs that match, found by reading the queue in chunks from the head until the page is full. */
export async function searchQueue(
  ctx: AdminContext,
  queue: string,
  match: JobMatch,
  offset: number,
  limit: number,
): Promise<QueueSearch> {
  return asList(ctx, queue, () => searchList(ctx, queue, match, offset, limit));
}

async function searchList(
  ctx: AdminContext,
  queue: string,
  match: JobMatch,
  offset: number,
  limit: number,
): Promise<QueueSearch> {
  await assertQueue(ctx, queue);
  const key = ctx.keys.queue(queue);
  const test = itemMatcher(match);
  const jobs: QueuedJob[] = [];
  let seen = 0;
  let scanned = 0;
  let hasMore = false;
  for (let start = 0; !hasMore; start += DEQUEUE_CHUNK) {
    const items = await ctx.redis.lrange(key, start, start + DEQUEUE_CHUNK - 1);
    for (let i = 0; i < items.length; i++) {
      scanned++;
      const job = test(items[i]!, start + i);
      if (!job) continue;
      if (seen++ < offset) continue;
      if (jobs.length === limit) {
        hasMore = true;
        break;
      }
      jobs.push(job);
    }
    if (items.length < DEQUEUE_CHUNK) break;
  }
  return { queue, size: await ctx.redis.llen(key), offset, limit, jobs, scanned, hasMore };
}

/** How many jobs match (a full chunked read unless the match selects everything). */
export async function countQueueMatches(
  ctx: AdminContext,
  queue: string,
  match: JobMatch,
): Promise<{ matched: number; size: number }> {
  return asList(ctx, queue, () => countList(ctx, queue, match));
}

async function countList(
  ctx: AdminContext,
  queue: string,
  match: JobMatch,
): Promise<{ matched: number; size: number }> {
  await assertQueue(ctx, queue);
  const key = ctx.keys.queue(queue);
  if (matchesAll(match)) {
    const size = await ctx.redis.llen(key);
    return { matched: size, size };
  }
  const test = itemMatcher(match);
  let matched = 0;
  let size = 0;
  for (let start = 0; ; start += DEQUEUE_CHUNK) {
    const items = await ctx.redis.lrange(key, start, start + DEQUEUE_CHUNK - 1);
    size += items.length;
    for (let i = 0; i < items.length; i++) if (test(items[i]!, start + i)) matched++;
    if (items.length < DEQUEUE_CHUNK) return { matched, size };
  }
}

/**
 * Removes every job that matches, in chunks; each chunk's removal compares the bytes at each position first, so
 * jobs taken by workers meanwhile are never confused with others. Returns how many were removed.
 */
export async function removeQueueMatches(ctx: AdminContext, queue: string, match: JobMatch): Promise<number> {
  await assertQueue(ctx, queue);
  const test = itemMatcher(match);
  const client = { ...ctx, jobs: new JobRegistry() };
  return asList(ctx, queue, async () => {
    const removed = await removeMatching(client, ctx.keys.queue(queue), (raw) => test(raw, 0) !== undefined);
    await syncQueueIndex(ctx.redis, ctx.keys, [queue]);
    return removed;
  });
}

/**
 * Ruby's remove_queue (client/inspect.ts), for a queue that must exist. Returns how many jobs it held. A queue key of
 * another type goes too (MULTI runs every command even when LLEN fails: the name and the key are gone), as 0 jobs.
 */
export async function removeQueue(ctx: AdminContext, queue: string): Promise<number> {
  await assertQueue(ctx, queue);
  try {
    return await dropQueue(ctx, queue);
  } catch (error) {
    if (isWrongTypeError(error)) return 0;
    throw error;
  }
}

/** Runs a read of the queue's list; WRONGTYPE becomes a WrongTypeError naming the queue's key. */
function asList<T>(ctx: AdminContext, queue: string, operation: () => Promise<T>): Promise<T> {
  return explainWrongType(ctx, operation, [[ctx.keys.queue(queue), 'list']]);
}

async function assertQueue(ctx: AdminContext, queue: string): Promise<void> {
  if (!(await queueExists(ctx, queue))) throw new QueueNotFoundError(queue);
}
