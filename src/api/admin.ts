import { type CancelResult, cancelJob } from '../cancel/cancel-job.js';
import type { ResqueInfo } from '../client/info.js';
import { pauseAllWorkers, pauseQueue, resumeAllWorkers, resumeQueue } from '../client/queue-pause.js';
import { type ClientOptions, Resque } from '../client/resque.js';
import type { ResolvedConfig } from '../config/resolve.js';
import { shardLayoutOf } from '../config/shards.js';
import { Failures } from '../failure/store.js';
import type { WorkerStats } from '../fleet/worker-stats.js';
import { limitQueue, unlimitQueue } from '../limits/definitions.js';
import type { ShardLayout } from '../protocol/shard-layout.js';
import { rubyTimeToS } from '../protocol/time.js';
import { redisTime } from '../redis/replies.js';
import { type DelayedBacklog, delayedBacklog } from '../scheduler/overdue.js';
import { parseSchedule } from '../scheduler/schedule-config.js';
import { ScheduleStore } from '../scheduler/schedule-store.js';
import { runScheduleNow, type ScheduleOverview, scheduleOverview } from '../scheduler/schedule-view.js';
import { jobStory } from '../status/lookup.js';
import { type ClusterSnapshot, clusterSnapshot } from './cluster-metrics.js';
import { type AdminContext, guarded } from './context.js';
import { type TenantsView, tenantsView } from './fair.js';
import { resqueInfo } from './info.js';
import { type JobView, type WaitingJob, type WaitReason, whyWaiting } from './job-wait.js';
import { type KeyTypeProblem, keyTypeProblems } from './key-types.js';
import { type KeyContents, type KeyPage, readKey, scanKeys } from './keyspace.js';
import { type FlowControlView, flowControl } from './limits.js';
import { type LivenessQuery, livenessOf, type WorkerLiveness } from './liveness-check.js';
import {
  countQueueMatches,
  type JobMatch,
  type QueueJobsPage,
  type QueueSearch,
  queueJobsPage,
  removeQueue,
  removeQueueMatches,
  searchQueue,
} from './queue-jobs.js';
import { clearQueue, type QueueSummary, queueExists, queueSummaries } from './queues.js';
import { type RedisInfoSection, redisInfo } from './redis-info.js';
import { checkRedisSafety, type RedisSafety } from './redis-safety.js';
import { type RetryPage, removeRetry, retryCount, retryNow, retryPage } from './retries.js';
import { type DelayedView, ShardedDelayed } from './shard-delayed.js';
import { type FailureStore, ShardedFailures } from './shard-failures.js';
import {
  byName,
  infoByNode,
  mergeBacklog,
  mergeFlowControl,
  mergeLiveness,
  mergeSafety,
  mergeSchedules,
  mergeSnapshots,
  sum,
  sumInfo,
} from './shard-merge.js';
import { parseShardRef, shardRef } from './shard-refs.js';
import { readCounters, readSamples, type StatsSample, writeSample } from './stats.js';
import { type WorkerSummary, workerStats, workerSummaries, workerSummary } from './workers.js';

/** Error groups whose growth each stats sample records. */
const SAMPLED_GROUPS = 100;

/**
 * The admin read model: what the dashboard and the CLI show and do, in one place; neither issues Redis commands
 * itself. Queues and workers are read here (one pipeline each, O(queues)/O(workers)); failures through the failure
 * store; enqueue/dequeue/info through the queue client, which shares the connection.
 *
 * On a sharded namespace (`shards: N`, docs/cluster.md, Shards → Dashboard and CLI) it holds one unsharded Admin
 * per shard (`shard(i)`): reads ask every shard in parallel and merge (each shard's read as costly as on one Redis),
 * calls naming a queue go to the queue's shard, and the references it hands out (failure ids, retry refs) carry
 * their shard (`2@failed:0:3f2a9c1b07`).
 */
