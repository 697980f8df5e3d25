// First link of the worker's chain (launcher → manager → processor): the worker's life in Redis. It starts the
// executor and registers the slots (its upkeep, upkeep.ts, beats and reaps meanwhile), and on a stop lets the
// manager and processor wind down (QUIT: let jobs finish; TERM: abort them, then give back what is left) before it
// unregisters and closes.
import type { EventEmitter } from 'node:events';
import { writeFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import { checkRedisAtStartUp } from '../api/redis-safety.js';
import type { CancelListener } from '../cancel/listener.js';
import type { ResolvedConfig } from '../config/resolve.js';
import { TermException } from '../errors/index.js';
import type { Registration } from '../fleet/registration.js';
import type { SlotCounters } from '../fleet/slot-counters.js';
import type { WorkerStats } from '../fleet/worker-stats.js';
import type { JobRegistry } from '../jobs/registry.js';
import { publishClassLimits } from '../limits/definitions.js';
import type { Logger } from '../logging/logger.js';
import type { Keys } from '../protocol/keys.js';
import { checkClusterMode, openRedis } from '../redis/connection.js';
import { retryForever } from '../redis/retry.js';
import { Promoter } from '../scheduler/promoter.js';
import type { Executor } from './executor.js';
import { giveBackHeld } from './fetch/held.js';
import { parseInflight } from './fetch/inflight.js';
import { Reservation } from './fetch/reservation.js';
import type { WorkerHookName } from './hooks.js';
import type { Manager } from './manager.js';
import type { Processor } from './processor.js';
import { type LifeState, Upkeep } from './upkeep.js';
import type { Waker } from './wake.js';
import type { WorkerEvents } from './worker-events.js';

export type StopMode = 'graceful' | 'term';

/** What a TERM shutdown may take beyond its pre-shutdown and term timeouts to write its last words to Redis. */
const TERM_REDIS_GRACE_MS = 2000;

export type { LifeState } from './upkeep.js';

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
  wake: Waker;
  /** Cancel requests for running jobs (cancel/listener.ts). */
  cancels: CancelListener;
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
  private readonly upkeep: Upkeep;
  private readonly promoter: Promoter;
  /** A TERM shutdown gave up waiting for Redis (see `abandon`). */
  private abandoned = false;
  /** Aborted by a stop during start-up: a start-up still waiting for its children is cut short. */
  private readonly startUpCut = new AbortController();

  constructor(private readonly p: LauncherParts) {
    this.finished = new Promise((resolve) => {
      this.resolveFinished = resolve;
    });
    this.upkeep = new Upkeep({ ...p, state: () => this.state });
    const { redis, keys, config, logger, jobs } = p;
    // Retries are promoted whatever `promoteDelayed` says: no Ruby process moves them.
    this.promoter = new Promoter({
      redis,
      keys,
      logger,
      jobs,
      strictPayloads: config.strictPayloads,
      openSubscriber: () => openRedis(config, 'subscriber'),
      delayed: config.promoteDelayed,
      // Workers that leave delayed jobs to others must not hold the lease the others then wait on.
      ...(config.promoteDelayed ? { lease: { id: p.id } } : {}),
    });
  }

  start(): Promise<void> {
    if (this.state !== 'new') throw new Error('A worker can only be started once');
    this.state = 'starting';
    // A start-up that a TERM shutdown abandoned (Redis never answered), or that a stop cut short, ends quietly: the
    // worker has stopped.
    this.startup = this.startUp().catch((error: unknown) => {
      if (!this.abandoned && !this.startUpCut.signal.aborted) throw error;
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
      this.resolveFinished();
      return;
    }
    if (this.state !== 'starting' && this.state !== 'running') return this.finished;
    if (this.state === 'starting') this.startUpCut.abort(new Error(`the worker was told to stop (${mode})`));
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
    // A start-up cut short has already unregistered and closed everything it had opened.
    if (this.state === 'stopped') return;
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
    this.upkeep.stop();
    void this.promoter.stop();
    manager.stopIdleTimer();
    await Promise.race([executor.close(), new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
    wake.disconnect();
    this.p.cancels.stop();
    redis.disconnect();
    events.emit('stopped');
    this.resolveFinished();
  }

  private async startUp(): Promise<void> {
    const { config, registration, manager, logger } = this.p;
    this.p.procline('Starting');
    if (config.pidFile) writeFileSync(config.pidFile, String(process.pid));
    await this.checkCluster();
    // The liveness beat first: every id resque-ts writes into Ruby's heartbeat hash then has one, so a worker killed
    // at any point of its start-up is judged by the liveness rule within seconds, not by Ruby's after minutes.
    await registration.beat();
    await registration.clearHeartbeats();
    await registration.heartbeat();
    await this.checkRedis();
    // Beating from here on, as Ruby starts its heartbeat before pruning: starting the children can take longer than
    // the liveness timeout, and a peer's reaper must not take this worker for dead meanwhile.
    this.upkeep.beginBeating();
    await this.upkeep.reap();
    await this.p.runHooks('before_first_fork');
    await this.startExecutor();
    await registration.register();
    await this.p.wake.start(this.p.redis);
    await this.p.cancels.start();
    await publishClassLimits(this.p, this.p.jobs);
    await this.upkeep.repairQueueIndex();
    this.upkeep.beginReaping();
    this.promoter.start();
    logger.info(`Starting worker ${this.p.id}`);
    if (this.state !== 'starting') return;
    this.state = 'running';
    manager.accepting = true;
    await this.upkeep.writeStats();
    await manager.pump();
  }

  /** A plain connection to a cluster node, or a cluster connection to a plain Redis, stops here, before any write. */
  private async checkCluster(): Promise<void> {
    try {
      await checkClusterMode(this.p.redis, this.p.config);
    } catch (error) {
      this.state = 'stopped';
      await this.close();
      this.resolveFinished();
      throw error;
    }
  }

  /** Names Redis settings that can lose jobs; with `refuseUnsafeRedis` the worker stops here, leaving nothing behind. */
  private async checkRedis(): Promise<void> {
    try {
      await checkRedisAtStartUp(this.p.redis, this.p.logger, this.p.config.refuseUnsafeRedis);
    } catch (error) {
      this.state = 'stopped';
      await this.p.registration.unregister().catch(() => {});
      await this.close();
      this.resolveFinished();
      throw error;
    }
  }

  /** Starts the executor (a supervised one forks its children); on failure nothing stays registered. */
  private async startExecutor(): Promise<void> {
    try {
      await this.p.executor.start?.(this.startUpCut.signal);
    } catch (error) {
      if (this.startUpCut.signal.aborted)
        this.p.logger.info('Stopped during start-up: the children still loading were stopped');
      this.state = 'stopped';
      this.upkeep.stop();
      await this.upkeep.beating.catch(() => {});
      await this.p.registration.unregister().catch(() => {});
      await this.close();
      this.resolveFinished();
      throw error;
    }
  }

  private async shutdown(): Promise<void> {
    if (this.state === 'stopped') return;
    this.upkeep.stop();
    await this.promoter.stop();
    this.p.manager.stopIdleTimer();
    // A heartbeat already on its way would otherwise land after the unregistering.
    await this.upkeep.beating.catch(() => {});
    await retryForever(() => this.giveBackLeftovers(), this.p.logger, 10);
    await retryForever(() => this.p.registration.unregister(), this.p.logger, 10);
    await this.p.runHooks('worker_exit');
    this.state = 'stopped';
    await this.close();
    this.p.logger.info(`Worker ${this.p.id} stopped`);
    this.p.events.emit('stopped');
    this.resolveFinished();
  }

  /**
   * Once unregistered no reaper would look at this worker's in-flight keys again: any job still held there (a
   * reservation this worker never started) goes back to its queue first.
   */
  private async giveBackLeftovers(): Promise<void> {
    const { redis, keys, config, registration, logger } = this.p;
    const values = await redis.mget(registration.slotIds.map((slot) => keys.inflight(slot)));
    for (const [i, value] of values.entries()) {
      const held = parseInflight(value);
      const slotId = registration.slotIds[i]!;
      if (
        !held ||
        !(await giveBackHeld({ redis, keys, config }, new Reservation({ slotId, ...held }), false))
      )
        continue;
      logger.warn(`A ${held.queue} job still held by slot ${slotId} at shutdown was given back to its queue`);
    }
  }

  private async close(): Promise<void> {
    await this.p.wake.stop(this.p.redis);
    this.p.cancels.stop();
    await this.p.executor.close();
    try {
      await this.p.redis.quit();
    } catch {
      this.p.redis.disconnect();
    }
  }
}
