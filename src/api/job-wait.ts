// Why a queued job has not started yet (docs/flow-control.md, Why a job waits): every condition that holds it back
// now, read from the same keys the reservation script decides by. For one job at a time (a job page, `resque job`):
// it reads the workers set and the job's own limits, never a queue's contents.
import { pausedQueues } from '../client/queue-pause.js';
import { limitDefinitions } from '../limits/definitions.js';
import { RATE_LOG_COUNT, rateDefinitions, startsInWindow } from '../limits/rate-definitions.js';
import type { JobStory } from '../status/lookup.js';
import { fnmatch } from '../worker/queue-patterns.js';
import { type AdminContext, pipelineValues, redisNow } from './context.js';
import { workerSummaries } from './workers.js';

/** Everything known of one job (status/lookup.ts) and, while it is queued, why it has not started. */
export interface JobView extends JobStory {
  /** The shard it was found on, on a sharded namespace. */
  readonly shard?: number;
  readonly waiting?: WaitReason[];
}

/** What a job waiting on its queue knows about itself: its queue and class, and the keys its enqueue worked out. */
export interface WaitingJob {
  queue: string;
  className: string;
  /** `"concurrency_key"` of its payload, if any. */
  concurrencyKey?: string | undefined;
  /** `"rate_key"` of its payload, if any. */
  rateKey?: string | undefined;
}

export type WaitReason =
  /** Ruby's `pause-all-workers` is set: no worker takes any job. */
  | { kind: 'all-paused' }
  | { kind: 'queue-paused'; since: Date }
  /** No live worker's queue list names the queue or a glob that matches it. */
  | { kind: 'no-worker' }
  /** Every slot of the live workers that take from the queue is running a job. */
  | { kind: 'workers-busy'; busy: number; slots: number }
  /** A concurrency limit the job counts against is full. */
  | { kind: 'concurrency'; limit: string; running: number; max: number }
  /** A rate limit the job counts against has no room in its window (or a job held it shut until `blockedUntil`). */
  | { kind: 'rate'; limit: string; starts: number; max: number; windowMs: number; blockedUntil?: Date }
  /** Jobs ahead of it on its queue, when its place is known. */
  | { kind: 'queued-behind'; jobs: number }
  /** Jobs on its queue's list, when its place is not known. */
  | { kind: 'queue-backlog'; jobs: number };

