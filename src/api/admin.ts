import { type CancelResult, cancelJob } from '../cancel/cancel-job.js';
import type { ResqueInfo } from '../client/info.js';
import { pauseAllWorkers, pauseQueue, resumeAllWorkers, resumeQueue } from '../client/queue-pause.js';
import { type ClientOptions, Resque } from '../client/resque.js';
import type { ResolvedConfig } from '../config/resolve.js';
import { Failures } from '../failure/store.js';
import type { WorkerStats } from '../fleet/worker-stats.js';
import { limitQueue, unlimitQueue } from '../limits/definitions.js';
import { type DelayedBacklog, delayedBacklog } from '../scheduler/overdue.js';
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
import { readCounters, readSamples, type StatsSample, writeSample } from './stats.js';
import { type WorkerSummary, workerStats, workerSummaries, workerSummary } from './workers.js';

/** Error groups whose growth each stats sample records. */
const SAMPLED_GROUPS = 100;

/**
 * The admin read model: what the dashboard and the CLI show and do, in one place; neither issues Redis commands
 * itself. Queues and workers are read here (one pipeline each, O(queues)/O(workers)); failures through the failure
 * store; enqueue/dequeue/info through the queue client, which shares the connection.
 */
export class Admin {
  readonly resque: Resque;
  readonly failures: Failures;
  /** Recurring schedules stored in Redis (resque-scheduler's persistent schedules). */
  readonly schedules: ScheduleStore;
  private readonly ctx: AdminContext;

  constructor(options: ClientOptions = {}) {
    this.resque = new Resque(options);
    this.ctx = { redis: this.resque.redis, keys: this.resque.keys, config: this.resque.config };
    this.failures = new Failures(this.ctx.redis, this.ctx.keys, this.ctx.config);
    this.schedules = new ScheduleStore(this.ctx.redis, this.ctx.keys);
  }

  get config(): ResolvedConfig {
    return this.ctx.config;
  }

  /** Queues, sorted, with size and the latency of their next job. */
  queues(): Promise<QueueSummary[]> {
    return guarded(this.ctx, () => queueSummaries(this.ctx));
  }

  hasQueue(name: string): Promise<boolean> {
    return guarded(this.ctx, () => queueExists(this.ctx, name));
  }

  /** Drops every job of a queue (it stays listed); throws QueueNotFoundError for an unknown queue. */
  clearQueue(name: string): Promise<number> {
    return guarded(this.ctx, () => clearQueue(this.ctx, name));
  }

  /** Pauses a queue for every resque-ts worker (see client/queue-pause.ts); false if it was paused already. */
  pauseQueue(name: string): Promise<boolean> {
    return guarded(this.ctx, () => pauseQueue(this.ctx, name));
  }

  /** Resumes a paused queue; false if it was not paused. */
  resumeQueue(name: string): Promise<boolean> {
    return guarded(this.ctx, () => resumeQueue(this.ctx, name));
  }

  /**
   * Flow control now: each concurrency limit with its running jobs (tokens held) and parked jobs, the busiest keys
   * of keyed limits (at most `keysShown` each), and the paused queues. Bounded reads; see api/limits.ts.
   */
  flowControl(options: { keysShown?: number } = {}): Promise<FlowControlView> {
    return guarded(this.ctx, () => flowControl(this.ctx, options));
  }

  /**
   * Why a queued job has not started: pauses, no live worker on its queue, every such worker busy, its full
   * concurrency limits and used-up rate limits, and the jobs ahead of it (`position`, else its queue's length).
   */
  whyWaiting(job: WaitingJob, position?: number): Promise<WaitReason[]> {
    return guarded(this.ctx, () => whyWaiting(this.ctx, job, position));
  }

  /**
   * A fair queue's tenants: how many have jobs, the jobs on their lists and the `shown` busiest with their weights;
   * undefined when the queue is not fair. Reads at most TENANTS_READ tenants (api/fair.ts).
   */
  tenants(queue: string, shown = 10): Promise<TenantsView | undefined> {
    return guarded(this.ctx, () => tenantsView(this.ctx, queue, shown));
  }

  /** At most `limit` jobs of the queue at once (see limits/definitions.ts); ConfigError for a bad limit. */
  limitQueue(name: string, limit: number): Promise<void> {
    return guarded(this.ctx, () => limitQueue(this.ctx, name, limit));
  }

