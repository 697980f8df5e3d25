import { Redis } from 'ioredis';
import { type CancelOptions, type CancelResult, cancelJob } from '../cancel/cancel-job.js';
import { checkJobId } from '../cancel/job-id-check.js';
import type { ResqueOptions } from '../config/options.js';
import { connectionAdvice } from '../config/redis-source.js';
import { type ResolvedConfig, resolveConfig } from '../config/resolve.js';
import { shardConfig, shardLayoutOf } from '../config/shards.js';
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
import { assertQueueName } from '../protocol/names.js';
import type { ShardLayout } from '../protocol/shard-layout.js';
import { asConnectionError, checkClusterMode, clusterModeChecked, openRedis } from '../redis/connection.js';
import { DelayedJobs } from '../scheduler/delayed-jobs.js';
import { type Scheduled, scheduleJobs } from '../scheduler/delayed-push.js';
import { type DueAt, dueAfterMs, dueTimeMs } from '../scheduler/due-time.js';
import { jobStatus } from '../status/lookup.js';
import type { JobStatus } from '../status/record.js';
import { JobWaiter, type WaitOptions } from '../status/wait.js';
import type { ClientContext } from './context.js';
import { dequeueJobs } from './dequeue.js';
import { type Enqueued, enqueueMany, enqueueOne, type JobRef, queueOf } from './enqueue.js';
import {
  fairQueue,
  fairQueues,
  tenantSizes,
  tenantWeights,
  unfairQueue,
  weighTenant,
} from './fair-queues.js';
import { mergeInfo, type ResqueInfo, resqueInfo, shardInfo } from './info.js';
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
import {
  mergeDates,
  mergeLimits,
  mergeNames,
  mergeSizes,
  pickStatus,
  queueOfLimit,
  sumFields,
} from './shard-merge.js';
import { ShardedDelayedJobs } from './sharded-delayed.js';
import { releaseUnique, uniqueHolder } from './unique-locks.js';

export interface ClientOptions extends ResqueOptions {
  /** Job definitions known to this client: needed to run string-named jobs inline and for their hooks. */
  jobs?: Iterable<AnyJob>;
}

/** What a sharded client gives each of its shard clients instead of options to resolve. */
interface ShardSeed {
  readonly config: ResolvedConfig;
  readonly jobs: JobRegistry;
  /** The connection shared by every shard on a single Redis; undefined on a cluster (one per shard). */
  readonly redis: Redis | undefined;
}

/** The options objects a sharded client makes for its shards, with their seeds (never seen by users). */
const seeds = new WeakMap<object, ShardSeed>();

/** A sharded client's shards: one unsharded client per shard namespace, by index. */
interface Shards {
  readonly layout: ShardLayout;
  readonly clients: readonly Resque[];
}

/**
 * Resque's queue API: enqueue, dequeue, inspect. One connection; every method fails with a RedisConnectionError
 * (never hangs) when Redis cannot be reached.
 *
 * With `shards` (docs/cluster.md, Shards, The client) it talks to every shard namespace: a call naming a queue goes to
 * the queue's shard, a call naming none asks every shard in parallel and merges the answers, a call naming a job id
 * looks for the job on every shard.
 */
export class Resque {
  readonly config: ResolvedConfig;
  /** The namespace's keys; with `shards`, shard 0's (each shard's client has its own: `shard(i).keys`). */
  readonly keys: Keys;
  /** The connection; with `shards`, the one shared by every shard on a single Redis, or shard 0's on a cluster. */
  readonly redis: Redis;
  private readonly ctx: ClientContext;
  private readonly ownsConnection: boolean;
  /** resque-scheduler's query and removal API for delayed jobs (docs/scheduling.md); with `shards`, over every shard. */
  readonly delayed: DelayedJobs;
  private readonly waiter: JobWaiter;
  private readonly shards: Shards | undefined;

