// What a live worker does on its own clock, beside its jobs: Ruby's heartbeat and the stats hash, the liveness beat
// (and Ruby's per-worker counters with it), reaper passes, registering again after a reconnect, and logging outages.
// The launcher starts it during start-up and stops it before unregistering.
import type { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import type { CancelListener } from '../cancel/listener.js';
import { repairQueueIndex } from '../client/queue-index.js';
import type { ResolvedConfig } from '../config/resolve.js';
import type { Registration } from '../fleet/registration.js';
import type { SlotCounters } from '../fleet/slot-counters.js';
import { type WorkerStats, writeWorkerStats } from '../fleet/worker-stats.js';
import type { JobRegistry } from '../jobs/registry.js';
import { sweepLimits } from '../limits/sweep.js';
import type { Logger } from '../logging/logger.js';
import type { Keys } from '../protocol/keys.js';
import { GLOB_LISTENER_REFRESH_MS, pruneGlobListeners } from './glob-listeners.js';
import type { Manager } from './manager.js';
import { Reaper } from './reaper.js';
import type { Waker } from './wake.js';
import type { WorkerEvents } from './worker-events.js';

export type LifeState = 'new' | 'starting' | 'running' | 'stopping' | 'stopped';

export interface UpkeepParts {
  config: ResolvedConfig;
  redis: Redis;
  keys: Keys;
  jobs: JobRegistry;
  registration: Registration;
  manager: Manager;
  /** Its glob listener is registered again after a reconnect. */
  wake: Waker;
  /** Its liveness beat looks for cancel requests it may have missed. */
  cancels: CancelListener;
  logger: Logger;
  stats: () => WorkerStats;
  /** Ruby's per-worker counters, written with each liveness beat. */
  slotCounters: SlotCounters;
  /** Where the worker is in its life: some duties apply only while it runs. */
  state: () => LifeState;
  /** Told of each beat that reached Redis (the health probes). */
  events: EventEmitter<WorkerEvents>;
}

export class Upkeep {
  /** The heartbeat being written, awaited before the registry entries are cleared. */
  beating: Promise<void> = Promise.resolve();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly reaper: Reaper;

  constructor(private readonly p: UpkeepParts) {
    const { redis, keys, config, logger, jobs, registration } = p;
    this.reaper = new Reaper({ redis, keys, config, logger, jobs }, registration.process);
    this.watchConnection();
  }

  /** From the first heartbeat on: Ruby's heartbeat and the liveness beat, each on its timer. */
  beginBeating(): void {
    this.every(this.p.config.heartbeatIntervalMs, () => {
      this.beating = this.heartbeat();
      return this.beating;
    });
    this.every(this.p.config.livenessIntervalMs, () => this.beat());
  }

  /**
   * Once registered: reaper passes, registering again whenever the connection comes back, and a turn each poll
   * interval at repairing the non-empty-queue index.
   */
  beginReaping(): void {
    this.p.redis.on('ready', () => void this.registerAgain());
    this.every(this.p.config.reaperIntervalMs, () => this.reap(false));
    this.every(this.p.config.intervalMs, () => this.repairQueueIndex());
    this.every(GLOB_LISTENER_REFRESH_MS, () => this.registerGlobListener());
  }

  private async registerGlobListener(): Promise<void> {
    try {
      await this.p.wake.register(this.p.redis);
    } catch (error) {
      this.p.logger.debug(`Registering the glob listener failed: ${(error as Error).message}`);
    }
  }

  /**
   * One process of the fleet per poll interval (whoever sets the turn key first) adds the queues other clients
   * filled to the non-empty index, which wakes a worker for them, and drops the ones they emptied; sweeps the
   * concurrency limits (limits/sweep.lua); and drops the glob listeners no worker registers any more.
   */
  async repairQueueIndex(): Promise<void> {
    const { redis, keys, config } = this.p;
    try {
      if ((await redis.set(keys.queueIndexTurn, '1', 'PX', config.intervalMs, 'NX')) !== 'OK') return;
      const { added } = await repairQueueIndex(redis, keys);
      const { returned } = await sweepLimits(redis, keys);
      await pruneGlobListeners(redis, keys);
      if (added > 0 || returned > 0) this.p.manager.schedulePump();
    } catch (error) {
      this.p.logger.warn(`Repairing the queue index failed: ${(error as Error).message}`);
    }
  }

  stop(): void {
    for (const timer of this.timers.splice(0)) clearInterval(timer);
  }

  /** A reaper pass (fleet/liveness.ts rules); at start-up also Ruby's rule, as Ruby prunes when it starts. */
  async reap(startingUp = true): Promise<void> {
    try {
      const report = await this.reaper.pass({ startingUp });
      if (report.givenBack > 0) this.p.manager.schedulePump();
    } catch (error) {
      this.p.logger.warn(`Reaping dead workers failed: ${(error as Error).message}`);
    }
    if (startingUp) await this.rubyPrune();
  }

  async writeStats(): Promise<void> {
    try {
      await writeWorkerStats(this.p.redis, this.p.keys, this.p.stats(), this.p.config.deadWorkerAfterMs);
    } catch (error) {
      this.p.logger.debug(`Writing worker stats failed: ${(error as Error).message}`);
    }
  }

  /**
   * Ruby's heartbeat, the stats hash once started (a worker that fails to start leaves none behind), and a turn at
   * Ruby's pruning rule (one worker of the fleet gets it each period).
   */
  private async heartbeat(): Promise<void> {
    await this.p.registration.heartbeat();
    const state = this.p.state();
    if (state === 'running' || state === 'stopping') await this.writeStats();
    if (state === 'running') await this.rubyPrune();
  }

  /** The liveness beat. A peer may have taken this worker for dead while it stalled: it is alive, so it registers again. */
  private async beat(): Promise<void> {
    await this.p.slotCounters.write(this.p.redis, this.p.keys);
    const registered = await this.p.registration.beat();
    this.p.events.emit('beat');
    await this.p.cancels.check(this.p.redis);
    if (registered || this.p.state() !== 'running') return;
    this.p.logger.warn('This worker was unregistered as dead while it was alive; registering again');
    await this.p.registration.register();
  }

  private async rubyPrune(): Promise<void> {
    try {
      const report = await this.reaper.rubyPass();
      if (report.givenBack > 0) this.p.manager.schedulePump();
    } catch (error) {
      this.p.logger.warn(`Pruning dead workers by Ruby's rule failed: ${(error as Error).message}`);
    }
  }

  /** After a reconnect (e.g. Redis restarted without persistence) put our registry entries and glob listener back. */
  private async registerAgain(): Promise<void> {
    if (this.p.state() !== 'running') return;
    try {
      await this.p.registration.heartbeat();
      // Checked again: a shutdown that began meanwhile has unregistered, and must stay unregistered.
      if (this.p.state() !== 'running') return;
      await this.p.wake.register(this.p.redis);
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
      if (down || this.p.state() === 'stopped') return;
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
}
