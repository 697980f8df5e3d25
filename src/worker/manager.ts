// Second link of the worker's chain (launcher → manager → processor): keeps the worker's slots busy. One pump at a
// time asks the fetcher, in one round trip, to acknowledge finished jobs and fill the free slots from the queues in
// priority order, and hands each reservation to the processor. An idle worker sleeps until a wake-up concerns one
// of its queues or the poll interval passes (for jobs pushed by clients that do not announce them).
import { setMaxListeners } from 'node:events';
import type { Redis } from 'ioredis';
import type { ResolvedConfig } from '../config/resolve.js';
import type { Logger } from '../logging/logger.js';
import type { Keys } from '../protocol/keys.js';
import type { Executor } from './executor.js';
import type { Fetcher } from './fetch/fetcher.js';
import type { WorkerHookName } from './hooks.js';
import type { Processor } from './processor.js';
import type { QueuePatterns } from './queue-patterns.js';

/** USR2 moves `active` to `pausing` while the before_pause hooks run, then to `paused`; CONT moves back at once. */
export type PauseState = 'active' | 'pausing' | 'paused';

export interface ManagerSettings {
  config: Pick<ResolvedConfig, 'intervalMs'>;
  redis: Redis;
  keys: Keys;
  slotIds: readonly string[];
  patterns: QueuePatterns;
  fetcher: Fetcher;
  processor: Processor;
  executor: Executor;
  logger: Logger;
  runHooks: (name: WorkerHookName) => Promise<void>;
  procline: (text: string) => void;
  /** Every slot is free and every queue empty. */
  onIdle: () => void;
  onError: (error: Error) => void;
}

export class Manager {
  /** Whether free slots are filled: from the end of start-up until a stop. */
  accepting = false;
  private pauseState: PauseState = 'active';
  /** `pause-all-workers` was set at the last reservation. */
  private pausedByAll = false;
  /** What the executor was last told about `paused`. */
  private pausedShown = false;
  /** The pump running now, if any: a shutdown waits for it before its last acknowledgements. */
  private pumping: Promise<void> | undefined;
  private pumpAgain = false;
  private pumpScheduled = false;
  private idleTimer: NodeJS.Timeout | undefined;
  private wasWorking = false;
  private queueCache: { queues: string[]; at: number } | undefined;
  private retryDelayMs = 0;

  constructor(private readonly s: ManagerSettings) {}

  get paused(): boolean {
    return this.pauseState === 'paused' || this.pausedByAll;
  }

  /** USR2: take no more jobs once the before_pause hooks have run; running ones continue. */
  async pause(): Promise<void> {
    if (this.pauseState !== 'active') return;
    this.pauseState = 'pausing';
    await this.s.runHooks('before_pause');
    // A CONT that arrived while the hooks ran cancels this pause.
    if (this.pauseState !== 'pausing') return;
    this.pauseState = 'paused';
    this.s.procline('Paused');
    this.showPaused();
  }

  /** CONT: take jobs again. */
  async resume(): Promise<void> {
    const was = this.pauseState;
    this.pauseState = 'active';
    if (was !== 'paused') return;
    this.showPaused();
    await this.s.runHooks('after_pause');
    this.schedulePump();
  }

  /** Acknowledges what is finished and fills the free slots, until there is nothing more to do right now. */
  pump(): Promise<void> {
    if (this.pumping) {
      this.pumpAgain = true;
      return this.pumping;
    }
    this.pumping = this.pumpUntilDone().finally(() => {
      this.pumping = undefined;
    });
    return this.pumping;
  }

  private async pumpUntilDone(): Promise<void> {
    try {
      do {
        this.pumpAgain = false;
        await this.cycle();
      } while (this.pumpAgain);
      this.retryDelayMs = 0;
    } catch (error) {
      this.retryDelayMs = Math.min(Math.max(this.retryDelayMs * 2, 100), 5000);
      this.s.logger.warn(
        `Reserving failed, retrying in ${this.retryDelayMs} ms: ${(error as Error).message}`,
      );
      this.s.onError(error as Error);
      this.idleIn(this.retryDelayMs);
    }
  }

  schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      void this.pump();
    });
  }

  /** An enqueue announced `queue`. */
  onWake(queue: string): void {
    if (!this.s.patterns.covers(queue)) return;
    if (this.queueCache && !this.queueCache.queues.includes(queue)) this.queueCache = undefined;
    if (this.s.processor.busy < this.s.slotIds.length) this.schedulePump();
  }

  /** Sends what is still to acknowledge, retrying with backoff until Redis takes it (a shutdown's last word). */
  async flush(): Promise<void> {
    for (let delay = 100; ; delay = Math.min(delay * 2, 5000)) {
      // A pump already running (a reservation call sent before the stop) is waited for first.
      await this.pumping;
      await this.pump();
      if (!this.s.fetcher.hasAcks && !this.pumping) return;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }

  stopIdleTimer(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  private async cycle(): Promise<void> {
    const { processor, fetcher } = this.s;
    const taking = this.accepting && this.pauseState !== 'paused';
    const free = taking ? this.s.slotIds.filter((slot) => !processor.running.has(slot)) : [];
    if (!fetcher.hasAcks && free.length === 0) return;
    const reply = await fetcher.reserve(free, free.length > 0 ? await this.queues() : []);
    this.pausedByAll = reply.paused;
    this.showPaused();
    if (!this.accepting && reply.reservations.length > 0) {
      // A stop began while this call was on its way: what it reserved is not started but given back, newest first.
      for (const reservation of [...reply.reservations].reverse())
        await reservation.giveBack({ countReturn: false });
      return;
    }
    const controller = new AbortController();
    setMaxListeners(0, controller.signal);
    for (const reservation of reply.reservations) processor.start(reservation, controller);
    if (reply.reservations.length > 0) this.wasWorking = true;
    if (free.length > reply.reservations.length) await this.idle();
  }

  private async idle(): Promise<void> {
    const busy = this.s.processor.busy;
    if (busy === 0 && this.wasWorking) {
      this.wasWorking = false;
      await this.s.runHooks('queue_empty');
    }
    if (busy === 0) {
      const waitingFor = (this.queueCache?.queues ?? this.s.patterns.patterns).join(',');
      this.s.procline(this.paused ? 'Paused' : `Waiting for ${waitingFor}`);
      this.s.onIdle();
    }
    if (this.accepting) this.idleIn(this.s.config.intervalMs);
  }

  private idleIn(ms: number): void {
    clearTimeout(this.idleTimer);
    if (!this.accepting && !this.s.fetcher.hasAcks) return;
    this.idleTimer = setTimeout(() => {
      this.queueCache = undefined;
      void this.pump();
    }, ms);
  }

  /** Tells the executor when `paused` changes (a supervisor's idle children say `Paused`). */
  private showPaused(): void {
    if (this.paused === this.pausedShown) return;
    this.pausedShown = this.paused;
    this.s.executor.setPaused?.(this.pausedShown);
  }

  /** The concrete queue list; a dynamic one is re-read from the `queues` set at most once per poll interval. */
  private async queues(): Promise<string[]> {
    const { patterns, config } = this.s;
    if (!patterns.dynamic) return patterns.expand([]);
    const fresh = this.queueCache && Date.now() - this.queueCache.at < Math.max(config.intervalMs, 1000);
    if (!fresh) {
      const known = await this.s.redis.smembers(this.s.keys.queues);
      this.queueCache = { queues: patterns.expand(known), at: Date.now() };
    }
    return this.queueCache!.queues;
  }
}