export class Admin {
  readonly resque: Resque;
  readonly failures: FailureStore;
  /** Delayed jobs (resque-scheduler's query API): the client's, or every shard's on a sharded namespace. */
  readonly delayed: DelayedView;
  /**
   * Recurring schedules stored in Redis (resque-scheduler's persistent schedules); a sharded namespace's are set on
   * shard 0 (and read from every shard: scheduleOverview).
   */
  readonly schedules: ScheduleStore;
  /** The shard layout of a sharded namespace; undefined when it is not sharded. */
  readonly layout: ShardLayout | undefined;
  private readonly ctx: AdminContext;
  /** One unsharded Admin per shard, by index; empty when not sharded. */
  private readonly shardAdmins: readonly Admin[];

  constructor(options: ClientOptions = {}) {
    this.resque = new Resque(options);
    this.ctx = { redis: this.resque.redis, keys: this.resque.keys, config: this.resque.config };
    this.layout = shardLayoutOf(this.ctx.config);
    const layout = this.layout;
    if (layout) {
      const redis = this.ctx.config.redis;
      this.shardAdmins = layout.namespaces.map(
        (namespace) => new Admin({ ...options, redis, namespace, shards: 1, queueShards: {} }),
      );
      this.failures = new ShardedFailures(
        layout,
        this.shardAdmins.map((admin) => admin.failures as Failures),
      );
      this.delayed = new ShardedDelayed(
        layout,
        this.shardAdmins.map((admin) => admin.resque.delayed),
      );
      const [first, ...others] = this.shardAdmins.map((admin) => admin.ctx);
      this.schedules = new ScheduleStore(first!.redis, first!.keys, undefined, others);
    } else {
      this.schedules = new ScheduleStore(this.ctx.redis, this.ctx.keys);
      this.shardAdmins = [];
      this.failures = new Failures(this.ctx.redis, this.ctx.keys, this.ctx.config);
      this.delayed = this.resque.delayed;
    }
  }

  get config(): ResolvedConfig {
    return this.ctx.config;
  }

  /** Shards of the namespace (1 when it is not sharded). */
  get shardCount(): number {
    return this.layout?.count ?? 1;
  }

  /** Shard `index`'s own (unsharded) Admin; the Admin itself when not sharded. */
  shard(index: number): Admin {
    if (!this.layout) {
      if (index !== 0) throw new RangeError(`the namespace is not sharded: no shard ${index}`);
      return this;
    }
    const admin = this.shardAdmins[index];
    if (!Number.isInteger(index) || !admin)
      throw new RangeError(`shard must be from 0 to ${this.layout.count - 1}, got ${String(index)}`);
    return admin;
  }

  /** The shard a queue lives on (0 when not sharded). */
  shardOf(queue: string): number {
    return this.layout?.shardOf(queue) ?? 0;
  }

  /** The Admin of the shard a queue lives on: every call naming a queue acts there. */
  forQueue(queue: string): Admin {
    return this.layout ? this.shardAdmins[this.layout.shardOf(queue)]! : this;
  }

  /** Runs `read` on every shard in parallel, results by shard index. */
  private eachShard<T>(read: (admin: Admin, shard: number) => Promise<T>): Promise<T[]> {
    return Promise.all(this.shardAdmins.map((admin, shard) => read(admin, shard)));
  }

  /** Queues, sorted, with size and the latency of their next job (and their shard, on a sharded namespace). */
  async queues(): Promise<QueueSummary[]> {
    if (!this.layout) return guarded(this.ctx, () => queueSummaries(this.ctx));
    const all = await this.eachShard(async (admin, shard) =>
      (await admin.queues()).map((queue) => ({ ...queue, shard })),
    );
    return all.flat().sort(byName);
  }

  hasQueue(name: string): Promise<boolean> {
    if (this.layout) return this.forQueue(name).hasQueue(name);
    return guarded(this.ctx, () => queueExists(this.ctx, name));
  }

  /** Drops every job of a queue (it stays listed); throws QueueNotFoundError for an unknown queue. */
  clearQueue(name: string): Promise<number> {
    if (this.layout) return this.forQueue(name).clearQueue(name);
    return guarded(this.ctx, () => clearQueue(this.ctx, name));
  }

