// Second link of the worker's chain (launcher → manager → processor): keeps the worker's slots busy. A pump asks the
// fetcher, in one round trip, to acknowledge finished jobs and fill the free slots from the queues in priority order,
// and hands each reservation to the processor. One call is on its way at a time; when an answer comes while other
// slots have finished jobs to acknowledge (or the queues may hold more), the next call is sent before the jobs it
// brought start, so that Redis works on it while they run instead of the two taking turns. An idle worker waits
// (wake.ts) until a wake-up for one of its queues reaches it or the poll interval passes (for jobs pushed by clients
// that do not announce them).
import { setMaxListeners } from 'node:events';
import type { ResolvedConfig } from '../config/resolve.js';
import type { Logger } from '../logging/logger.js';
import type { Executor } from './executor.js';
import type { Fetcher, FetchReply, ReserveCall } from './fetch/fetcher.js';
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
  /** Such a wait is blocked in Redis now (Waker.listening). */
  listening?: () => boolean;
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
  /**
   * Settles once no pump runs (a call's answer may start the next pump): a shutdown waits for it before its last
   * acknowledgements.
   */
  private pumping: Promise<void> | undefined;
  private pumpingDone: (() => void) | undefined;
  /** Pumps running now: one, or two while one starts what a call brought and the other sends the next call. */
  private lanes = 0;
  /** A reservation call is on its way: no other is sent until it is answered. */
  private calling = false;
  /** A pump found a call on its way: its answer sends the next call. */
  private callWanted = false;
  /** Slots a reservation call on its way is filling: no other call names them. */
  private readonly reserving = new Set<string>();
  /** How many of them those calls fill (the others only acknowledge). */
  private filling = 0;
  /** A call came back short while another pump ran: the last pump to end goes idle. */
  private idleLater = false;
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
  /** Reservation calls on their way, each until what it took is started or given back. */
  private callsOnTheirWay = 0;
  /** Pauses waiting for those calls to end. */
  private callsEndedWaiters: Array<() => void> = [];

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
    // What a call on its way takes is given back, not started, before the pause is done. Not the whole pump: a
    // queue_empty hook (run by the pump) may itself await a pause.
    if (this.callsOnTheirWay > 0) await new Promise<void>((resolve) => this.callsEndedWaiters.push(resolve));
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
    this.pumping = new Promise((resolve) => {
      this.pumpingDone = resolve;
    });
    // This pump, not those it hands on to (`pumping` settles when every one has ended).
    return this.runLane();
  }

  private async runLane(): Promise<void> {
    this.lanes++;
    try {
      do {
        do {
          this.pumpAgain = false;
          await this.cycle();
        } while (this.pumpAgain);
        if (this.idleLater && this.lanes === 1) {
          this.idleLater = false;
          await this.idle();
        }
        // A pump asked for while idle's hooks ran (a wake-up) was left to this one: idle did not wait for it.
      } while (this.pumpAgain);
      this.retryDelayMs = 0;
    } catch (error) {
      this.retryDelayMs = Math.min(Math.max(this.retryDelayMs * 2, 100), 5000);
      this.s.logger.warn(
        `Reserving failed, retrying in ${this.retryDelayMs} ms: ${(error as Error).message}`,
      );
      this.idleIn(this.retryDelayMs);
      this.s.onError(error as Error);
    } finally {
      this.lanes--;
      if (this.lanes === 0) {
        this.pumping = undefined;
        this.pumpingDone?.();
      }
    }
  }

  /**
   * The slots the next call fills: free (no job running, no call filling them), up to what the executor wants
   * filled.
   */
  private freeSlots(): string[] {
    const { processor, slotIds, fetcher } = this.s;
    const wanted = this.slotsWanted;
    // A job whose acknowledgement waits has finished: its slot counts as free though the processor, a few microtasks
    // behind, still lists it (the call that fills it acknowledges it first).
    let finishing = 0;
    for (const slot of fetcher.ackedSlots()) if (processor.running.has(slot)) finishing++;
    const room = Math.max(0, wanted - (processor.busy - finishing) - this.filling);
    if (room === 0) return [];
    const free = new Set<string>();
    // Slots with an acknowledgement to send come first: the call that acknowledges a slot also fills it.
    for (const slots of [fetcher.ackedSlots(), slotIds]) {
      for (const slot of slots) {
        if (this.reserving.has(slot) || (processor.running.has(slot) && !fetcher.isAcked(slot))) continue;
        free.add(slot);
        if (free.size >= room) return [...free];
      }
    }
    return [...free];
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
    if (this.calling) {
      this.callWanted = true;
      return;
    }
    const { fetcher } = this.s;
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
    let free: readonly string[];
    let woken: string[] = [];
    let named: readonly string[];
    if (waited) free = named = waited.call.slots;
    else {
      free = this.accepting && this.pauseState !== 'paused' ? this.freeSlots() : [];
      woken = [...this.woken];
      this.woken.clear();
      if (!fetcher.hasAcks && free.length === 0) {
        // No call to make (a call already on its way filled the slots, or the worker paused or began to stop since
        // these wake-ups came): they are passed on, not kept until a slot frees.
        if (woken.length > 0) await this.passOn(woken);
        return;
      }
      // Every slot the call names, acknowledged or filled, is its own until it is answered.
      named = [...fetcher.ackedSlots(), ...free];
    }
    for (const slot of named) this.reserving.add(slot);
    this.filling += free.length;
    this.callsOnTheirWay++;
    let reply: FetchReply;
    this.calling = true;
    try {
      if (waited) {
        reply = await fetcher.complete(waited.call, waited.answer.answer);
        const queue = waited.answer.queue;
        if (queue !== undefined && !reply.reservations.some((r) => r.queue === queue))
          void this.passOn([queue]);
      } else {
        try {
          reply = await fetcher.reserve(free, woken);
        } catch (error) {
          for (const queue of woken) this.woken.add(queue);
          throw error;
        }
      }
    } catch (error) {
      for (const slot of named) this.reserving.delete(slot);
      this.filling -= free.length;
      this.callEnded();
      throw error;
    } finally {
      this.calling = false;
    }
    // The next call goes before this one's jobs start, so that Redis fills the other slots while they run: when a pump
    // asked for one meanwhile, when acknowledgements wait, or when this call filled every slot it asked for (the
    // queues may hold more). This call's slots are still its own until its jobs have started.
    const full = free.length > 0 && reply.reservations.length === free.length;
    if (this.callWanted || full || fetcher.hasAcks) {
      this.callWanted = false;
      void this.runLane();
    }
    let goOn: boolean;
    try {
      goOn = await this.started(reply);
    } finally {
      for (const slot of named) this.reserving.delete(slot);
      this.filling -= free.length;
      this.callEnded();
    }
    if (!goOn || free.length <= reply.reservations.length) return;
    if (this.lanes > 1) this.idleLater = true;
    else await this.idle();
  }

  /**
   * Starts what a call reserved, or gives it back if a stop or a pause began while the call was on its way; false
   * after a stop (nothing more to do).
   */
  private async started(reply: FetchReply): Promise<boolean> {
    const { processor } = this.s;
    this.pausedByAll = reply.paused;
    this.showPaused();
    // A pause that came while the call was on its way (or waiting in Redis) keeps its jobs from starting.
    const taking = this.accepting && this.pauseState !== 'paused';
    if (!taking && reply.reservations.length > 0) {
      // What this call reserved is not started but given back, newest first.
      for (const reservation of [...reply.reservations].reverse())
        await reservation.giveBack({ countReturn: false });
      reply.reservations = [];
      return this.accepting;
    }
    const controller = new AbortController();
    setMaxListeners(0, controller.signal);
    for (const reservation of reply.reservations) processor.start(reservation, controller);
    if (reply.reservations.length > 0) this.wasWorking = true;
    return true;
  }

  /** A reservation call's jobs are started or given back: pauses waiting for the calls on their way go on once none is. */
  private callEnded(): void {
    this.callsOnTheirWay--;
    if (this.callsOnTheirWay === 0) for (const resume of this.callsEndedWaiters.splice(0)) resume();
  }

  private async idle(): Promise<void> {
    this.idleLater = false;
    const busy = this.s.processor.busy;
    if (busy === 0 && this.wasWorking) {
      this.wasWorking = false;
      await this.s.runHooks('queue_empty');
    }
    if (busy === 0) {
      this.s.procline(this.paused ? 'Paused' : `Waiting for ${this.s.patterns.patterns.join(',')}`);
      this.s.onIdle();
    }
    // Another cycle follows at once (a wake-up or a freed slot came while the call was on its way): it decides.
    if (!this.accepting || this.pumpAgain) return;
    // Paused, nothing is taken: look again after the poll interval rather than take wake-ups meant for others.
    if (this.paused) this.idleIn(this.s.config.intervalMs);
    // A wait already blocked (begun while slots were busy) goes on: one queued behind it on the same connection would
    // leave the wake-up it receives unused until the second one ends.
    else if (!this.s.listening?.() && !this.waitThenReserve()) this.s.listen();
  }

  /**
   * An idle worker with every slot free waits with its next reservation call already in Redis, behind the wait: a
   * wake-up is answered with the job, without a round trip between. False when it cannot (slots busy, or
   * acknowledgements to send: those go with a call of their own).
   */
  private waitThenReserve(): boolean {
    const { waitThenReserve, canWaitThenReserve, processor, fetcher, slotIds } = this.s;
    if (!waitThenReserve || !canWaitThenReserve?.() || processor.busy > 0 || fetcher.hasAcks) return false;
    // Another call on its way (sent while this pump's hooks ran) has slots of its own.
    if (this.lanes > 1 || this.reserving.size > 0) return false;
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
