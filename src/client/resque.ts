import { Redis } from 'ioredis';
import { type CancelOptions, type CancelResult, cancelJob } from '../cancel/cancel-job.js';
import type { ResqueOptions } from '../config/options.js';
import { connectionAdvice } from '../config/redis-source.js';
import { type ResolvedConfig, resolveConfig } from '../config/resolve.js';
import type { JobDefinition } from '../jobs/define.js';
import { type AnyJob, JobRegistry } from '../jobs/registry.js';
import {
  type LimitState,
  limitDefinitions,
  limitQueue,
  limitUsage,
  unlimitQueue,
} from '../limits/definitions.js';
import {
  limitQueueRate,
  type RateLimitState,
  rateDefinitions,
  rateUsage,
  unlimitQueueRate,
} from '../limits/rate-definitions.js';
import { tracerSourceFor } from '../observability/tracing.js';
import type { JsonValue } from '../protocol/json.js';
import { Keys } from '../protocol/keys.js';
import { asConnectionError, checkClusterMode, clusterModeChecked, openRedis } from '../redis/connection.js';
import { DelayedJobs } from '../scheduler/delayed-jobs.js';
import { type Scheduled, scheduleJobs } from '../scheduler/delayed-push.js';
import { type DueAt, dueAfterMs, dueTimeMs } from '../scheduler/due-time.js';
import { jobStatus } from '../status/lookup.js';
import type { JobStatus } from '../status/record.js';
import { JobWaiter, type WaitOptions } from '../status/wait.js';
import type { ClientContext } from './context.js';
import { dequeueJobs } from './dequeue.js';
import { type Enqueued, enqueueMany, enqueueOne, type JobRef } from './enqueue.js';
import {
  fairQueue,
  fairQueues,
  tenantSizes,
  tenantWeights,
  unfairQueue,
  weighTenant,
} from './fair-queues.js';
import { type ResqueInfo, resqueInfo } from './info.js';
import {
  listQueues,
  peekQueue,
  type QueuedJob,
  queueSize,
  queueSizes,
  removeQueue,
  watchQueue,
} from './inspect.js';
import { pauseAllWorkers, pausedQueues, pauseQueue, resumeAllWorkers, resumeQueue } from './queue-pause.js';
import { releaseUnique, uniqueHolder } from './unique-locks.js';

export interface ClientOptions extends ResqueOptions {
  /** Job definitions known to this client: needed to run string-named jobs inline and for their hooks. */
  jobs?: Iterable<AnyJob>;
}

/**
 * Resque's queue API: enqueue, dequeue, inspect. One connection; every method fails with a RedisConnectionError
 * (never hangs) when Redis cannot be reached.
 */
export class Resque {
  readonly config: ResolvedConfig;
  readonly keys: Keys;
  readonly redis: Redis;
  private readonly ctx: ClientContext;
  private readonly ownsConnection: boolean;
  /** resque-scheduler's query and removal API for delayed jobs (docs/scheduling.md). */
  readonly delayed: DelayedJobs;
  private readonly waiter: JobWaiter;

  constructor(options: ClientOptions = {}) {
    const { jobs, ...rest } = options;
    this.config = resolveConfig(rest);
    const tracing = tracerSourceFor(this.config);
    this.keys = new Keys(this.config.namespace);
    this.ownsConnection = !(this.config.redis instanceof Redis);
    this.redis = openRedis(this.config, 'client');
    this.redis.on('error', () => {
      // Reported through the failing command as a RedisConnectionError; an unhandled 'error' event would crash.
    });
    this.ctx = {
      redis: this.redis,
      keys: this.keys,
      config: this.config,
      jobs: new JobRegistry(jobs),
      tracing,
    };
    this.delayed = new DelayedJobs(this.ctx, (operation) => this.guard(operation));
    this.waiter = new JobWaiter(this.ctx, () => openRedis(this.config, 'subscriber'));
  }

  /**
   * What is known of a job by its id (docs/status.md): its status record when its status is tracked (queued, delayed,
   * running, retrying, completed with its result, failed, cancelled); for any other job what Redis shows without
   * walking a queue (running, retrying, delayed, recently failed), else `unknown`.
   */
  status(id: string): Promise<JobStatus> {
    return this.guard(async () => {
      if (typeof id !== 'string' || id === '')
        throw new TypeError('status expects a job id (a non-empty string)');
      return jobStatus(this.ctx, id);
    });
  }

