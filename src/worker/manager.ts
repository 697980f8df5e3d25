// Second link of the worker's chain (launcher → manager → processor): keeps the worker's slots busy. One pump at a
// time asks the fetcher, in one round trip, to acknowledge finished jobs and fill the free slots from the queues in
// priority order, and hands each reservation to the processor. An idle worker waits (wake.ts) until a wake-up for
// one of its queues reaches it or the poll interval passes (for jobs pushed by clients that do not announce them).
import { setMaxListeners } from 'node:events';
import type { ResolvedConfig } from '../config/resolve.js';
import type { Logger } from '../logging/logger.js';
import type { Executor } from './executor.js';
import type { Fetcher, ReserveCall } from './fetch/fetcher.js';
import type { WorkerHookName } from './hooks.js';
import type { Processor } from './processor.js';
import type { QueuePatterns } from './queue-patterns.js';
import type { WaitAnswer } from './wake.js';

/** USR2 moves `active` to `pausing` while the before_pause hooks run, then to `paused`; CONT moves back at once. */
export type PauseState = 'active' | 'pausing' | 'paused';

export interface ManagerSettings {
  config: Pick<ResolvedConfig, 'intervalMs'>;
  slotIds: readonly string[];
  patterns: QueuePatterns;
  fetcher: Fetcher;
  /** Waits for a wake-up or the poll interval (Waker.listen), which come back as onWake and pump. */
  listen: () => void;
  /**
   * Waits as `listen` does with a reservation call sent behind the wait, which Redis runs as the wait ends
   * (Waker.waitThenReserve); absent, or `canWaitThenReserve` false, idle workers `listen`.
   */
  waitThenReserve?: (call: ReserveCall) => Promise<WaitAnswer>;
  canWaitThenReserve?: () => boolean;
  /** Ends such a wait at once; with `drop` (a stop), by dropping its connection if Redis does not end it. */
  interruptWait?: (drop: boolean) => Promise<void>;
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
  /** Queues named by wake-ups since the last reservation call: it announces them again if it leaves them jobs. */
  private woken = new Set<string>();
  private retryDelayMs = 0;
  /** A reservation call waiting in Redis behind the wake-up wait: no other call is sent until it is answered. */
  private waiting: Promise<void> | undefined;
  /** Its answer, for the next cycle to read. */
  private waited: { call: ReserveCall; answer: WaitAnswer } | undefined;

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
    // A paused worker does not wait with a reservation call in Redis: the call runs now and takes nothing it keeps.
    if (this.waiting) {
      await this.s.interruptWait?.(false);
      await this.waiting;
      // What the call took is given back before the pause is done.
      await this.pumping;
    }
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
      this.idleIn(this.retryDelayMs);
      this.s.onError(error as Error);
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

  /** A wake-up for `queue` reached this worker; one it cannot use (full, paused, stopping) is passed on. */
  onWake(queue: string): void {
    if (this.accepting && !this.paused && this.s.processor.busy < this.slotsWanted) {
      this.woken.add(queue);
      // At once rather than on the next turn: the wake-up's whole point is pickup latency.
      void this.pump();
      return;
    }
    void this.passOn([queue]);
  }

  /** Announces again queues whose wake-ups this worker took but cannot use, so that another idle worker is woken. */
  private async passOn(queues: readonly string[]): Promise<void> {
    try {
      await this.s.fetcher.passOn(queues);
    } catch (error) {
      this.s.logger.debug(
        `Passing on a wake-up for ${queues.join(', ')} failed: ${(error as Error).message}`,
      );
    }
  }

