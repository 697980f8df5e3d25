// First link of the worker's chain (launcher → manager → processor): the worker's life in Redis. It starts the
// executor, registers the slots, beats, reaps dead peers, registers again after a reconnect, and on a stop lets the
// manager and processor wind down (QUIT: let jobs finish; TERM: abort them, then give back what is left) before it
// unregisters and closes.
import type { EventEmitter } from 'node:events';
import { writeFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import type { ResolvedConfig } from '../config/resolve.js';
import { TermException } from '../errors/index.js';
import type { Registration } from '../fleet/registration.js';
import type { SlotCounters } from '../fleet/slot-counters.js';
import { type WorkerStats, writeWorkerStats } from '../fleet/worker-stats.js';
import type { JobRegistry } from '../jobs/registry.js';
import type { Logger } from '../logging/logger.js';
import type { Keys } from '../protocol/keys.js';
import { retryForever } from '../redis/retry.js';
import type { Executor } from './executor.js';
import type { WorkerHookName } from './hooks.js';
import type { Manager } from './manager.js';
import type { Processor } from './processor.js';
import { Reaper } from './reaper.js';
import type { WakeListener } from './wake.js';
import type { WorkerEvents } from './worker-events.js';

export type StopMode = 'graceful' | 'term';

/** What a TERM shutdown may take beyond its pre-shutdown and term timeouts to write its last words to Redis. */
const TERM_REDIS_GRACE_MS = 2000;

export type LifeState = 'new' | 'starting' | 'running' | 'stopping' | 'stopped';

export interface LauncherParts {
  id: string;
  config: ResolvedConfig;
  redis: Redis;
  keys: Keys;
  jobs: JobRegistry;
  registration: Registration;
  executor: Executor;
  manager: Manager;
  processor: Processor;
  wake: WakeListener;
  logger: Logger;
  events: EventEmitter<WorkerEvents>;
  runHooks: (name: WorkerHookName) => Promise<void>;
  procline: (text: string) => void;
  stats: () => WorkerStats;
  /** Ruby's per-worker counters, written with each liveness beat. */
  slotCounters: SlotCounters;
}

export class Launcher {
  state: LifeState = 'new';
  readonly finished: Promise<void>;
  private resolveFinished!: () => void;
  /** Start-up in progress: a stop waits for it, so that nothing registers after the worker has unregistered. */
  private startup: Promise<void> | undefined;
  /** The heartbeat being written, awaited before the registry entries are cleared. */
  private beating: Promise<void> = Promise.resolve();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly reaper: Reaper;
  /** A TERM shutdown gave up waiting for Redis (see `abandon`). */
  private abandoned = false;

  constructor(private readonly p: LauncherParts) {
    this.finished = new Promise((resolve) => {
      this.resolveFinished = resolve;
    });
    const { redis, keys, config, logger, jobs, registration } = p;
    this.reaper = new Reaper({ redis, keys, config, logger, jobs }, registration.process);
    this.watchConnection();
  }

  start(): Promise<void> {
    if (this.state !== 'new') throw new Error('A worker can only be started once');
    this.state = 'starting';
    // A start-up that a TERM shutdown abandoned (Redis never answered) ends quietly: the worker has stopped.
    this.startup = this.startUp().catch((error: unknown) => {
      if (!this.abandoned) throw error;
    });
    return this.startup;
  }

  /**
   * QUIT (`graceful`): take no more jobs, let running ones finish. TERM/INT (`term`): wait `preShutdownTimeoutMs`,
   * abort running jobs' signals, wait `termTimeoutMs`, then give back (or fail, per `onTermTimeout`) what is still
   * running. Either way the worker then unregisters and `finished` resolves.
   */
  async stop(mode: StopMode): Promise<void> {
    const { config, manager } = this.p;
    if (this.state === 'new') {
      this.state = 'stopped';
      await this.close();
      return;
    }
    if (this.state !== 'starting' && this.state !== 'running') return this.finished;
    this.state = 'stopping';
    manager.accepting = false;
    const windingDown = this.windDown(mode);
    if (mode === 'graceful') {
      await windingDown;
      return this.finished;
    }
    // TERM ends the worker in time whatever Redis does: what could not be written by then is left to the reaper.
    const limitMs = config.preShutdownTimeoutMs + config.termTimeoutMs + TERM_REDIS_GRACE_MS;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), limitMs);
    });
    const tooLate = await Promise.race([windingDown.then(() => false), late]);
    clearTimeout(timer);
    if (tooLate) await this.abandon(limitMs);
    return this.finished;
  }

  private async windDown(mode: StopMode): Promise<void> {
    const { config, manager, processor, executor, logger } = this.p;
    await this.startup?.catch(() => {});
    logger.info(`Shutting down (${mode})`);
    manager.stopIdleTimer();
    await this.p.runHooks('shutdown');
    if (mode === 'term') {
      processor.deferGiveBacks();
      await processor.waitIdle(config.preShutdownTimeoutMs);
      processor.abort(new TermException('SIGTERM'), 'shutdown');
      await processor.waitIdle(config.termTimeoutMs);
      await executor.halt?.();
      await processor.interruptUnfinished();
    }
    await processor.waitIdle(Number.POSITIVE_INFINITY);
    await manager.flush();
    await this.shutdown();
  }

  /** Redis did not let a TERM shutdown finish in time: stop everything here and leave the rest to the reaper. */
  private async abandon(limitMs: number): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    this.abandoned = true;
    const { processor, manager, executor, logger, redis, wake, events } = this.p;
    logger.warn(
      `Redis did not let the shutdown finish within ${limitMs} ms; leaving ${processor.unsettled} job(s) in flight ` +
        'for the reaper of another worker to give back',
    );
    this.stopTimers();
    manager.stopIdleTimer();
    await Promise.race([executor.close(), new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
    wake.disconnect();
    redis.disconnect();
    events.emit('stopped');
    this.resolveFinished();
  }

  private async startUp(): Promise<void> {
    const { config, registration, manager, logger } = this.p;
    this.p.procline('Starting');
    if (config.pidFile) writeFileSync(config.pidFile, String(process.pid));
    await registration.clearHeartbeats();
    await registration.heartbeat();
    await registration.beat();
    // Beating from here on, as Ruby starts its heartbeat before pruning: starting the children can take longer than
    // the liveness timeout, and a peer's reaper must not take this worker for dead meanwhile.
    this.every(config.heartbeatIntervalMs, () => {
      this.beating = this.heartbeat();
      return this.beating;
    });
    this.every(config.livenessIntervalMs, () => this.beat());
    await this.reap();
    await this.p.runHooks('before_first_fork');
    await this.startExecutor();
    await registration.register();
    await this.p.wake.start();
    this.p.redis.on('ready', () => void this.registerAgain());
    this.every(config.reaperIntervalMs, () => this.reap(false));
    logger.info(`Starting worker ${this.p.id}`);
    if (this.state !== 'starting') return;
    this.state = 'running';
    manager.accepting = true;
    await this.writeStats();
    await manager.pump();
  }

  /** Starts the executor (a supervised one forks its children); on failure nothing stays registered. */
  private async startExecutor(): Promise<void> {
    try {
      await this.p.executor.start?.();
    } catch (error) {
      this.state = 'stopped';
      this.stopTimers();
      await this.beating.catch(() => {});
      await this.p.registration.clearHeartbeats().catch(() => {});
      await this.close();
      this.resolveFinished();
      throw error;
    }
  }

  /**
   * Ruby's heartbeat, the stats hash once started (a worker that fails to start leaves none behind), and a turn at
   * Ruby's pruning rule (one worker of the fleet gets it each period).
   */
  private async heartbeat(): Promise<void> {
    await this.p.registration.heartbeat();
    if (this.state === 'running' || this.state === 'stopping') await this.writeStats();
    if (this.state === 'running') await this.rubyPrune();
  }

  /** The liveness beat. A peer may have taken this worker for dead while it stalled: it is alive, so it registers again. */
  private async beat(): Promise<void> {
    await this.p.slotCounters.write(this.p.redis, this.p.keys);
    const registered = await this.p.registration.beat();
    if (registered || this.state !== 'running') return;
    this.p.logger.warn('This worker was unregistered as dead while it was alive; registering again');
    await this.p.registration.register();
  }

  private async writeStats(): Promise<void> {
    try {
      await writeWorkerStats(this.p.redis, this.p.keys, this.p.stats(), this.p.config.deadWorkerAfterMs);
    } catch (error) {
      this.p.logger.debug(`Writing worker stats failed: ${(error as Error).message}`);
    }
  }

  /** A reaper pass (fleet/liveness.ts rules); at start-up also Ruby's rule, as Ruby prunes when it starts. */
  private async reap(startingUp = true): Promise<void> {
    try {
      const report = await this.reaper.pass();
      if (report.givenBack > 0) this.p.manager.schedulePump();
    } catch (error) {
      this.p.logger.warn(`Reaping dead workers failed: ${(error as Error).message}`);
    }
    if (startingUp) await this.rubyPrune();
  }

  private async rubyPrune(): Promise<void> {
    try {
      const report = await this.reaper.rubyPass();
      if (report.givenBack > 0) this.p.manager.schedulePump();
    } catch (error) {
      this.p.logger.warn(`Pruning dead workers by Ruby's rule failed: ${(error as Error).message}`);
    }
  }

  /** After a reconnect (e.g. Redis restarted without persistence) put our registry entries back. */
  private async registerAgain(): Promise<void> {
    if (this.state !== 'running') return;
    try {
      await this.p.registration.heartbeat();
      // Checked again: a shutdown that began meanwhile has unregistered, and must stay unregistered.
      if (this.state !== 'running') return;
      await this.p.registration.register();
      this.p.manager.schedulePump();
    } catch (error) {
      this.p.logger.debug(`Registering again failed: ${(error as Error).message}`);
    }
  }

  /** Logs an outage once when it starts and once when it ends; ioredis reconnects with backoff meanwhile. */
  private watchConnection(): void {
    const { redis, logger } = this.p;
    let down = false;
    redis.on('error', (error) => logger.debug(`Redis: ${error.message}`));
    redis.on('reconnecting', () => {
      if (down || this.state === 'stopped') return;
      down = true;
      logger.warn('Lost the connection to Redis; reconnecting with backoff (running jobs continue)');
    });
    redis.on('ready', () => {
      if (!down) return;
      down = false;
      logger.warn('Reconnected to Redis');
    });
  }

  private every(ms: number, task: () => Promise<unknown>): void {
    const timer = setInterval(() => {
      task().catch((error: Error) => this.p.logger.warn(error.message));
    }, ms);
    timer.unref();
    this.timers.push(timer);
  }

  private stopTimers(): void {
    for (const timer of this.timers.splice(0)) clearInterval(timer);
  }

  private async shutdown(): Promise<void> {
    if (this.state === 'stopped') return;
    this.stopTimers();
    this.p.manager.stopIdleTimer();
    // A heartbeat already on its way would otherwise land after the unregistering.
    await this.beating.catch(() => {});
    await retryForever(() => this.p.registration.unregister(), this.p.logger, 10);
    await this.p.runHooks('worker_exit');
    this.state = 'stopped';
    await this.close();
    this.p.logger.info(`Worker ${this.p.id} stopped`);
    this.p.events.emit('stopped');
    this.resolveFinished();
  }

  private async close(): Promise<void> {
    await this.p.wake.stop();
    await this.p.executor.close();
    try {
      await this.p.redis.quit();
    } catch {
      this.p.redis.disconnect();
    }
  }
}