  constructor(options: ClientOptions = {}) {
    const seed = seeds.get(options);
    const { jobs, ...rest } = options;
    this.config = seed?.config ?? resolveConfig(rest);
    const registry = seed?.jobs ?? new JobRegistry(jobs);
    const layout = seed ? undefined : shardLayoutOf(this.config);
    if (layout) {
      // One connection serves every shard on a single Redis. On a cluster each shard has its own one-slot client, so
      // that its keyless commands (WAIT, INFO, a waiter's SUBSCRIBE) reach the primary serving its slot.
      const shared = this.config.cluster ? undefined : openRedis(this.config, 'client');
      shared?.on('error', () => {
        // Reported through the failing command, as below.
      });
      const clients = layout.namespaces.map((namespace) => {
        const shardOptions = {};
        seeds.set(shardOptions, {
          config: shardConfig(this.config, namespace),
          jobs: registry,
          redis: shared,
        });
        return new Resque(shardOptions);
      });
      this.shards = { layout, clients };
      const first = clients[0]!;
      this.ownsConnection = shared !== undefined && !(this.config.redis instanceof Redis);
      this.redis = shared ?? first.redis;
      this.keys = first.keys;
      this.ctx = first.ctx;
      this.waiter = first.waiter;
      this.delayed = new ShardedDelayedJobs(layout, clients) as unknown as DelayedJobs;
      return;
    }
    this.shards = undefined;
    const tracing = tracerSourceFor(this.config);
    this.keys = new Keys(this.config.namespace);
    this.ownsConnection = seed ? seed.redis === undefined : !(this.config.redis instanceof Redis);
    this.redis = seed?.redis ?? openRedis(this.config, 'client');
    if (!seed?.redis)
      this.redis.on('error', () => {
        // Reported through the failing command as a RedisConnectionError; an unhandled 'error' event would crash.
      });
    this.ctx = {
      redis: this.redis,
      keys: this.keys,
      config: this.config,
      jobs: registry,
      tracing,
    };
    this.delayed = new DelayedJobs(this.ctx, (operation) => this.guard(operation));
    this.waiter = new JobWaiter(this.ctx, () => openRedis(this.config, 'subscriber'));
  }

  /** The shard layout of a sharded client (docs/cluster.md, Shards); undefined when not sharded. */
  get layout(): ShardLayout | undefined {
    return this.shards?.layout;
  }

  /**
   * One shard's own client (unsharded, on the shard's namespace; on a single Redis it shares this client's
   * connection): for what a sharded client does not merge. A client that is not sharded is its own shard 0.
   */
  shard(index: number): Resque {
    if (!this.shards) {
      if (index === 0) return this;
      throw new RangeError(`shard ${String(index)}: this client is not sharded (its only shard is 0)`);
    }
    const client = this.shards.clients[index];
    if (!Number.isInteger(index) || !client)
      throw new RangeError(
        `shard ${String(index)}: shards are numbered 0 to ${this.shards.clients.length - 1}`,
      );
    return client;
  }

