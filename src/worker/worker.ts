import { EventEmitter, setMaxListeners } from 'node:events';
import { writeFileSync } from 'node:fs';
import { memoryUsage } from 'node:process';
import type { Redis } from 'ioredis';
import type { ResqueOptions } from '../config/options.js';
import { type ResolvedConfig, resolveConfig } from '../config/resolve.js';
import { TermException } from '../errors/index.js';
import { queueFailureWrite } from '../failure/save.js';
import { type AnyJob, JobRegistry } from '../jobs/registry.js';
import { Keys } from '../protocol/keys.js';
import { epochSeconds } from '../protocol/time.js';
import { formatWorkerId } from '../protocol/worker-id.js';
import { openRedis } from '../redis/connection.js';
import { failInflight, returnToQueue } from '../registry/give-back.js';
import { reapDeadWorkers } from '../registry/reaper.js';
import { Registration } from '../registry/registration.js';
import { type WorkerStats, writeWorkerStats } from '../registry/worker-stats.js';
import { VERSION } from '../version.js';
import type { ExecutionResult, Executor, ReservedJob } from './executor.js';
import { chooseExecutor } from './executors.js';
import { runWorkerHooks, type WorkerHookName, type WorkerHooks } from './hooks.js';
import { createLogger, type Logger } from './logger.js';
import { setProcline } from './proctitle.js';
import { QueuePatterns } from './queue-patterns.js';
import { type Ack, Reserver } from './reserver.js';
import { WakeListener } from './wake.js';

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
  logger?: Logger;
  /** Set process titles (`resque-<version>: …`). Default true. */
  setProcessTitle?: boolean;
}

export type StopMode = 'graceful' | 'term';

interface Running {
  readonly job: ReservedJob;
  /**
   * Shared by the jobs reserved in one call: the worker only ever aborts every running job at once (USR1, TERM),
   * and one controller per batch instead of per job is a measurable share of a no-op job's cost.
   */
  readonly controller: AbortController;
  readonly startedAt: number;
  /** Aborted by a shutdown: an error it ends with means "interrupted", not "broken". */
  interrupted: boolean;
  /**
   * Its end is being recorded (complete), or it was given back at the end of the TERM grace period: whatever
   * else happens to it later is ignored.
   */
  abandoned: boolean;
}

export interface WorkerEvents {
  'job:start': [job: ReservedJob];
  'job:finish': [job: ReservedJob, result: ExecutionResult];
  idle: [];
  stopped: [];
  error: [error: Error];
}

/**
 * A Resque worker: registers its slots, heartbeats, reaps dead peers, and keeps its slots busy with jobs from its
 * queues in priority order. Reservation and acknowledgement go through one Lua call (see reserve.lua); an idle
 * worker sleeps until an enqueue announces its queue, or the poll interval passes (for foreign clients).
 */
export class Worker extends EventEmitter<WorkerEvents> {
  readonly config: ResolvedConfig;
  readonly keys: Keys;
  /** The worker's id (`host:pid:queues`), also its first slot's id. */
  readonly id: string;
  readonly slotIds: readonly string[];
  readonly finished: Promise<void>;

