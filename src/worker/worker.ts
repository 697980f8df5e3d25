import { EventEmitter } from 'node:events';
import { memoryUsage } from 'node:process';
import type { Registry } from 'prom-client';
import { CancelListener } from '../cancel/listener.js';
import type { ResqueOptions } from '../config/options.js';
import { type ResolvedConfig, resolveConfig } from '../config/resolve.js';
import { shardLayoutOf } from '../config/shards.js';
import { TermException } from '../errors/index.js';
import { hostIdentity } from '../fleet/host-identity.js';
import { Registration } from '../fleet/registration.js';
import type { WorkerStats } from '../fleet/worker-stats.js';
import { type AnyJob, JobRegistry } from '../jobs/registry.js';
import { createLogger, type Logger, toLogger } from '../logging/logger.js';
import type { PinoLike } from '../logging/pino.js';
import type { ErrorReporter } from '../observability/error-reporter.js';
import { WorkerObservability } from '../observability/worker-observability.js';
import { Keys } from '../protocol/keys.js';
import { formatWorkerId } from '../protocol/worker-id.js';
import { openRedis } from '../redis/connection.js';
import { StatusTracker } from '../status/tracker.js';
import { VERSION } from '../version.js';
import { chooseExecutor } from './choose-executor.js';
import type { Executor } from './executor.js';
import { Fetcher } from './fetch/fetcher.js';
import { runWorkerHooks, type WorkerHookName, type WorkerHooks } from './hooks.js';
import { Launcher, type StopMode } from './launcher.js';
import { Manager } from './manager.js';
import { Processor } from './processor.js';
import { setProcline } from './proctitle.js';
import { QueuePatterns } from './queue-patterns.js';
import { ShardedWorker, type WorkerShard } from './sharded-worker.js';
import { allocateSlots } from './slot-allocation.js';
import { Waker } from './wake.js';
import type { WorkerEvents } from './worker-events.js';

export type { StopMode } from './launcher.js';
export type { WorkerShard } from './sharded-worker.js';
export type { WorkerEvents } from './worker-events.js';

export interface WorkerOptions extends ResqueOptions {
  /** The job classes this worker can run. */
  jobs: Iterable<AnyJob> | JobRegistry;
  /** Resque's worker hooks. */
  hooks?: WorkerHooks;
  /** Where jobs run; by default supervised children when `require` names job modules, else this process. */
  executor?: Executor;
  /**
   * Modules defining the jobs (the same ones `jobs` came from): with `isolation: 'process'` (the default) each
   * child of a supervised worker loads them once and runs the jobs. Without them jobs run in this process.
   */
  require?: readonly string[];
  /** An already resolved configuration (what `resque work` passes); the other options are then ignored. */
  config?: ResolvedConfig;
  /**
   * Where the worker logs: a `{ error, warn, info, debug }` of the application's, or a pino logger (its level then
   * rules). Default: a pino logger on stderr at `logLevel`, in `logFormat`.
   */
  logger?: Logger | PinoLike;
  /** Called for every failed attempt with the error, the job and where it ran (docs/operations.md). */
  errorReporter?: ErrorReporter;
  /** A prom-client registry to put the worker's metrics on (an application's own `/metrics`); see `metricsPort`. */
  metricsRegistry?: Registry;
  /** Set process titles (`resque-<version>: …`). Default true. */
  setProcessTitle?: boolean;
}

/**
 * A Resque worker: registers its slots, heartbeats, reaps dead peers, and keeps its slots busy with jobs from its
 * queues in priority order. This class is the public face of a chain of three parts (docs/architecture.md): the
 * launcher (its life in Redis), the manager (slots, pumping, pause) and the processor (one job to its outcome).
 */
export class Worker extends EventEmitter<WorkerEvents> {
  // Assigned by the constructor, unless it returns a ShardedWorker instead (hence the `!`).
  readonly config!: ResolvedConfig;
  readonly keys!: Keys;
  /** The worker's id (`host:pid:queues`), also its first slot's id; sharded, its first shard's (see `shards`). */
  readonly id!: string;
  /** Sharded, the first shard's slots (see `shards`). */
  readonly slotIds!: readonly string[];
  readonly finished!: Promise<void>;