  /** Removes a queue's limit, letting its parked jobs back; false when it had none. */
  unlimitQueue(name: string): Promise<boolean> {
    return guarded(this.ctx, () => unlimitQueue(this.ctx, name));
  }

  /** Whether Ruby's `pause-all-workers` is set. */
  async allWorkersPaused(): Promise<boolean> {
    return guarded(this.ctx, async () =>
      /^\s*true\s*$/i.test((await this.ctx.redis.get(this.ctx.keys.pauseAll)) ?? ''),
    );
  }

  /** Sets or clears Ruby's `pause-all-workers`, honoured by Ruby and resque-ts workers alike. */
  setAllWorkersPaused(paused: boolean): Promise<void> {
    return guarded(this.ctx, () => (paused ? pauseAllWorkers(this.ctx) : resumeAllWorkers(this.ctx)));
  }

  /** Ruby's remove_queue: drops the queue's jobs and its name; QueueNotFoundError for an unknown queue. */
  removeQueue(name: string): Promise<number> {
    return guarded(this.ctx, () => removeQueue(this.ctx, name));
  }

  /** A page of a queue's jobs by position from the head (O(page)); QueueNotFoundError for an unknown queue. */
  queueJobs(name: string, offset = 0, limit = 20): Promise<QueueJobsPage> {
    return guarded(this.ctx, () => queueJobsPage(this.ctx, name, offset, limit));
  }

  /** A page of the jobs matching class and/or argument text (chunked read from the head until the page is full). */
  searchQueue(name: string, match: JobMatch, offset = 0, limit = 20): Promise<QueueSearch> {
    return guarded(this.ctx, () => searchQueue(this.ctx, name, match, offset, limit));
  }

  /** How many jobs of the queue match (chunked full read; LLEN when the match selects everything). */
  countQueueMatches(name: string, match: JobMatch): Promise<{ matched: number; size: number }> {
    return guarded(this.ctx, () => countQueueMatches(this.ctx, name, match));
  }

  /** Removes the jobs that match, in chunks, compare-and-remove; returns how many went. */
  removeQueueMatches(name: string, match: JobMatch): Promise<number> {
    return guarded(this.ctx, () => removeQueueMatches(this.ctx, name, match));
  }

  /** Registered workers: what each is doing, since when, last heartbeat, counters. */
  workers(): Promise<WorkerSummary[]> {
    return guarded(this.ctx, () => workerSummaries(this.ctx));
  }

  /** One registered worker; undefined when it is not (or no longer) registered. */
  worker(id: string): Promise<WorkerSummary | undefined> {
    return guarded(this.ctx, () => workerSummary(this.ctx, id));
  }

  /** What a resque-ts worker reports about its process and children (undefined for Ruby's and stopped ones). */
  workerProcess(id: string): Promise<WorkerStats | undefined> {
    return guarded(this.ctx, async () => (await workerStats(this.ctx, [id]))[0]);
  }

  /** `stat:processed` and `stat:failed`. */
  counters(): Promise<{ processed: number; failed: number }> {
    return guarded(this.ctx, () => readCounters(this.ctx));
  }

  /** Redis INFO by section. */
  redisInfo(): Promise<RedisInfoSection[]> {
    return guarded(this.ctx, () => redisInfo(this.ctx));
  }

  /** Redis settings that can lose jobs (an evicting maxmemory-policy, no persistence); see redis-safety.ts. */
  redisSafety(): Promise<RedisSafety> {
    return guarded(this.ctx, () => checkRedisSafety(this.ctx.redis));
  }

  /** A page of the namespace's keys by SCAN cursor ('0' to start), with type and size. */
  scanKeys(cursor = '0', pageSize = 50): Promise<KeyPage> {
    return guarded(this.ctx, () => scanKeys(this.ctx, cursor, pageSize));
  }

  /** A slice of one key's contents (name without the namespace); undefined when it does not exist. */
  readKey(name: string, start = '0', count = 20): Promise<KeyContents | undefined> {
    return guarded(this.ctx, () => readKey(this.ctx, name, start, count));
  }