  /**
   * Waits for a tracked job to end, through Pub/Sub (no polling): resolves with its status once `completed` (its
   * `result` in it), rejects with JobNotCompletedError once failed or cancelled, JobNotTrackedError when no status
   * record will say, WaitTimeoutError after `timeoutMs`. One subscriber connection per client, opened by the first
   * wait.
   */
  waitFor(id: string, options: WaitOptions = {}): Promise<JobStatus> {
    return this.guard(() => this.waiter.waitFor(id, options));
  }

  /**
   * Files a job to reach its class's queue at `at` (resque-scheduler's enqueue_at), on resque-scheduler's keys. A
   * time already past enqueues it now. Returns null when a before_schedule hook vetoed it.
   */
  enqueueAt<A extends JsonValue[]>(at: DueAt, job: JobDefinition<A>, ...args: A): Promise<Scheduled | null> {
    return this.schedule(undefined, job, [{ at, args }]).then(([one]) => one ?? null);
  }

  /** enqueueAt onto an explicit queue; `job` may be a bare class name (enqueue_at_with_queue). */
  enqueueAtTo<A extends JsonValue[]>(
    queue: string,
    at: DueAt,
    job: JobRef<A>,
    ...args: A
  ): Promise<Scheduled | null> {
    return this.schedule(queue, job, [{ at, args }]).then(([one]) => one ?? null);
  }

  /** Files a job to reach its queue `delayMs` from now (enqueue_in). */
  enqueueIn<A extends JsonValue[]>(
    delayMs: number,
    job: JobDefinition<A>,
    ...args: A
  ): Promise<Scheduled | null> {
    return this.guard(async () => this.enqueueAt(dueAfterMs(delayMs, Date.now()), job, ...args));
  }

  /** enqueueIn onto an explicit queue (enqueue_in_with_queue). */
  enqueueInTo<A extends JsonValue[]>(
    queue: string,
    delayMs: number,
    job: JobRef<A>,
    ...args: A
  ): Promise<Scheduled | null> {
    return this.guard(async () => this.enqueueAtTo(queue, dueAfterMs(delayMs, Date.now()), job, ...args));
  }

  /** Many delayed jobs of one class, 500 per round trip; null where a before_schedule hook vetoed. */
  enqueueAtBulk<A extends JsonValue[]>(
    job: JobRef<A>,
    jobs: ReadonlyArray<{ at: DueAt; args: A }>,
    options: { queue?: string } = {},
  ): Promise<Array<Scheduled | null>> {
    return this.schedule(options.queue, job, jobs);
  }

  private schedule<A extends JsonValue[]>(
    queue: string | undefined,
    job: JobRef<A>,
    jobs: ReadonlyArray<{ at: DueAt; args: A }>,
  ): Promise<Array<Scheduled | null>> {
    return this.guard(async () => {
      if (!Array.isArray(jobs)) throw new TypeError('enqueueAtBulk expects an array of { at, args }');
      const entries = jobs.map(({ at, args }) => ({ dueMs: dueTimeMs(at), args: args as JsonValue[] }));
      return scheduleJobs(this.ctx, job as unknown as JobRef<JsonValue[]>, queue, entries, Date.now());
    });
  }

  /** Pushes a job onto its class's default queue. Returns null when a before_enqueue hook vetoed it. */
  enqueue<A extends JsonValue[]>(job: JobDefinition<A>, ...args: A): Promise<Enqueued | null> {
    return this.guard(() => enqueueOne(this.ctx, job as JobRef<JsonValue[]>, undefined, args));
  }

  /** Pushes a job onto `queue`; `job` may be a bare class name, as Resque.enqueue_to allows. */
  enqueueTo<A extends JsonValue[]>(queue: string, job: JobRef<A>, ...args: A): Promise<Enqueued | null> {
    return this.guard(() => enqueueOne(this.ctx, job as JobRef<JsonValue[]>, queue, args));
  }

  /** Many jobs of one class in one round trip; `queue` defaults to the class's queue. */
  enqueueBulk<A extends JsonValue[]>(
    job: JobRef<A>,
    argsList: A[],
    options: { queue?: string } = {},
  ): Promise<Enqueued[]> {
    return this.guard(() => enqueueMany(this.ctx, job as JobRef<JsonValue[]>, options.queue, argsList));
  }