  /**
   * What is known of a job by its id (docs/status.md): its status record when its status is tracked (queued, delayed,
   * running, retrying, completed with its result, failed, cancelled); for any other job what Redis shows without
   * walking a queue (running, retrying, delayed, recently failed), else `unknown`. Sharded, every shard is asked.
   */
  status(id: string): Promise<JobStatus> {
    if (this.shards) return this.everyShard((shard) => shard.status(id)).then(pickStatus);
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
   * wait. Sharded, the wait is on the shard holding the job's status record (one subscriber per shard waited on).
   */
  waitFor(id: string, options: WaitOptions = {}): Promise<JobStatus> {
    if (this.shards) return this.shardOfRecord(id).then((shard) => shard.waitFor(id, options));
    return this.guard(() => this.waiter.waitFor(id, options));
  }

  /**
   * Files a job to reach its class's queue at `at` (resque-scheduler's enqueue_at), on resque-scheduler's keys. A
   * time already past enqueues it now. Returns null when a before_schedule hook vetoed it.
   */
  enqueueAt<A extends JsonValue[]>(at: DueAt, job: JobDefinition<A>, ...args: A): Promise<Scheduled | null> {
    if (this.shards) return this.viaJob(job, (shard) => shard.enqueueAt(at, job, ...args));
    return this.schedule(undefined, job, [{ at, args }]).then(([one]) => one ?? null);
  }

  /** enqueueAt onto an explicit queue; `job` may be a bare class name (enqueue_at_with_queue). */
  enqueueAtTo<A extends JsonValue[]>(
    queue: string,
    at: DueAt,
    job: JobRef<A>,
    ...args: A
  ): Promise<Scheduled | null> {
    if (this.shards) return this.viaQueue(queue, (shard) => shard.enqueueAtTo(queue, at, job, ...args));
    return this.schedule(queue, job, [{ at, args }]).then(([one]) => one ?? null);
  }

  /** Files a job to reach its queue `delayMs` from now (enqueue_in). */
  enqueueIn<A extends JsonValue[]>(
    delayMs: number,
    job: JobDefinition<A>,
    ...args: A
  ): Promise<Scheduled | null> {
    if (this.shards) return this.viaJob(job, (shard) => shard.enqueueIn(delayMs, job, ...args));
    return this.guard(async () => this.enqueueAt(dueAfterMs(delayMs, Date.now()), job, ...args));
  }

  /** enqueueIn onto an explicit queue (enqueue_in_with_queue). */
  enqueueInTo<A extends JsonValue[]>(
    queue: string,
    delayMs: number,
    job: JobRef<A>,
    ...args: A
  ): Promise<Scheduled | null> {
    if (this.shards) return this.viaQueue(queue, (shard) => shard.enqueueInTo(queue, delayMs, job, ...args));
    return this.guard(async () => this.enqueueAtTo(queue, dueAfterMs(delayMs, Date.now()), job, ...args));
  }

  /**
   * Many delayed jobs of one class, 500 per round trip; null where a before_schedule hook vetoed. They all go to one
   * queue, so sharded they all go to its shard.
   */
  enqueueAtBulk<A extends JsonValue[]>(
    job: JobRef<A>,
    jobs: ReadonlyArray<{ at: DueAt; args: A }>,
    options: { queue?: string } = {},
  ): Promise<Array<Scheduled | null>> {
    if (this.shards)
      return this.viaJob(job, (shard) => shard.enqueueAtBulk(job, jobs, options), options.queue);
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
    if (this.shards) return this.viaJob(job, (shard) => shard.enqueue(job, ...args));
    return this.guard(() => enqueueOne(this.ctx, job as JobRef<JsonValue[]>, undefined, args));
  }

  /** Pushes a job onto `queue`; `job` may be a bare class name, as Resque.enqueue_to allows. */
  enqueueTo<A extends JsonValue[]>(queue: string, job: JobRef<A>, ...args: A): Promise<Enqueued | null> {
    if (this.shards) return this.viaQueue(queue, (shard) => shard.enqueueTo(queue, job, ...args));
    return this.guard(() => enqueueOne(this.ctx, job as JobRef<JsonValue[]>, queue, args));
  }

  /**
   * Many jobs of one class in one round trip; `queue` defaults to the class's queue. A bulk names one queue, so
   * sharded it goes whole to that queue's shard, still in one round trip.
   */
  enqueueBulk<A extends JsonValue[]>(
    job: JobRef<A>,
    argsList: A[],
    options: { queue?: string } = {},
  ): Promise<Enqueued[]> {
    if (this.shards)
      return this.viaJob(job, (shard) => shard.enqueueBulk(job, argsList, options), options.queue);
    return this.guard(() => enqueueMany(this.ctx, job as JobRef<JsonValue[]>, options.queue, argsList));
  }

  /**
   * The id of the job holding the unique key of a unique class's job with these arguments (docs/unique-jobs.md), or
   * null when the key is free. Sharded, a lock lives on the shard of the queue its job was enqueued to: every shard
   * is asked, the shard of the class's queue first.
   */
  uniqueHolder<A extends JsonValue[]>(job: JobDefinition<A>, ...args: A): Promise<string | null> {
    if (this.shards)
      return this.everyShardFrom(job, (shard) => shard.uniqueHolder(job, ...args)).then(
        (holders) => holders.find((holder) => holder !== null) ?? null,
      );
    return this.guard(() => uniqueHolder(this.ctx, job as unknown as JobDefinition, args));
  }

  /**
   * Frees the unique key of a unique class's job with these arguments, whoever holds it (a job removed by hand):
   * true when it was held. Sharded, on every shard.
   */
  releaseUnique<A extends JsonValue[]>(job: JobDefinition<A>, ...args: A): Promise<boolean> {
    if (this.shards)
      return this.everyShard((shard) => shard.releaseUnique(job, ...args)).then((freed) =>
        freed.includes(true),
      );
    return this.guard(() => releaseUnique(this.ctx, job as unknown as JobDefinition, args));
  }

  /**
   * Resque.dequeue: with no `args`, removes every queued job of the class; with `args`, only those with equal
   * arguments. Returns the number removed, or null when a before_dequeue hook vetoed.
   */
  dequeue<A extends JsonValue[]>(job: JobRef<A>, ...args: A | []): Promise<number | null> {
    if (this.shards) return this.viaJob(job, (shard) => shard.dequeue(job, ...args));
    return this.guard(() =>
      dequeueJobs(this.ctx, job as JobRef<JsonValue[]>, args.length > 0 ? (args as JsonValue[]) : undefined),
    );
  }

  /** Like dequeue, on an explicit queue. */
  dequeueFrom<A extends JsonValue[]>(queue: string, job: JobRef<A>, ...args: A | []): Promise<number | null> {
    if (this.shards) return this.viaQueue(queue, (shard) => shard.dequeueFrom(queue, job, ...args));
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
    if (this.shards) return this.viaQueue(queue, (shard) => shard.size(queue));
    return this.guard(() => queueSize(this.ctx, queue));
  }

  /** `count` jobs from position `start` (0 = next to run), decoded, malformed ones flagged rather than thrown. */
  peek(queue: string, start = 0, count = 1): Promise<QueuedJob[]> {
    if (this.shards) return this.viaQueue(queue, (shard) => shard.peek(queue, start, count));
    return this.guard(() => peekQueue(this.ctx, queue, start, count));
  }

  /** Names in the `queues` set, sorted; sharded, of every shard. */
  queues(): Promise<string[]> {
    if (this.shards) return this.everyShard((shard) => shard.queues()).then(mergeNames);
    return this.guard(() => listQueues(this.ctx));
  }

  queueSizes(): Promise<Record<string, number>> {
    if (this.shards) return this.everyShard((shard) => shard.queueSizes()).then(mergeSizes);
    return this.guard(() => queueSizes(this.ctx));
  }

  async removeQueue(queue: string): Promise<void> {
    if (this.shards) return this.viaQueue(queue, (shard) => shard.removeQueue(queue));
    await this.guard(() => removeQueue(this.ctx, queue));
  }

  /**
   * Pauses one queue: no resque-ts worker takes a job from it from its next reservation on, until resumeQueue.
   * Returns false when it was paused already.
   */
  pauseQueue(queue: string): Promise<boolean> {
    if (this.shards) return this.viaQueue(queue, (shard) => shard.pauseQueue(queue));
    return this.guard(() => pauseQueue(this.ctx, queue));
  }

  /** Resumes a paused queue and wakes a worker for its jobs; false when it was not paused. */
  resumeQueue(queue: string): Promise<boolean> {
    if (this.shards) return this.viaQueue(queue, (shard) => shard.resumeQueue(queue));
    return this.guard(() => resumeQueue(this.ctx, queue));
  }

  /**
   * At most `limit` jobs of `queue` run at once across every resque-ts worker (docs/flow-control.md); jobs past it
   * wait parked without blocking other queues. Ruby workers do not know it.
   */
  limitQueue(queue: string, limit: number): Promise<void> {
    if (this.shards) return this.viaQueue(queue, (shard) => shard.limitQueue(queue, limit));
    return this.guard(() => limitQueue(this.ctx, queue, limit));
  }

  /** Removes a queue's limit (its parked jobs go back to the queue); false when it had none. */
  unlimitQueue(queue: string): Promise<boolean> {
    if (this.shards) return this.viaQueue(queue, (shard) => shard.unlimitQueue(queue));
    return this.guard(() => unlimitQueue(this.ctx, queue));
  }

  /**
   * At most `limit` jobs of `queue` start in any window of `windowMs` across every resque-ts worker
   * (docs/flow-control.md); jobs past it wait parked until the window has room.
   */
  limitQueueRate(queue: string, limit: number, windowMs: number): Promise<void> {
    if (this.shards) return this.viaQueue(queue, (shard) => shard.limitQueueRate(queue, limit, windowMs));
    return this.guard(() => limitQueueRate(this.ctx, queue, limit, windowMs));
  }

  /** Removes a queue's rate limit (its parked jobs go back to the queue); false when it had none. */
  unlimitQueueRate(queue: string): Promise<boolean> {
    if (this.shards) return this.viaQueue(queue, (shard) => shard.unlimitQueueRate(queue));
    return this.guard(() => unlimitQueueRate(this.ctx, queue));
  }

  /** The rate limits defined now: `class:<Class>`, `key:<Class>` (per key), `queue:<name>`. */
  rateLimits(): Promise<RateLimitState[]> {
    if (this.shards) return this.everyShard((shard) => shard.rateLimits()).then(mergeLimits);
    return this.guard(() => rateDefinitions(this.ctx));
  }

  /**
   * One rate limit's starts in its current window and its parked jobs; `limit` as `limitUsage` names it. Sharded, a
   * queue's limit is read on its shard; a class or key limit is counted per shard, and the shards' figures add up.
   */
  rateUsage(limit: string): Promise<{ starts: number; parked: number }> {
    if (this.shards) return this.viaLimit(limit, (shard) => shard.rateUsage(limit));
    return this.guard(() => rateUsage(this.ctx, limit));
  }

  /** The concurrency limits defined now: `class:<Class>`, `key:<Class>` (per key), `queue:<name>`. */
  limits(): Promise<LimitState[]> {
    if (this.shards) return this.everyShard((shard) => shard.limits()).then(mergeLimits);
    return this.guard(() => limitDefinitions(this.ctx));
  }

  /**
   * How many jobs hold one limit's tokens and how many wait parked; `limit` as the reservation names it:
   * `class:<Class>`, `queue:<name>` or `key:<Class> <key>`. Sharded, a queue's limit is read on its shard; a class or
   * key limit is counted per shard, and the shards' figures add up.
   */
  limitUsage(limit: string): Promise<{ running: number; parked: number }> {
    if (this.shards) return this.viaLimit(limit, (shard) => shard.limitUsage(limit));
    return this.guard(() => limitUsage(this.ctx, limit));
  }

  /**
   * Makes a queue fair (docs/flow-control.md, Fair sharing): jobs whose class names a tenant wait on their tenant's
   * list, and resque-ts workers serve the tenants that have jobs in turn. False when it was fair already.
   */
  fairQueue(queue: string): Promise<boolean> {
    if (this.shards) return this.viaQueue(queue, (shard) => shard.fairQueue(queue));
    return this.guard(() => fairQueue(this.ctx, queue));
  }

  /** New jobs go to the queue's list again; jobs already on tenant lists are still served. False when not fair. */
  unfairQueue(queue: string): Promise<boolean> {
    if (this.shards) return this.viaQueue(queue, (shard) => shard.unfairQueue(queue));
    return this.guard(() => unfairQueue(this.ctx, queue));
  }

  /** The fair queues, with when each was made fair. */
  fairQueues(): Promise<Map<string, Date>> {
    if (this.shards) return this.everyShard((shard) => shard.fairQueues()).then(mergeDates);
    return this.guard(() => fairQueues(this.ctx));
  }

  /** The tenants with jobs on a queue's tenant lists, in serving order, and how many each has (not in `size`). */
  tenantSizes(queue: string): Promise<Map<string, number>> {
    if (this.shards) return this.viaQueue(queue, (shard) => shard.tenantSizes(queue));
    return this.guard(() => tenantSizes(this.ctx, queue));
  }

  /**
   * Serves a tenant of a fair queue `weight` jobs in a row per turn (1 removes its weight), so it gets that share of
   * the workers while other tenants have jobs too.
   */
  weighTenant(queue: string, tenant: string, weight: number): Promise<void> {
    if (this.shards) return this.viaQueue(queue, (shard) => shard.weighTenant(queue, tenant, weight));
    return this.guard(() => weighTenant(this.ctx, queue, tenant, weight));
  }

  /** The tenants of a queue with a weight other than 1. */
  tenantWeights(queue: string): Promise<Map<string, number>> {
    if (this.shards) return this.viaQueue(queue, (shard) => shard.tenantWeights(queue));
    return this.guard(() => tenantWeights(this.ctx, queue));
  }

  /** The paused queues, with when each was paused. */
  pausedQueues(): Promise<Map<string, Date>> {
    if (this.shards) return this.everyShard((shard) => shard.pausedQueues()).then(mergeDates);
    return this.guard(() => pausedQueues(this.ctx));
  }

  /**
   * Sets Ruby's `pause-all-workers`: every worker, Ruby's and resque-ts's, stops taking jobs until resumeAll.
   * Sharded, on every shard.
   */
  async pauseAll(): Promise<void> {
    if (this.shards) return void (await this.everyShard((shard) => shard.pauseAll()));
    return this.guard(() => pauseAllWorkers(this.ctx));
  }

  async resumeAll(): Promise<void> {
    if (this.shards) return void (await this.everyShard((shard) => shard.resumeAll()));
    return this.guard(() => resumeAllWorkers(this.ctx));
  }

  watchQueue(queue: string): Promise<void> {
    if (this.shards) return this.viaQueue(queue, (shard) => shard.watchQueue(queue));
    return this.guard(() => watchQueue(this.ctx, queue));
  }

  /** Resque.info; sharded, the shards' figures as one (a worker serving several shards counts once). */
  info(): Promise<ResqueInfo> {
    if (this.shards)
      return this.everyShard((shard) => shard.guard(() => shardInfo(shard.ctx))).then((parts) =>
        mergeInfo(parts, this.config.environment),
      );
    return this.guard(() => resqueInfo(this.ctx));
  }

  /**
   * Cancels a job by id wherever it is (docs/cancel.md): a delayed or retrying job is removed, a running one is
   * stopped through its AbortSignal (and its child killed after the grace period), a queued one is dropped when a
   * worker reaches it. Says what it found; an id nothing knows of is not an error.
   *
   * Sharded, the job is looked for on every shard (its status record, or where it runs, retries or is delayed) and
   * cancelled on the shard that knows it. An id no shard knows may be an untracked job waiting on any shard's queue:
   * each shard gets the tombstone an unsharded cancel leaves, trimmed after a week like any tombstone.
   */
  cancel(id: string, options: CancelOptions = {}): Promise<CancelResult> {
    if (this.shards) return this.cancelSharded(id, options);
    return this.guard(() => cancelJob(this.ctx, id, options));
  }

  private async cancelSharded(idInput: string, options: CancelOptions): Promise<CancelResult> {
    const id = checkJobId(idInput);
    const statuses = await this.everyShard((shard) => shard.status(id));
    const found = pickStatus(statuses);
    if (found.state !== 'unknown') return this.shard(statuses.indexOf(found)).cancel(id, options);
    const results = await this.everyShard((shard) => shard.cancel(id, options));
    return results.find((result) => result.was !== 'unknown') ?? results[0]!;
  }

  /** Closes the connection if this client opened it; sharded, every shard's too. */
  async close(): Promise<void> {
    if (this.shards) await Promise.all(this.shards.clients.map((shard) => shard.close()));
    else await this.waiter.close();
    if (!this.ownsConnection) return;
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }

  /**
   * The shard client of `queue` (checked first: a bad name is the same error an unsharded call gives, as a
   * rejection).
   */
  private async viaQueue<T>(queue: string, call: (shard: Resque) => Promise<T>): Promise<T> {
    assertQueueName(queue);
    return call(this.shardFor(queue));
  }

  /** The shard client of the queue a job goes to: `explicit`, else its class's queue. */
  private async viaJob<T>(
    job: JobRef<JsonValue[]> | JobRef<never>,
    call: (shard: Resque) => Promise<T>,
    explicit?: string,
  ): Promise<T> {
    return call(this.shardFor(queueOf(job as JobRef<JsonValue[]>, explicit)));
  }

  /** A limit of one queue on its shard; any other limit on every shard, the figures added up. */
  private viaLimit<T extends Record<string, number>>(
    limit: string,
    call: (shard: Resque) => Promise<T>,
  ): Promise<T> {
    const queue = queueOfLimit(limit);
    if (queue !== undefined && queue !== '') return this.viaQueue(queue, call);
    return this.everyShard(call).then(sumFields);
  }

  private shardFor(queue: string): Resque {
    const { layout, clients } = this.shards!;
    return clients[layout.shardOf(queue)]!;
  }

  private everyShard<T>(call: (shard: Resque) => Promise<T>): Promise<T[]> {
    return Promise.all(this.shards!.clients.map(call));
  }

  /** Every shard, the shard of the class's queue (when it has one) first. */
  private everyShardFrom<T>(job: JobRef<JsonValue[]> | JobRef<never>, call: (shard: Resque) => Promise<T>) {
    const queue = typeof job === 'object' && job !== null ? job.queue : undefined;
    const first = typeof queue === 'string' && queue !== '' ? this.shards!.layout.shardOf(queue) : 0;
    const clients = this.shards!.clients;
    return Promise.all([clients[first]!, ...clients.filter((_, i) => i !== first)].map(call));
  }

  /** The shard holding the job's status record; the first shard when none does (its wait then says untracked). */
  private async shardOfRecord(id: string): Promise<Resque> {
    if (typeof id !== 'string' || id === '')
      throw new TypeError('waitFor expects a job id (a non-empty string)');
    const found = await this.everyShard((shard) =>
      shard.guard(() => shard.redis.exists(shard.keys.jobStatus(id))),
    );
    return this.shard(Math.max(0, found.indexOf(1)));
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
