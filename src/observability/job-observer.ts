// The worker's job:start and job:finish events, timed once and handed to whatever watches jobs: the per-job log
// lines, the metrics, the error reporter. A watcher that throws is logged; it never reaches the processor that emitted
// the event.
import type { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../logging/logger.js';
import type { Reservation } from '../worker/fetch/reservation.js';
import type { Outcome } from '../worker/outcome.js';
import type { WorkerEvents } from '../worker/worker-events.js';

/** How one job ended, and how long it ran in its slot (ms). */
export interface JobEnd {
  readonly reservation: Reservation;
  readonly outcome: Outcome;
  readonly durationMs: number;
}

export interface JobWatcher {
  started?(reservation: Reservation): void;
  finished(end: JobEnd): void;
}

/** Milliseconds on a clock that only moves forward; tests pass their own. */
export type MonotonicClock = () => number;

export class JobObserver {
  private readonly watchers: JobWatcher[] = [];
  private readonly startedAt = new WeakMap<Reservation, number>();
  private listening = false;

  constructor(
    private readonly events: EventEmitter<WorkerEvents>,
    private readonly logger: Logger,
    private readonly clock: MonotonicClock = () => performance.now(),
  ) {}

  /** Adds a watcher; the events are listened to from the first one on, so a worker nobody watches pays nothing. */
  add(watcher: JobWatcher): void {
    this.watchers.push(watcher);
    if (this.listening) return;
    this.listening = true;
    this.events.on('job:start', this.onStart);
    this.events.on('job:finish', this.onFinish);
  }

  close(): void {
    this.events.off('job:start', this.onStart);
    this.events.off('job:finish', this.onFinish);
    this.listening = false;
  }

  private readonly onStart = (reservation: Reservation): void => {
    this.startedAt.set(reservation, this.clock());
    for (const watcher of this.watchers) {
      if (watcher.started) this.guard(() => watcher.started?.(reservation));
    }
  };

  private readonly onFinish = (reservation: Reservation, outcome: Outcome): void => {
    const started = this.startedAt.get(reservation);
    const end: JobEnd = {
      reservation,
      outcome,
      durationMs: started === undefined ? 0 : this.clock() - started,
    };
    for (const watcher of this.watchers) this.guard(() => watcher.finished(end));
  };

  private guard(call: () => void): void {
    try {
      call();
    } catch (error) {
      this.logger.warn(`Observing a job failed: ${(error as Error).message}`);
    }
  }
}