/** Every reason `job` waits now, most binding first; an empty list means a worker should take it at once. */
export async function whyWaiting(
  ctx: AdminContext,
  job: WaitingJob,
  position?: number,
): Promise<WaitReason[]> {
  const [pauseAll, paused, workers, concurrency, rates, time, length] = await Promise.all([
    ctx.redis.get(ctx.keys.pauseAll),
    pausedQueues(ctx),
    workerSummaries(ctx),
    limitDefinitions(ctx),
    rateDefinitions(ctx),
    ctx.redis.time(),
    ctx.redis.llen(ctx.keys.queue(job.queue)),
  ]);
  const reasons: WaitReason[] = [];
  if (pauseAll !== null && pauseAll.trim().toLowerCase() === 'true') reasons.push({ kind: 'all-paused' });
  const since = paused.get(job.queue);
  if (since) reasons.push({ kind: 'queue-paused', since });

  const serving = workers.filter((w) => !w.stale && w.queues.some((pattern) => covers(pattern, job.queue)));
  if (serving.length === 0) reasons.push({ kind: 'no-worker' });
  else {
    const busy = serving.filter((w) => w.state === 'working').length;
    if (busy === serving.length) reasons.push({ kind: 'workers-busy', busy, slots: serving.length });
  }

  const nowMs = redisNow(time);
  const concurrencyChecks = concurrency.flatMap((d) =>
    limitsOf(job, job.concurrencyKey)
      .filter((name) => fieldOf(name) === d.name)
      .map((name) => ({ name, max: d.limit })),
  );
  const rateChecks = rates.flatMap((d) =>
    limitsOf(job, job.rateKey)
      .filter((name) => fieldOf(name) === d.name)
      .map((name) => ({ name, max: d.limit, windowMs: d.windowMs })),
  );
  const pipeline = ctx.redis.pipeline();
  for (const { name } of concurrencyChecks) pipeline.scard(ctx.keys.limitHolders(name));
  for (const { name, windowMs } of rateChecks)
    pipeline
      .zscore(ctx.keys.rateLog(name), RATE_LOG_COUNT)
      .zrangebyscore(ctx.keys.rateLog(name), 0, nowMs - windowMs)
      .zscore(ctx.keys.rateLog(name), 'blocked');
  const values =
    concurrencyChecks.length + rateChecks.length > 0 ? pipelineValues(await pipeline.exec()) : [];
  concurrencyChecks.forEach(({ name, max }, i) => {
    const running = Number(values[i]);
    if (running >= max) reasons.push({ kind: 'concurrency', limit: name, running, max });
  });
  rateChecks.forEach(({ name, max, windowMs }, i) => {
    const at = concurrencyChecks.length + i * 3;
    const blocked = values[at + 2] === null ? undefined : Number(values[at + 2]);
    const starts = startsInWindow(values[at] as string | null, values[at + 1] as string[]);
    const heldShut = blocked !== undefined && blocked > nowMs;
    if (starts >= max || heldShut)
      reasons.push({
        kind: 'rate',
        limit: name,
        starts,
        max,
        windowMs,
        ...(heldShut ? { blockedUntil: new Date(blocked) } : {}),
      });
  });

  if (position !== undefined) {
    if (position > 0) reasons.push({ kind: 'queued-behind', jobs: position });
  } else if (length > 0) reasons.push({ kind: 'queue-backlog', jobs: length });
  return reasons;
}

/** One line per reason, for the CLI and the job page. */
export function describeWaitReason(reason: WaitReason): string {
  switch (reason.kind) {
    case 'all-paused':
      return 'every worker is paused (pause-all-workers)';
    case 'queue-paused':
      return `its queue is paused (since ${reason.since.toISOString()})`;
    case 'no-worker':
      return 'no live worker takes jobs from its queue';
    case 'workers-busy':
      return `every worker slot on its queue is busy (${reason.busy} of ${reason.slots})`;
    case 'concurrency':
      return `concurrency limit ${reason.limit} is full (${reason.running} of ${reason.max} running)`;
    case 'rate':
      return reason.blockedUntil
        ? `rate limit ${reason.limit} is held shut until ${reason.blockedUntil.toISOString()}`
        : `rate limit ${reason.limit} is used up (${reason.starts} of ${reason.max} starts in ${reason.windowMs} ms)`;
    case 'queued-behind':
      return `${reason.jobs} job(s) ahead of it on its queue`;
    case 'queue-backlog':
      return `${reason.jobs} job(s) on its queue`;
  }
}

/** Whether a queue pattern of a worker id (`*`, `mail_*`, a name) takes from `queue`. */
function covers(pattern: string, queue: string): boolean {
  return pattern === queue || (/[*?[]/.test(pattern) && fnmatch(pattern, queue));
}

/**
 * The limits of one kind a job counts against, named as the reservation script names them (redis/lua/limits.lua):
 * its queue's, its class's, and its class's per key when the payload carries that kind's key.
 */
function limitsOf(job: WaitingJob, key: string | undefined): string[] {
  const names = [`queue:${job.queue}`, `class:${job.className}`];
  if (key) names.push(`key:${job.className} ${key}`);
  return names;
}

/** The definition field of a limit name: `key:<Class> <key>` is defined as `key:<Class>`. */
function fieldOf(name: string): string {
  const space = name.indexOf(' ');
  return space < 0 ? name : name.slice(0, space);
}