  private readonly redis: Redis;
  /** What the registry and failure helpers need: connection, keys, config. */
  private readonly store: { redis: Redis; keys: Keys; config: ResolvedConfig };
  private readonly jobs: JobRegistry;
  private readonly hooks: WorkerHooks;
  private readonly executor: Executor;
  private readonly logger: Logger;
  private readonly patterns: QueuePatterns;
  private readonly registration: Registration;
  private readonly reserver: Reserver;
  private readonly wake: WakeListener;
  private readonly running = new Map<string, Running>();
  private readonly acks: Ack[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly setTitle: boolean;
  private resolveFinished!: () => void;
  /** Start-up in progress: a stop waits for it, so that nothing registers after the worker has unregistered. */
  private startup: Promise<void> | undefined;
  private state: 'new' | 'running' | 'stopping' | 'stopped' = 'new';
  /**
   * Start-up is over (the executor has started, the slots are registered): only then does the worker reserve. A
   * pump asked for earlier (CONT, a reaper that returned jobs, a wake-up) takes nothing.
   */
  private startedUp = false;
  /** The heartbeat being written, awaited before the registry entries are cleared. */
  private beating: Promise<void> = Promise.resolve();
  private pumping = false;
  private pumpAgain = false;
  private pumpScheduled = false;
  private idleTimer: NodeJS.Timeout | undefined;
  private localPause = false;
  /** USR2 seen and not yet cancelled by CONT (the pause itself starts once the before_pause hooks have run). */
  private pauseRequested = false;
  private globalPause = false;
  /** What the executor was last told about `paused`. */
  private pausedShown = false;
  private wasWorking = false;
  private queueCache: { queues: string[]; at: number } | undefined;
  private retryDelayMs = 0;
  private readonly startedAt = Date.now();
  private readonly tally = { processed: 0, failed: 0, returned: 0 };

  constructor(options: WorkerOptions) {
    super();
    const { jobs, hooks, executor, logger, setProcessTitle, require: modules, ...rest } = options;
    this.config = resolveConfig(rest);
    this.keys = new Keys(this.config.namespace);
    this.jobs = jobs instanceof JobRegistry ? jobs : new JobRegistry(jobs);
    this.hooks = hooks ?? {};
    this.logger = logger ?? createLogger(this.config.logLevel);
    this.patterns = new QueuePatterns(this.config.queues);
    this.setTitle = setProcessTitle ?? true;
    this.id = formatWorkerId(this.config.hostname, process.pid, this.config.queues);
    const [host, pid, queues] = [this.config.hostname, process.pid, this.id.split(':').slice(2).join(':')];
    this.executor =
      executor ??
      chooseExecutor({
        config: this.config,
        jobs: this.jobs,
        logger: this.logger,
        require: modules,
        setProcessTitle: this.setTitle,
      });
    this.slotIds = Array.from({ length: this.executor.slots ?? this.config.concurrency }, (_, i) =>
      i === 0 ? this.id : `${host}:${pid}-${i}:${queues}`,
    );
    this.redis = openRedis(this.config, 'worker');
    this.watchConnection();
    this.store = { redis: this.redis, keys: this.keys, config: this.config };
    this.registration = new Registration(this.redis, this.keys, this.slotIds);
    this.reserver = new Reserver(this.redis, this.keys);
    this.wake = new WakeListener(this.config, this.keys, this.logger, (queue) => this.onWake(queue));
    this.finished = new Promise((resolve) => {
      this.resolveFinished = resolve;
    });
  }

  /** Registers and starts working; resolves once the first reservation has been attempted. */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error('A worker can only be started once');
    this.state = 'running';
    this.startup = this.startUp();
    return this.startup;
  }

  private async startUp(): Promise<void> {
    this.procline('Starting');
    if (this.config.pidFile) writeFileSync(this.config.pidFile, String(process.pid));
    await this.registration.clearHeartbeats();
    await this.registration.heartbeat();
    // Beating from here on, as Ruby starts its heartbeat before pruning: starting the children can take longer than
    // deadWorkerAfterMs, and a peer's reaper must not take this worker for dead meanwhile.
    this.every(this.config.heartbeatIntervalMs, () => {
      this.beating = this.beat();
      return this.beating;
    });
    await this.reap();
    await this.runHooks('before_first_fork');
    await this.startExecutor();
    await this.registration.register();
    await this.wake.start();
    this.redis.on('ready', () => void this.reregister());
    this.every(this.config.reaperIntervalMs, () => this.reap());
    this.logger.info(`Starting worker ${this.id}`);
    this.startedUp = true;
    await this.writeStats();
    await this.pump();
  }

  /**
   * QUIT (`graceful`): take no more jobs, let running ones finish. TERM/INT (`term`): wait
   * `preShutdownTimeoutMs`, abort running jobs' signals, wait `termTimeoutMs`, then give back (or fail, per
   * `onTermTimeout`) what is still running. Either way the worker then unregisters and `finished` resolves.
   */
  async stop(mode: StopMode = 'graceful'): Promise<void> {
    if (this.state === 'new') {
      this.state = 'stopped';
      await this.close();
      return;
    }
    if (this.state !== 'running') return this.finished;
    this.state = 'stopping';
    await this.startup?.catch(() => {});
    this.logger.info(`Shutting down (${mode})`);
    clearTimeout(this.idleTimer);
    await this.runHooks('shutdown');
    if (mode === 'term') {
      await this.settle(this.config.preShutdownTimeoutMs);
      this.abortRunning(new TermException('SIGTERM'));
      await this.settle(this.config.termTimeoutMs);
      await this.executor.halt?.();
      await this.giveBackRunning();
      await this.settle(Number.POSITIVE_INFINITY);
    } else {
      await this.settle(Number.POSITIVE_INFINITY);
    }
    await this.pump();
    await this.shutdown();
    return this.finished;
  }