  /**
   * Writes this period's stats sample (counters, pending, longest wait, error-group growth) unless another process
   * already did; see stats.ts. Returns the sample written, or undefined.
   */
  sampleStats(): Promise<StatsSample | undefined> {
    return guarded(this.ctx, async () => {
      const [queues, groups] = await Promise.all([
        queueSummaries(this.ctx),
        this.failures.groups({ limit: SAMPLED_GROUPS }),
      ]);
      const latencies = queues.flatMap((q) => (q.latencyMs === undefined ? [] : [q.latencyMs]));
      return writeSample(this.ctx, {
        pending: queues.reduce((sum, q) => sum + q.size, 0),
        maxLatencyMs: latencies.length > 0 ? Math.max(...latencies) : undefined,
        groupCounts: groups.map((g) => ({ id: g.id, count: g.count })),
      });
    });
  }

  /** Stats samples from `sinceMs` (epoch ms) on, oldest first. */
  samples(sinceMs: number): Promise<StatsSample[]> {
    return guarded(this.ctx, () => readSamples(this.ctx, sinceMs));
  }

  /** The namespace's fixed keys (queues, workers, failed, stats…) that hold another type than Resque expects. */
  keyTypeProblems(): Promise<KeyTypeProblem[]> {
    return guarded(this.ctx, () => keyTypeProblems(this.ctx));
  }

  /** Resque.info's figures (a queue key of the wrong type counts as empty, and is flagged by `queues()`). */
  /** Stored schedules with next and last runs, and the master's `host:pid`. */
  scheduleOverview(): Promise<ScheduleOverview> {
    return guarded(this.ctx, () => scheduleOverview(this.ctx.redis, this.ctx.keys));
  }

  /** One run of a stored schedule now; false when there is no such schedule. */
  runSchedule(name: string): Promise<boolean> {
    return guarded(this.ctx, () =>
      runScheduleNow(this.ctx.redis, this.ctx.keys, name, { strictPayloads: this.ctx.config.strictPayloads }),
    );
  }

  /**
   * Everything known of one job by its id (docs/status.md): its status record if it is tracked, else what Redis shows
   * (a slot running it, the retry set, the delayed index, recent failures), with its payload and attempts' errors;
   * for a queued job, why it waits (whyWaiting).
   */
  job(id: string): Promise<JobView> {
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

  /** Jobs waiting to be retried, earliest due first (O(page)). */
  retries(offset = 0, limit = 20): Promise<RetryPage> {
    return guarded(this.ctx, () => retryPage(this.ctx, offset, limit));
  }

  retryCount(): Promise<number> {
    return guarded(this.ctx, () => retryCount(this.ctx));
  }

  /** Moves a waiting job (its `ref`) to its queue now; false when it is no longer waiting. */
  retryNow(ref: string): Promise<boolean> {
    return guarded(this.ctx, () => retryNow(this.ctx, ref));
  }

  /** Cancels a job wherever it is (docs/cancel.md); says what it found. */
  cancelJob(id: string): Promise<CancelResult> {
    return guarded(this.ctx, () => cancelJob(this.ctx, id));
  }

  /** Drops a waiting job: no more attempts, no failure record. False when it is no longer waiting. */
  removeRetry(ref: string): Promise<boolean> {
    return guarded(this.ctx, () => removeRetry(this.ctx, ref));
  }

  /**
   * The earliest delayed job and whether it is overdue (no process promoting), with the count of overdue jobs: two
   * O(1) reads, and at most 102 more when overdue. Decided by Redis `TIME` unless `nowMs` (epoch ms) is given.
   */
  delayedBacklog(nowMs?: number): Promise<DelayedBacklog> {
    return guarded(this.ctx, () => delayedBacklog(this.ctx.redis, this.ctx.keys, nowMs));
  }

  /** Whether the workers of a host (or one worker) are alive by the reaper's rules: `resque health`. */
  liveness(query: LivenessQuery): Promise<WorkerLiveness[]> {
    return guarded(this.ctx, () => livenessOf(this.ctx, query));
  }

  /** The namespace's figures for a metrics scrape: queues, workers, counters, failures, delayed jobs. */
  metricsSnapshot(): Promise<ClusterSnapshot> {
    return guarded(this.ctx, () => clusterSnapshot(this.ctx, this.failures));
  }

  info(): Promise<ResqueInfo> {
    return guarded(this.ctx, () => resqueInfo(this.ctx));
  }

  close(): Promise<void> {
    return this.resque.close();
  }
}