  /** Sends what is still to acknowledge, retrying with backoff until Redis takes it (a shutdown's last word). */
  async flush(): Promise<void> {
    if (this.waiting) {
      await this.s.interruptWait?.(true);
      await this.waiting;
    }
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
    if (this.waiting) return;
    const { processor, fetcher } = this.s;
    let waited = this.waited;
    this.waited = undefined;
    if (
      waited &&
      'error' in waited.answer.answer &&
      !waited.answer.answer.error.message.startsWith('NOSCRIPT')
    ) {
      // The wait's connection failed (a reconnect, a stop): a call sent the usual way takes over, and finds any job
      // the lost one may have reserved still held by its slot.
      this.s.logger.debug(`Waiting for a wake-up failed: ${waited.answer.answer.error.message}`);
      fetcher.abandon(waited.call);
      if (waited.answer.queue !== undefined) this.woken.add(waited.answer.queue);
      waited = undefined;
    }
    let taking: boolean;
    let free: readonly string[];
    let reply: Awaited<ReturnType<Fetcher['reserve']>>;
    if (waited) {
      free = waited.call.slots;
      reply = await fetcher.complete(waited.call, waited.answer.answer);
      const queue = waited.answer.queue;
      if (queue !== undefined && !reply.reservations.some((r) => r.queue === queue))
        void this.passOn([queue]);
    } else {
      taking = this.accepting && this.pauseState !== 'paused';
      free = taking
        ? this.s.slotIds
            .filter((slot) => !processor.running.has(slot))
            .slice(0, Math.max(0, this.slotsWanted - processor.busy))
        : [];
      const woken = [...this.woken];
      this.woken.clear();
      if (!fetcher.hasAcks && free.length === 0) {
        // No call to make (a call already on its way filled the slots, or the worker paused or began to stop since
        // these wake-ups came): they are passed on, not kept until a slot frees.
        if (woken.length > 0) await this.passOn(woken);
        return;
      }
      try {
        reply = await fetcher.reserve(free, woken);
      } catch (error) {
        for (const queue of woken) this.woken.add(queue);
        throw error;
      }
    }
    this.pausedByAll = reply.paused;
    this.showPaused();
    // A waited call was sent before a pause that came while it waited; any other is sent only while taking.
    taking = this.accepting && !(waited && this.pauseState === 'paused');
    if (!taking && reply.reservations.length > 0) {
      // A stop or a pause began while this call was on its way: what it reserved is not started but given back,
      // newest first.
      for (const reservation of [...reply.reservations].reverse())
        await reservation.giveBack({ countReturn: false });
      if (!this.accepting) return;
      reply = { ...reply, reservations: [] };
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
      this.s.procline(this.paused ? 'Paused' : `Waiting for ${this.s.patterns.patterns.join(',')}`);
      this.s.onIdle();
    }
    if (!this.accepting) return;
    // Paused, nothing is taken: look again after the poll interval rather than take wake-ups meant for others.
    if (this.paused) this.idleIn(this.s.config.intervalMs);
    else if (!this.waitThenReserve()) this.s.listen();
  }

  /**
   * An idle worker with every slot free waits with its next reservation call already in Redis, behind the wait: a
   * wake-up is answered with the job, without a round trip between. False when it cannot (slots busy, or
   * acknowledgements to send: those go with a call of their own).
   */
  private waitThenReserve(): boolean {
    const { waitThenReserve, canWaitThenReserve, processor, fetcher, slotIds } = this.s;
    if (!waitThenReserve || !canWaitThenReserve?.() || processor.busy > 0 || fetcher.hasAcks) return false;
    this.waiting = (async () => {
      const call = await fetcher.prepare(slotIds.slice(0, this.slotsWanted));
      // A pause or a stop that began meanwhile: no call waits in Redis.
      if (!this.accepting || this.pauseState !== 'active') {
        fetcher.abandon(call);
        return;
      }
      this.waited = { call, answer: await waitThenReserve(call) };
    })()
      .catch((error: unknown) => {
        this.s.logger.debug(`Waiting for a wake-up failed: ${(error as Error).message}`);
      })
      .finally(() => {
        this.waiting = undefined;
        // A paused worker is pumped again by its resume, a stopping one by its flush.
        if (this.waited || (this.accepting && this.pauseState === 'active')) void this.pump();
      });
    return true;
  }

  /** How many slots to keep filled: the executor's say (a supervisor reserves ahead only while jobs are short). */
  private get slotsWanted(): number {
    return this.s.executor.slotsWanted?.() ?? this.s.slotIds.length;
  }

  /** The poll interval passed with no wake-up. */
  onPoll(): void {
    if (this.accepting) void this.pump();
  }

  private idleIn(ms: number): void {
    clearTimeout(this.idleTimer);
    if (!this.accepting && !this.s.fetcher.hasAcks) return;
    this.idleTimer = setTimeout(() => void this.pump(), ms);
  }

  /** Tells the executor when `paused` changes (a supervisor's idle children say `Paused`). */
  private showPaused(): void {
    if (this.paused === this.pausedShown) return;
    this.pausedShown = this.paused;
    this.s.executor.setPaused?.(this.pausedShown);
  }
}