  /**
   * The id of the job holding the unique key of a unique class's job with these arguments (docs/unique-jobs.md), or
   * null when the key is free.
   */
  uniqueHolder<A extends JsonValue[]>(job: JobDefinition<A>, ...args: A): Promise<string | null> {
    return this.guard(() => uniqueHolder(this.ctx, job as unknown as JobDefinition, args));
  }

  /**
   * Frees the unique key of a unique class's job with these arguments, whoever holds it (a job removed by hand):
   * true when it was held.
   */
  releaseUnique<A extends JsonValue[]>(job: JobDefinition<A>, ...args: A): Promise<boolean> {
    return this.guard(() => releaseUnique(this.ctx, job as unknown as JobDefinition, args));
  }

  /**
   * Resque.dequeue: with no `args`, removes every queued job of the class; with `args`, only those with equal
   * arguments. Returns the number removed, or null when a before_dequeue hook vetoed.
   */
  dequeue<A extends JsonValue[]>(job: JobRef<A>, ...args: A | []): Promise<number | null> {
    return this.guard(() =>
      dequeueJobs(this.ctx, job as JobRef<JsonValue[]>, args.length > 0 ? (args as JsonValue[]) : undefined),
    );
  }

  /** Like dequeue, on an explicit queue. */
  dequeueFrom<A extends JsonValue[]>(queue: string, job: JobRef<A>, ...args: A | []): Promise<number | null> {
    return this.guard(() =>
      dequeueJobs(
        this.ctx,
        job as JobRef<JsonValue[]>,
        args.length > 0 ? (args as JsonValue[]) : undefined,
        queue,
      ),
    );
  }

  size(queue: string): Promise<number> {
    return this.guard(() => queueSize(this.ctx, queue));
  }

  /** `count` jobs from position `start` (0 = next to run), decoded, malformed ones flagged rather than thrown. */
  peek(queue: string, start = 0, count = 1): Promise<QueuedJob[]> {
    return this.guard(() => peekQueue(this.ctx, queue, start, count));
  }

  /** Names in the `queues` set, sorted. */
  queues(): Promise<string[]> {
    return this.guard(() => listQueues(this.ctx));
  }

  queueSizes(): Promise<Record<string, number>> {
    return this.guard(() => queueSizes(this.ctx));
  }

  async removeQueue(queue: string): Promise<void> {
    await this.guard(() => removeQueue(this.ctx, queue));
  }

  /**
   * Pauses one queue: no resque-ts worker takes a job from it from its next reservation on, until resumeQueue.
   * Returns false when it was paused already.
   */
  pauseQueue(queue: string): Promise<boolean> {
    return this.guard(() => pauseQueue(this.ctx, queue));
  }

  /** Resumes a paused queue and wakes a worker for its jobs; false when it was not paused. */
  resumeQueue(queue: string): Promise<boolean> {
    return this.guard(() => resumeQueue(this.ctx, queue));
  }

  /**
   * At most `limit` jobs of `queue` run at once across every resque-ts worker (docs/flow-control.md); jobs past it
   * wait parked without blocking other queues. Ruby workers do not know it.
   */
  limitQueue(queue: string, limit: number): Promise<void> {
    return this.guard(() => limitQueue(this.ctx, queue, limit));
  }

  /** Removes a queue's limit (its parked jobs go back to the queue); false when it had none. */
  unlimitQueue(queue: string): Promise<boolean> {
    return this.guard(() => unlimitQueue(this.ctx, queue));
  }

  /**
   * At most `limit` jobs of `queue` start in any window of `windowMs` across every resque-ts worker
   * (docs/flow-control.md); jobs past it wait parked until the window has room.
   */
  limitQueueRate(queue: string, limit: number, windowMs: number): Promise<void> {
    return this.guard(() => limitQueueRate(this.ctx, queue, limit, windowMs));
  }

  /** Removes a queue's rate limit (its parked jobs go back to the queue); false when it had none. */
  unlimitQueueRate(queue: string): Promise<boolean> {
    return this.guard(() => unlimitQueueRate(this.ctx, queue));
  }