  /** USR2: stop taking jobs; running ones continue. */
  async pause(): Promise<void> {
    if (this.pauseRequested) return;
    this.pauseRequested = true;
    await this.runHooks('before_pause');
    // A CONT that arrived while the hooks ran cancels this pause.
    if (!this.pauseRequested) return;
    this.localPause = true;
    this.procline('Paused');
    this.showPaused();
  }

  /** CONT: take jobs again. */
  async resume(): Promise<void> {
    if (!this.pauseRequested) return;
    this.pauseRequested = false;
    if (!this.localPause) return;
    this.localPause = false;
    this.showPaused();
    await this.runHooks('after_pause');
    this.schedulePump();
  }

  /**
   * USR1, or the application's own reason: fire the running jobs' AbortSignals; a job that then throws is recorded
   * as failed. In a supervised worker USR1 kills the busy children (Ruby's default), and any other reason fires the
   * job's AbortSignal in its child, with an Error of the same name and message.
   */
  abortRunning(reason: Error = new TermException('SIGUSR1')): void {
    for (const run of this.running.values()) {
      run.interrupted = reason.message.includes('SIGTERM');
      run.controller.abort(reason);
    }
  }

  get paused(): boolean {
    return this.localPause || this.globalPause;
  }

  get busySlots(): number {
    return this.running.size;
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
      ...this.tally,
      rssBytes: memoryUsage.rss(),
      ...where,
    };
  }

  private async pump(): Promise<void> {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        await this.cycle();
      } while (this.pumpAgain && this.state !== 'stopped');
      this.retryDelayMs = 0;
    } catch (error) {
      this.retryDelayMs = Math.min(Math.max(this.retryDelayMs * 2, 100), 5000);
      this.logger.warn(`Reserving failed, retrying in ${this.retryDelayMs} ms: ${(error as Error).message}`);
      this.emit('error', error as Error);
      this.idleIn(this.retryDelayMs);
    } finally {
      this.pumping = false;
    }
  }

  private async cycle(): Promise<void> {
    const acks = this.acks.splice(0);
    const taking = this.state === 'running' && this.startedUp && !this.localPause;
    const free = taking ? this.slotIds.filter((slot) => !this.running.has(slot)) : [];
    if (acks.length === 0 && free.length === 0) return;
    let reply: Awaited<ReturnType<Reserver['cycle']>>;
    try {
      reply = await this.reserver.cycle(acks, free, free.length > 0 ? await this.queues() : []);
    } catch (error) {
      this.acks.unshift(...acks);
      throw error;
    }
    this.globalPause = reply.paused;
    this.showPaused();
    const controller = new AbortController();
    setMaxListeners(0, controller.signal);
    for (const job of reply.jobs) this.begin(job, controller);
    if (free.length > reply.jobs.length) await this.idle();
  }

  private begin(job: ReservedJob, controller: AbortController): void {
    const run: Running = {
      job,
      controller,
      startedAt: Date.now(),
      interrupted: false,
      abandoned: false,
    };
    this.running.set(job.slotId, run);
    this.wasWorking = true;
    // In this process the title must be up before the job's synchronous part runs; a supervisor's names the child.
    const supervised = this.setTitle && this.executor.busyTitle !== undefined;
    if (this.setTitle && !supervised) this.procline(`Processing ${job.queue} since ${epochSeconds()}`);
    this.emit('job:start', job);
    this.executor
      .run(job, job.slotId, run.controller.signal)
      .then((result) => this.complete(run, result))
      .catch((error: unknown) =>
        this.logger.error(`Finishing job on ${job.slotId} failed: ${String(error)}`),
      );
    const title = supervised ? this.executor.busyTitle?.() : undefined;
    if (title) this.procline(title);
  }

  private async complete(run: Running, result: ExecutionResult): Promise<void> {
    if (run.abandoned) return;
    run.abandoned = true;
    const { job } = run;
    if (result.kind === 'returned') {
      this.logger.info(`${result.className} on ${job.queue} goes back to its queue: ${result.reason}`);
      await this.giveBack(run, result.countReturn);
    } else if (result.kind === 'failed' && run.interrupted && this.config.onTermTimeout === 'requeue') {
      await this.giveBack(run);
    } else {
      this.tally.processed++;
      if (result.kind === 'failed') this.tally.failed++;
      if (result.kind === 'failed') {
        this.logger.info(
          `${result.className} on ${job.queue} failed: ${result.failure.exception}: ${result.failure.error}`,
        );
        const failure = { ...result.failure, worker: job.slotId, queue: job.queue };
        await retryForever(
          () => queueFailureWrite(this.redis.pipeline(), this.store, failure).exec(),
          this.logger,
        );
      }
      this.acks.push({ slotId: job.slotId, token: job.token, failed: result.kind === 'failed' });
      this.running.delete(job.slotId);
    }
    this.emit('job:finish', job, result);
    this.schedulePump();
  }

  /**
   * Returns a running job to the head of its queue and frees its slot. Without `countReturn` this is the end of a
   * TERM grace period, and `onTermTimeout: 'fail'` fails the job instead; with it (a supervised child died while
   * holding it), the return is counted as the reaper counts it.
   */
  private async giveBack(run: Running, countReturn?: boolean): Promise<void> {
    const { job } = run;
    run.abandoned = true;
    this.running.delete(job.slotId);
    this.tally.returned++;
    const inflight = { token: job.token, queue: job.queue, raw: job.raw };
    if (countReturn !== undefined) {
      await retryForever(() => returnToQueue(this.store, job.slotId, inflight, countReturn), this.logger);
    } else if (this.config.onTermTimeout === 'fail') {
      await failInflight(this.store, job.slotId, inflight, {
        rawPayload: job.raw.startsWith('{') ? job.raw : undefined,
        payload: null,
        exception: 'Resque::TermException',
        error: `Job still running ${this.config.termTimeoutMs} ms after the worker was told to stop`,
        backtrace: [],
        worker: job.slotId,
        queue: job.queue,
      });
    } else {
      await returnToQueue(this.store, job.slotId, inflight, false);
    }
  }

  private async giveBackRunning(): Promise<void> {
    const left = [...this.running.values()].filter((run) => !run.abandoned);
    for (const run of left) await this.giveBack(run);
    if (left.length > 0)
      this.logger.warn(`Gave back ${left.length} unfinished job(s) (${this.config.onTermTimeout})`);
  }

  /** Waits until no job is running or `timeoutMs` passes. */
  private async settle(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.running.size > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(25, Math.max(1, deadline - Date.now()))));
    }
  }

  private async idle(): Promise<void> {
    if (this.running.size === 0 && this.wasWorking) {
      this.wasWorking = false;
      await this.runHooks('queue_empty');
    }
    if (this.running.size === 0) {
      this.procline(
        this.paused
          ? 'Paused'
          : `Waiting for ${(this.queueCache?.queues ?? this.patterns.patterns).join(',')}`,
      );
      this.emit('idle');
      if (this.config.intervalMs === 0 && this.state === 'running') {
        void this.stop('graceful');
        return;
      }
    }
    this.idleIn(this.config.intervalMs);
  }

  private idleIn(ms: number): void {
    clearTimeout(this.idleTimer);
    if (this.state !== 'running' && this.acks.length === 0) return;
    this.idleTimer = setTimeout(() => {
      this.queueCache = undefined;
      void this.pump();
    }, ms);
  }

  /** Tells the executor when `paused` changes (a supervisor's idle children say `Paused`). */
  private showPaused(): void {
    if (this.paused === this.pausedShown) return;
    this.pausedShown = this.paused;
    this.executor.setPaused?.(this.pausedShown);
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      void this.pump();
    });
  }

  private onWake(queue: string): void {
    if (!this.patterns.covers(queue)) return;
    if (this.queueCache && !this.queueCache.queues.includes(queue)) this.queueCache = undefined;
    if (this.running.size < this.slotIds.length) this.schedulePump();
  }

  /** The concrete queue list; a dynamic one is re-read from the `queues` set at most once per poll interval. */
  private async queues(): Promise<string[]> {
    if (!this.patterns.dynamic) return this.patterns.expand([]);
    const fresh = this.queueCache && Date.now() - this.queueCache.at < Math.max(this.config.intervalMs, 1000);
    if (!fresh)
      this.queueCache = {
        queues: this.patterns.expand(await this.redis.smembers(this.keys.queues)),
        at: Date.now(),
      };
    return this.queueCache!.queues;
  }

  /** Starts the executor (a supervised one forks its children); on failure nothing stays registered. */
  private async startExecutor(): Promise<void> {
    try {
      await this.executor.start?.();
    } catch (error) {
      this.state = 'stopped';
      this.stopTimers();
      await this.beating.catch(() => {});
      await this.registration.clearHeartbeats().catch(() => {});
      await this.close();
      this.resolveFinished();
      throw error;
    }
  }

  /** The heartbeat, and once started the stats hash (a worker that fails to start leaves none behind). */
  private async beat(): Promise<void> {
    await this.registration.heartbeat();
    // A peer's reaper may have taken this worker for dead (e.g. Redis was unreachable for longer than
    // deadWorkerAfterMs): it is alive, so it registers again.
    if (this.startedUp && this.state === 'running' && !(await this.registration.isRegistered())) {
      this.logger.warn('This worker was unregistered as dead while it was alive; registering again');
      await this.registration.register();
    }
    if (this.startedUp) await this.writeStats();
  }

  private async writeStats(): Promise<void> {
    try {
      await writeWorkerStats(this.redis, this.keys, this.stats(), this.config.deadWorkerAfterMs);
    } catch (error) {
      this.logger.debug(`Writing worker stats failed: ${(error as Error).message}`);
    }
  }

  private async reap(): Promise<void> {
    try {
      const report = await reapDeadWorkers({ ...this.store, logger: this.logger, jobs: this.jobs }, this.id);
      if (report.returned > 0) this.schedulePump();
    } catch (error) {
      this.logger.warn(`Reaping dead workers failed: ${(error as Error).message}`);
    }
  }

  /** After a reconnect (e.g. Redis restarted without persistence) put our registry entries back. */
  private async reregister(): Promise<void> {
    if (this.state !== 'running') return;
    try {
      await this.registration.heartbeat();
      // Checked again: a shutdown that began meanwhile has unregistered, and must stay unregistered.
      if (this.state !== 'running') return;
      await this.registration.register();
      this.schedulePump();
    } catch (error) {
      this.logger.debug(`Re-registering failed: ${(error as Error).message}`);
    }
  }

  /** Logs an outage once when it starts and once when it ends; ioredis reconnects with backoff meanwhile. */
  private watchConnection(): void {
    let down = false;
    this.redis.on('error', (error) => this.logger.debug(`Redis: ${error.message}`));
    this.redis.on('reconnecting', () => {
      if (down || this.state === 'stopped') return;
      down = true;
      this.logger.warn('Lost the connection to Redis; reconnecting with backoff (running jobs continue)');
    });
    this.redis.on('ready', () => {
      if (!down) return;
      down = false;
      this.logger.warn('Reconnected to Redis');
    });
  }

  private every(ms: number, task: () => Promise<unknown>): void {
    const timer = setInterval(() => {
      task().catch((error: Error) => this.logger.warn(error.message));
    }, ms);
    timer.unref();
    this.timers.push(timer);
  }

  private stopTimers(): void {
    for (const timer of this.timers.splice(0)) clearInterval(timer);
  }

  private async shutdown(): Promise<void> {
    this.stopTimers();
    clearTimeout(this.idleTimer);
    // A heartbeat already on its way would otherwise land after the unregistering.
    await this.beating.catch(() => {});
    await retryForever(() => this.registration.unregister(), this.logger, 10);
    await this.runHooks('worker_exit');
    this.state = 'stopped';
    await this.close();
    this.logger.info(`Worker ${this.id} stopped`);
    this.emit('stopped');
    this.resolveFinished();
  }

  private async close(): Promise<void> {
    await this.wake.stop();
    await this.executor.close();
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }

  private runHooks(name: WorkerHookName): Promise<void> {
    return runWorkerHooks(this.hooks, name, this, this.logger);
  }

  private procline(text: string): void {
    if (this.setTitle) setProcline(text, this.config.proclinePrefix);
  }
}

/** Redis bookkeeping that must not be dropped: retried with backoff through outages. */
async function retryForever(
  operation: () => Promise<unknown>,
  logger: Logger,
  attempts = Number.POSITIVE_INFINITY,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await operation();
      return;
    } catch (error) {
      if (attempt >= attempts) throw error;
      logger.warn(`Redis write failed (attempt ${attempt}), retrying: ${(error as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, Math.min(100 * 2 ** attempt, 5000)));
    }
  }
}