  /** Pauses a queue for every resque-ts worker (see client/queue-pause.ts); false if it was paused already. */
  pauseQueue(name: string): Promise<boolean> {
    if (this.layout) return this.forQueue(name).pauseQueue(name);
    return guarded(this.ctx, () => pauseQueue(this.ctx, name));
  }

  /** Resumes a paused queue; false if it was not paused. */
  resumeQueue(name: string): Promise<boolean> {
    if (this.layout) return this.forQueue(name).resumeQueue(name);
    return guarded(this.ctx, () => resumeQueue(this.ctx, name));
  }

  /**
   * Flow control now: each concurrency limit with its running jobs (tokens held) and parked jobs, the busiest keys
   * of keyed limits (at most `keysShown` each), and the paused queues. Bounded reads; see api/limits.ts.
   */
  async flowControl(options: { keysShown?: number } = {}): Promise<FlowControlView> {
    if (this.layout) return mergeFlowControl(await this.eachShard((admin) => admin.flowControl(options)));
    return guarded(this.ctx, () => flowControl(this.ctx, options));
  }

  /**
   * Why a queued job has not started: pauses, no live worker on its queue, every such worker busy, its full
   * concurrency limits and used-up rate limits, and the jobs ahead of it (`position`, else its queue's length).
   */
  whyWaiting(job: WaitingJob, position?: number): Promise<WaitReason[]> {
    if (this.layout) return this.forQueue(job.queue).whyWaiting(job, position);
    return guarded(this.ctx, () => whyWaiting(this.ctx, job, position));
  }

  /**
   * A fair queue's tenants: how many have jobs, the jobs on their lists and the `shown` busiest with their weights;
   * undefined when the queue is not fair. Reads at most TENANTS_READ tenants (api/fair.ts).
   */
  tenants(queue: string, shown = 10): Promise<TenantsView | undefined> {
    if (this.layout) return this.forQueue(queue).tenants(queue, shown);
    return guarded(this.ctx, () => tenantsView(this.ctx, queue, shown));
  }

  /** At most `limit` jobs of the queue at once (see limits/definitions.ts); ConfigError for a bad limit. */
  limitQueue(name: string, limit: number): Promise<void> {
    if (this.layout) return this.forQueue(name).limitQueue(name, limit);
    return guarded(this.ctx, () => limitQueue(this.ctx, name, limit));
  }

  /** Removes a queue's limit, letting its parked jobs back; false when it had none. */
  unlimitQueue(name: string): Promise<boolean> {
    if (this.layout) return this.forQueue(name).unlimitQueue(name);
    return guarded(this.ctx, () => unlimitQueue(this.ctx, name));
  }

  /** Whether Ruby's `pause-all-workers` is set (on any shard, on a sharded namespace). */
  async allWorkersPaused(): Promise<boolean> {
    if (this.layout) return (await this.eachShard((admin) => admin.allWorkersPaused())).some(Boolean);
    return guarded(this.ctx, async () =>
      /^\s*true\s*$/i.test((await this.ctx.redis.get(this.ctx.keys.pauseAll)) ?? ''),
    );
  }

  /** Sets or clears Ruby's `pause-all-workers`, honoured by Ruby and resque-ts workers alike. */
  async setAllWorkersPaused(paused: boolean): Promise<void> {
    if (this.layout) {
      await this.eachShard((admin) => admin.setAllWorkersPaused(paused));
      return;
    }
    return guarded(this.ctx, () => (paused ? pauseAllWorkers(this.ctx) : resumeAllWorkers(this.ctx)));
  }

  /** Ruby's remove_queue: drops the queue's jobs and its name; QueueNotFoundError for an unknown queue. */
  removeQueue(name: string): Promise<number> {
    if (this.layout) return this.forQueue(name).removeQueue(name);
    return guarded(this.ctx, () => removeQueue(this.ctx, name));
  }