  private readonly executor!: Executor;
  private readonly processor!: Processor;
  private readonly manager!: Manager;
  private readonly launcher!: Launcher;
  private readonly observability!: WorkerObservability;
  private readonly startedAt = Date.now();

  constructor(options: WorkerOptions) {
    super();
    const {
      jobs,
      hooks = {},
      executor,
      config,
      logger,
      setProcessTitle = true,
      require: modules,
      errorReporter,
      metricsRegistry,
      ...rest
    } = options;
    const resolved = config ?? resolveConfig(rest);
    // Sharded (docs/cluster.md, Shards): one Worker like this one per shard the queues touch, composed.
    const layout = shardLayoutOf(resolved);
    if (layout)
      // biome-ignore lint/correctness/noConstructorReturn: the sharded worker stands in for the Worker asked for
      return new ShardedWorker(
        resolved,
        layout,
        executor !== undefined,
        // Ports and a metrics registry are the process's: the first part serves them.
        (part, first) =>
          new Worker({ ...options, config: part, ...(first ? {} : { metricsRegistry: undefined }) }),
      ) as unknown as Worker;
    this.config = resolved;
    this.keys = new Keys(this.config.namespace);
    const registry = jobs instanceof JobRegistry ? jobs : new JobRegistry(jobs);
    const log = logger
      ? toLogger(logger)
      : createLogger(this.config.logLevel, process.stderr, this.config.logFormat);
    const patterns = new QueuePatterns(this.config.queues, this.config.queueWeights);
    const title = setProcessTitle
      ? (text: string) => setProcline(text, this.config.proclinePrefix)
      : undefined;
    const procline = title ?? (() => {});
    const runHooks = (name: WorkerHookName) => runWorkerHooks(hooks, name, this, log);
    this.executor =
      executor ??
      chooseExecutor({ config: this.config, jobs: registry, logger: log, require: modules, setProcessTitle });
    const slots = allocateSlots(
      formatWorkerId(this.config.hostname, process.pid, this.config.queues),
      this.executor.slots ?? this.config.concurrency,
    );
    this.id = slots.id;
    this.slotIds = slots.slotIds;
    const redis = openRedis(this.config, 'worker');
    const status = new StatusTracker(redis, this.keys, log);
    this.executor.reportProgressTo?.((reservation, value) => status.progress(reservation, value));
    this.processor = new Processor({
      status,
      config: this.config,
      executor: this.executor,
      logger: log,
      events: this,
      onSlotFree: () => this.manager.schedulePump(),
      procline: title,
      jobs: registry,
    });
    const fetcher = new Fetcher(
      redis,
      this.keys,
      patterns,
      this.config,
      log,
      () => this.manager.schedulePump(),
      undefined,
      this.slotIds,
    );
    const waker = new Waker(this.config, this.keys, patterns, log, {
      onWake: (queue) => this.manager.onWake(queue),
      onPoll: () => this.manager.onPoll(),
    });
    const processor = this.processor;
    const cancels = new CancelListener(this.config, this.keys, this.slotIds, processor, log);
    this.manager = new Manager({
      config: this.config,
      slotIds: this.slotIds,
      patterns,
      fetcher,
      listen: () => waker.listen(),
      listening: () => waker.listening,
      waitThenReserve: (call) => waker.waitThenReserve(call),
      canWaitThenReserve: () => waker.canReserveBehindWait,
      interruptWait: (drop) => waker.interrupt(redis, drop),
      processor: this.processor,
      executor: this.executor,
      logger: log,
      runHooks,
      procline,
      onIdle: () => this.onIdle(),
      // Logged and retried by the manager: an 'error' event nobody listens to would throw and end the retries.
      onError: (error) => {
        if (this.listenerCount('error') > 0) this.emit('error', error);
      },
    });
    this.launcher = new Launcher({
      id: this.id,
      config: this.config,
      redis,
      keys: this.keys,
      jobs: registry,
      registration: new Registration(redis, this.keys, {
        workerId: this.id,
        host: this.config.hostname,
        pid: process.pid,
        slots: this.slotIds,
        identity: hostIdentity(),
      }),
      executor: this.executor,
      manager: this.manager,
      processor: this.processor,
      wake: waker,
      cancels,
      logger: log,
      events: this,
      runHooks,
      procline,
      stats: () => this.stats(),
      slotCounters: fetcher.slotCounters,
    });
    this.observability = new WorkerObservability(
      {
        events: this,
        slots: this.slotIds.length,
        state: () => this.launcher.state,
        redisReady: () => redis.status === 'ready',
        busySlots: () => this.processor.busy,
        paused: () => this.manager.paused,
        executorStats: () => this.executor.stats?.(),
      },
      { config: this.config, logger: log, errorReporter, metricsRegistry },
    );
    this.finished = this.launcher.finished.then(() => {
      slots.release();
      return this.observability.stop();
    });
  }