  /** The rate limits defined now: `class:<Class>`, `key:<Class>` (per key), `queue:<name>`. */
  rateLimits(): Promise<RateLimitState[]> {
    return this.guard(() => rateDefinitions(this.ctx));
  }

  /** One rate limit's starts in its current window and its parked jobs; `limit` as `limitUsage` names it. */
  rateUsage(limit: string): Promise<{ starts: number; parked: number }> {
    return this.guard(() => rateUsage(this.ctx, limit));
  }

  /** The concurrency limits defined now: `class:<Class>`, `key:<Class>` (per key), `queue:<name>`. */
  limits(): Promise<LimitState[]> {
    return this.guard(() => limitDefinitions(this.ctx));
  }

  /**
   * How many jobs hold one limit's tokens and how many wait parked; `limit` as the reservation names it:
   * `class:<Class>`, `queue:<name>` or `key:<Class> <key>`.
   */
  limitUsage(limit: string): Promise<{ running: number; parked: number }> {
    return this.guard(() => limitUsage(this.ctx, limit));
  }

  /**
   * Makes a queue fair (docs/flow-control.md, Fair sharing): jobs whose class names a tenant wait on their tenant's
   * list, and resque-ts workers serve the tenants that have jobs in turn. False when it was fair already.
   */
  fairQueue(queue: string): Promise<boolean> {
    return this.guard(() => fairQueue(this.ctx, queue));
  }

  /** New jobs go to the queue's list again; jobs already on tenant lists are still served. False when not fair. */
  unfairQueue(queue: string): Promise<boolean> {
    return this.guard(() => unfairQueue(this.ctx, queue));
  }

  /** The fair queues, with when each was made fair. */
  fairQueues(): Promise<Map<string, Date>> {
    return this.guard(() => fairQueues(this.ctx));
  }

  /** The tenants with jobs on a queue's tenant lists, in serving order, and how many each has (not in `size`). */
  tenantSizes(queue: string): Promise<Map<string, number>> {
    return this.guard(() => tenantSizes(this.ctx, queue));
  }

  /**
   * Serves a tenant of a fair queue `weight` jobs in a row per turn (1 removes its weight), so it gets that share of
   * the workers while other tenants have jobs too.
   */
  weighTenant(queue: string, tenant: string, weight: number): Promise<void> {
    return this.guard(() => weighTenant(this.ctx, queue, tenant, weight));
  }

  /** The tenants of a queue with a weight other than 1. */
  tenantWeights(queue: string): Promise<Map<string, number>> {
    return this.guard(() => tenantWeights(this.ctx, queue));
  }

  /** The paused queues, with when each was paused. */
  pausedQueues(): Promise<Map<string, Date>> {
    return this.guard(() => pausedQueues(this.ctx));
  }

  /** Sets Ruby's `pause-all-workers`: every worker, Ruby's and resque-ts's, stops taking jobs until resumeAll. */
  pauseAll(): Promise<void> {
    return this.guard(() => pauseAllWorkers(this.ctx));
  }

  resumeAll(): Promise<void> {
    return this.guard(() => resumeAllWorkers(this.ctx));
  }

  watchQueue(queue: string): Promise<void> {
    return this.guard(() => watchQueue(this.ctx, queue));
  }

  info(): Promise<ResqueInfo> {
    return this.guard(() => resqueInfo(this.ctx));
  }

  /**
   * Cancels a job by id wherever it is (docs/cancel.md): a delayed or retrying job is removed, a running one is
   * stopped through its AbortSignal (and its child killed after the grace period), a queued one is dropped when a
   * worker reaches it. Says what it found; an id nothing knows of is not an error.
   */
  cancel(id: string, options: CancelOptions = {}): Promise<CancelResult> {
    return this.guard(() => cancelJob(this.ctx, id, options));
  }

  /** Closes the connection if this client opened it. */
  async close(): Promise<void> {
    await this.waiter.close();
    if (!this.ownsConnection) return;
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }

  private async guard<T>(operation: () => Promise<T>): Promise<T> {
    try {
      if (!this.config.inline && !clusterModeChecked(this.redis))
        await checkClusterMode(this.redis, this.config);
      return await operation();
    } catch (error) {
      throw asConnectionError(error, this.config.redis, connectionAdvice(this.config.redisSource));
    }
  }
}