  /** A page of a queue's jobs by position from the head (O(page)); QueueNotFoundError for an unknown queue. */
  queueJobs(name: string, offset = 0, limit = 20): Promise<QueueJobsPage> {
    if (this.layout) return this.forQueue(name).queueJobs(name, offset, limit);
    return guarded(this.ctx, () => queueJobsPage(this.ctx, name, offset, limit));
  }

  /** A page of the jobs matching class and/or argument text (chunked read from the head until the page is full). */
  searchQueue(name: string, match: JobMatch, offset = 0, limit = 20): Promise<QueueSearch> {
    if (this.layout) return this.forQueue(name).searchQueue(name, match, offset, limit);
    return guarded(this.ctx, () => searchQueue(this.ctx, name, match, offset, limit));
  }

  /** How many jobs of the queue match (chunked full read; LLEN when the match selects everything). */
  countQueueMatches(name: string, match: JobMatch): Promise<{ matched: number; size: number }> {
    if (this.layout) return this.forQueue(name).countQueueMatches(name, match);
    return guarded(this.ctx, () => countQueueMatches(this.ctx, name, match));
  }

  /** Removes the jobs that match, in chunks, compare-and-remove; returns how many went. */
  removeQueueMatches(name: string, match: JobMatch): Promise<number> {
    if (this.layout) return this.forQueue(name).removeQueueMatches(name, match);
    return guarded(this.ctx, () => removeQueueMatches(this.ctx, name, match));
  }