  /**
   * Registers and starts working; resolves once the first reservation has been attempted. With `metricsPort` or
   * `healthPort` it listens first, and rejects if it cannot.
   */
  start(): Promise<void> {
    if (this.launcher.state !== 'new' || !this.observability.needsStart) return this.launcher.start();
    return this.observability.start().then(
      () => this.launcher.start(),
      async (error: unknown) => {
        await this.launcher.stop('term');
        throw error;
      },
    );
  }

  /** QUIT (`graceful`) or TERM/INT (`term`); see Launcher.stop. */
  stop(mode: StopMode = 'graceful'): Promise<void> {
    return this.launcher.stop(mode);
  }

  /** USR2: stop taking jobs; running ones continue. */
  pause(): Promise<void> {
    return this.manager.pause();
  }

  /** CONT: take jobs again. */
  resume(): Promise<void> {
    return this.manager.resume();
  }

  /**
   * USR1, or the application's own reason: fire the running jobs' AbortSignals. After USR1 a job that then throws is
   * given back to its queue (an operator stopped it; Ruby fails it); with another reason it is recorded as failed. In
   * a supervised worker USR1 kills the busy children (Ruby's default) and their jobs are given back; any other reason
   * fires the job's AbortSignal in its child, with an Error of the same name and message.
   */
  abortRunning(reason: Error = new TermException('SIGUSR1')): void {
    const signal = reason instanceof TermException ? reason.signal : undefined;
    this.processor.abort(
      reason,
      signal === 'SIGTERM' ? 'shutdown' : signal === 'SIGUSR1' ? 'operator' : 'application',
    );
  }

  /** The worker's part on each shard its queues touch: one, shard 0, for a namespace that is not sharded. */
  get shards(): readonly WorkerShard[] {
    const { namespace, queues } = this.config;
    return [{ shard: 0, namespace, queues, id: this.id, slotIds: this.slotIds }];
  }

  /** A sharded worker passes as a Worker (it is one Worker per shard, composed). */
  static override [Symbol.hasInstance](value: unknown): boolean {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class asked about, a subclass of Worker included
    return value instanceof ShardedWorker || Function.prototype[Symbol.hasInstance].call(this, value);
  }

  get paused(): boolean {
    return this.manager.paused;
  }

  get busySlots(): number {
    return this.processor.busy;
  }

  /** What the stats hash (`<ns>:ts:worker-stats:<id>`) holds: counters since start, memory, children, restarts. */
  stats(): WorkerStats {
    const where = this.executor.stats?.() ?? {
      children: [],
      restarts: 0,
      restartReasons: {},
      recentRestarts: [],
    };
    const supervised = this.executor.slots !== undefined;
    return {
      id: this.id,
      pid: process.pid,
      isolation: supervised ? 'process' : 'none',
      slots: this.slotIds.length,
      count: supervised ? this.config.count : 0,
      concurrency: this.config.concurrency,
      spare: supervised ? this.config.spare : 0,
      version: VERSION,
      startedAt: this.startedAt,
      updatedAt: Date.now(),
      ...this.processor.tally,
      rssBytes: memoryUsage.rss(),
      ...where,
    };
  }

  private onIdle(): void {
    this.emit('idle');
    if (this.config.intervalMs === 0 && this.launcher.state === 'running') void this.stop('graceful');
  }
}