  /**
   * Registered workers: what each is doing, since when, last heartbeat, counters. On a sharded namespace one entry
   * per shard a worker is registered on (a worker of queues on several shards registers on each), with its shard.
   */
  async workers(): Promise<WorkerSummary[]> {
    if (!this.layout) return guarded(this.ctx, () => workerSummaries(this.ctx));
    const all = await this.eachShard(async (admin, shard) =>
      (await admin.workers()).map((worker) => ({ ...worker, shard })),
    );
    return all.flat().sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : a.shard - b.shard));
  }

  /**
   * One registered worker; undefined when it is not (or no longer) registered. On a sharded namespace the one on
   * `shard`, else the first shard it is registered on (working there first).
   */
  async worker(id: string, shard?: number): Promise<WorkerSummary | undefined> {
    if (!this.layout) return guarded(this.ctx, () => workerSummary(this.ctx, id));
    if (shard !== undefined) {
      const found = await this.shard(shard).worker(id);
      return found && { ...found, shard };
    }
    const found = await this.eachShard(async (admin, index) => {
      const worker = await admin.worker(id);
      return worker && { ...worker, shard: index };
    });
    const registered = found.filter((w) => w !== undefined);
    return registered.find((w) => w.state === 'working') ?? registered[0];
  }

  /** What a resque-ts worker reports about its process and children (undefined for Ruby's and stopped ones). */
  async workerProcess(id: string): Promise<WorkerStats | undefined> {
    if (this.layout) return (await this.eachShard((admin) => admin.workerProcess(id))).find(Boolean);
    return guarded(this.ctx, async () => (await workerStats(this.ctx, [id]))[0]);
  }

  /** `stat:processed` and `stat:failed` (summed over the shards). */
  async counters(): Promise<{ processed: number; failed: number }> {
    if (!this.layout) return guarded(this.ctx, () => readCounters(this.ctx));
    const all = await this.eachShard((admin) => admin.counters());
    return {
      processed: sum(all.map((c) => c.processed)),
      failed: sum(all.map((c) => c.failed)),
    };
  }

  /** Redis INFO by section; on a sharded namespace each server once, its sections naming the shards it serves. */
  async redisInfo(): Promise<RedisInfoSection[]> {
    if (this.layout) return infoByNode(await this.eachShard((admin) => admin.redisInfo()));
    return guarded(this.ctx, () => redisInfo(this.ctx));
  }

  /**
   * Redis settings that can lose jobs (an evicting maxmemory-policy, no persistence); see redis-safety.ts. On a
   * sharded namespace the risks of every shard's server.
   */
  async redisSafety(): Promise<RedisSafety> {
    if (this.layout) return mergeSafety(await this.eachShard((admin) => admin.redisSafety()));
    return guarded(this.ctx, () => checkRedisSafety(this.ctx.redis));
  }

  /**
   * A page of the namespace's keys by SCAN cursor ('0' to start), with type and size. On a sharded namespace the
   * scan walks the shards in turn: the cursor is `<shard>@<cursor>` and each key name starts with its shard
   * (`1@queue:mail`), which readKey takes back.
   */
  async scanKeys(cursor = '0', pageSize = 50): Promise<KeyPage> {
    const layout = this.layout;
    if (!layout) return guarded(this.ctx, () => scanKeys(this.ctx, cursor, pageSize));
    const at = cursor === '0' ? { shard: 0, ref: '0' } : parseShardRef(cursor, layout.count);
    if (!at)
      throw new RangeError(`not a key-scan cursor of ${layout.count} shards: ${JSON.stringify(cursor)}`);
    const page = await this.shard(at.shard).scanKeys(at.ref, pageSize);
    const next =
      page.cursor !== '0'
        ? shardRef(at.shard, page.cursor)
        : at.shard + 1 < layout.count
          ? shardRef(at.shard + 1, '0')
          : '0';
    return { keys: page.keys.map((key) => ({ ...key, name: shardRef(at.shard, key.name) })), cursor: next };
  }

  /**
   * A slice of one key's contents (name without the namespace); undefined when it does not exist. On a sharded
   * namespace the name starts with its shard (`1@queue:mail`), as scanKeys gives it.
   */
  async readKey(name: string, start = '0', count = 20): Promise<KeyContents | undefined> {
    if (!this.layout) return guarded(this.ctx, () => readKey(this.ctx, name, start, count));
    const at = parseShardRef(name, this.layout.count);
    if (!at) return undefined;
    const contents = await this.shard(at.shard).readKey(at.ref, start, count);
    return contents && { ...contents, name };
  }

  /**
   * Writes this period's stats sample (counters, pending, longest wait, error-group growth) unless another process
   * already did; see stats.ts. Returns the sample written, or undefined.
   */
  sampleStats(): Promise<StatsSample | undefined> {
    if (this.layout) return this.sampleShardedStats();
    return guarded(this.ctx, async () => {
      const [queues, groups] = await Promise.all([
        queueSummaries(this.ctx),
        this.failures.groups({ limit: SAMPLED_GROUPS }),
      ]);
      const latencies = queues.flatMap((q) => (q.latencyMs === undefined ? [] : [q.latencyMs]));
      return writeSample(this.ctx, {
        pending: sum(queues.map((q) => q.size)),
        maxLatencyMs: latencies.length > 0 ? Math.max(...latencies) : undefined,
        groupCounts: groups.map((g) => ({ id: g.id, count: g.count })),
      });
    });
  }

  /** A sharded namespace's sample: the shards' figures added up, kept on shard 0. */
  private async sampleShardedStats(): Promise<StatsSample | undefined> {
    const [queues, groups, counters] = await Promise.all([
      this.queues(),
      this.failures.groups({ limit: SAMPLED_GROUPS }),
      this.counters(),
    ]);
    const latencies = queues.flatMap((q) => (q.latencyMs === undefined ? [] : [q.latencyMs]));
    const first = this.shard(0);
    return guarded(first.ctx, () =>
      writeSample(first.ctx, {
        counters,
        pending: sum(queues.map((q) => q.size)),
        maxLatencyMs: latencies.length > 0 ? Math.max(...latencies) : undefined,
        groupCounts: groups.map((g) => ({ id: g.id, count: g.count })),
      }),
    );
  }

  /** Stats samples from `sinceMs` (epoch ms) on, oldest first (a sharded namespace's are on shard 0). */
  samples(sinceMs: number): Promise<StatsSample[]> {
    if (this.layout) return this.shard(0).samples(sinceMs);
    return guarded(this.ctx, () => readSamples(this.ctx, sinceMs));
  }

  /** The namespace's fixed keys (queues, workers, failed, stats…) that hold another type than Resque expects. */
  async keyTypeProblems(): Promise<KeyTypeProblem[]> {
    if (this.layout) return (await this.eachShard((admin) => admin.keyTypeProblems())).flat();
    return guarded(this.ctx, () => keyTypeProblems(this.ctx));
  }

  /** Stored schedules with next and last runs, and the master's `host:pid` (every shard's, on a sharded namespace). */
  async scheduleOverview(): Promise<ScheduleOverview> {
    if (this.layout) {
      const [overviews, runs] = await Promise.all([
        this.eachShard((admin) => admin.scheduleOverview()),
        this.eachShard((admin) => guarded(admin.ctx, () => admin.schedules.lastEnqueued())),
      ]);
      // The scheduler records a schedule's runs on its queue's shard, where it fires the ticks.
      const merged = mergeSchedules(overviews);
      for (const row of merged.schedules)
        if (row.queue !== undefined)
          row.lastEnqueuedAt = runs[this.shardOf(row.queue)]![row.name] ?? row.lastEnqueuedAt;
      return merged;
    }
    return guarded(this.ctx, () => scheduleOverview(this.ctx.redis, this.ctx.keys));
  }

  /** One run of a stored schedule now; false when there is no such schedule. */
  async runSchedule(name: string): Promise<boolean> {
    if (this.layout) return this.runShardedSchedule(name);
    return guarded(this.ctx, () =>
      runScheduleNow(this.ctx.redis, this.ctx.keys, name, { strictPayloads: this.ctx.config.strictPayloads }),
    );
  }

  /**
   * A run now of a schedule stored on some shard: its job goes to its queue's shard, and the run is recorded there,
   * where the scheduler keeps the schedule's runs (two writes, as the run of a schedule on one Redis is two: at worst
   * a run is not recorded).
   */
  private async runShardedSchedule(name: string): Promise<boolean> {
    for (const admin of this.shardAdmins) {
      const stored = (await admin.schedules.all()).find((s) => s.name === name);
      if (!stored) continue;
      const schedule = parseSchedule(name, stored.config);
      const queue = this.forQueue(schedule.queue);
      await queue.resque.enqueueTo(schedule.queue, schedule.className, ...schedule.args);
      const now = await redisTime(queue.ctx.redis);
      await queue.ctx.redis.hset(queue.ctx.keys.lastEnqueuedAt, name, rubyTimeToS(now));
      return true;
    }
    return false;
  }

  /**
   * Everything known of one job by its id (docs/status.md): its status record if it is tracked, else what Redis shows
   * (a slot running it, the retry set, the delayed index, recent failures), with its payload and attempts' errors;
   * for a queued job, why it waits (whyWaiting).
   */
  async job(id: string): Promise<JobView> {
    if (this.layout) {
      const views = await this.eachShard(async (admin, shard) => ({ ...(await admin.job(id)), shard }));
      return views.find((view) => view.status.state !== 'unknown') ?? views[0]!;
    }
    return guarded(this.ctx, async () => {
      const story = await jobStory(this.ctx, id);
      const { state, queue, className } = story.status;
      if (state !== 'queued' || !queue || !className) return story;
      const job = {
        queue,
        className,
        concurrencyKey: story.payload?.concurrency_key,
        rateKey: story.payload?.rate_key,
      };
      return { ...story, waiting: await whyWaiting(this.ctx, job) };
    });
  }

  /**
   * Jobs waiting to be retried, earliest due first (O(page)). On a sharded namespace each shard's first
   * `offset + limit` merged by due time (O(offset + limit) per shard), each ref carrying its shard.
   */
  async retries(offset = 0, limit = 20): Promise<RetryPage> {
    if (!this.layout) return guarded(this.ctx, () => retryPage(this.ctx, offset, limit));
    const pages = await this.eachShard((admin) => admin.retries(0, offset + limit));
    const jobs = pages
      .flatMap((page, shard) => page.jobs.map((job) => ({ ...job, shard, ref: shardRef(shard, job.ref) })))
      .sort((a, b) => a.dueAtMs - b.dueAtMs);
    return { jobs: jobs.slice(offset, offset + limit), total: sum(pages.map((p) => p.total)) };
  }

  async retryCount(): Promise<number> {
    if (!this.layout) return guarded(this.ctx, () => retryCount(this.ctx));
    return sum(await this.eachShard((admin) => admin.retryCount()));
  }

  /** Moves a waiting job (its `ref`) to its queue now; false when it is no longer waiting. */
  retryNow(ref: string): Promise<boolean> {
    if (this.layout) return this.onRefShard(ref, (admin, own) => admin.retryNow(own));
    return guarded(this.ctx, () => retryNow(this.ctx, ref));
  }

  /**
   * Cancels a job wherever it is (docs/cancel.md); says what it found. On a sharded namespace the job is looked up
   * on every shard and cancelled where it is; a job found nowhere is cancelled on every shard (it may wait untracked
   * on any of them), which leaves a tombstone on each.
   */
  async cancelJob(id: string): Promise<CancelResult> {
    if (!this.layout) return guarded(this.ctx, () => cancelJob(this.ctx, id));
    const views = await this.eachShard((admin) => admin.job(id));
    const found = views.findIndex((view) => view.status.state !== 'unknown');
    if (found >= 0) return this.shard(found).cancelJob(id);
    const results = await this.eachShard((admin) => admin.cancelJob(id));
    return results.find((result) => result.was !== 'unknown') ?? results[0]!;
  }

  /** Drops a waiting job: no more attempts, no failure record. False when it is no longer waiting. */
  removeRetry(ref: string): Promise<boolean> {
    if (this.layout) return this.onRefShard(ref, (admin, own) => admin.removeRetry(own));
    return guarded(this.ctx, () => removeRetry(this.ctx, ref));
  }

  /** Runs `act` on the shard a sharded reference names; false for a reference that names none. */
  private async onRefShard(
    ref: string,
    act: (admin: Admin, own: string) => Promise<boolean>,
  ): Promise<boolean> {
    const at = parseShardRef(ref, this.shardCount);
    return at ? act(this.shard(at.shard), at.ref) : false;
  }

  /**
   * The earliest delayed job and whether it is overdue (no process promoting), with the count of overdue jobs: two
   * O(1) reads, and at most 102 more when overdue. Decided by Redis `TIME` unless `nowMs` (epoch ms) is given.
   */
  async delayedBacklog(nowMs?: number): Promise<DelayedBacklog> {
    if (this.layout) return mergeBacklog(await this.eachShard((admin) => admin.delayedBacklog(nowMs)));
    return guarded(this.ctx, () => delayedBacklog(this.ctx.redis, this.ctx.keys, nowMs));
  }

  /** Whether the workers of a host (or one worker) are alive by the reaper's rules: `resque health`. */
  async liveness(query: LivenessQuery): Promise<WorkerLiveness[]> {
    if (this.layout) return mergeLiveness(await this.eachShard((admin) => admin.liveness(query)));
    return guarded(this.ctx, () => livenessOf(this.ctx, query));
  }

  /** The namespace's figures for a metrics scrape: queues, workers, counters, failures, delayed jobs. */
  async metricsSnapshot(): Promise<ClusterSnapshot> {
    if (this.layout) return mergeSnapshots(await this.eachShard((admin) => admin.metricsSnapshot()));
    return guarded(this.ctx, () => clusterSnapshot(this.ctx, this.failures as Failures));
  }

  async info(): Promise<ResqueInfo> {
    if (this.layout) return sumInfo(await this.eachShard((admin) => admin.info()));
    return guarded(this.ctx, () => resqueInfo(this.ctx));
  }

  async close(): Promise<void> {
    await Promise.all([this.resque.close(), ...this.shardAdmins.map((admin) => admin.close())]);
  }
}
