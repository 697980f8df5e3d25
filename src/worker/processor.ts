// Third link of the worker's chain (launcher → manager → processor): runs one reservation on the executor to its
// outcome and has it recorded. The processor decides what an outcome means for the worker (an interrupted job goes
// back or fails per `onTermTimeout`, counters, events, logs); its reservation's owner writes it to Redis.
import type { EventEmitter } from 'node:events';
import type { ResolvedConfig } from '../config/resolve.js';
import { EXCEPTION } from '../errors/exception-names.js';
import { JobCancelled } from '../errors/index.js';
import { runExhaustedHooks } from '../jobs/perform.js';
import type { JobRegistry } from '../jobs/registry.js';
import type { Logger } from '../logging/logger.js';
import { epochSeconds } from '../protocol/time.js';
import type { StatusTracker } from '../status/tracker.js';
import type { Executor } from './executor.js';
import type { Reservation } from './fetch/reservation.js';
import { isFailure, isFinalFailure, type JobFailure, type Outcome } from './outcome.js';
import type { WorkerEvents } from './worker-events.js';

/** A supervisor names its busy children in its title at most this often while jobs start. */
const SUPERVISOR_TITLE_MS = 250;

/** A job running in one of the worker's slots. */
export interface RunningJob {
  readonly reservation: Reservation;
  /**
   * Shared by the jobs reserved in one call: the worker only ever aborts every running job at once (USR1, TERM),
   * and one controller per batch instead of per job is a measurable share of a no-op job's cost.
   */
  readonly controller: AbortController;
  readonly startedAt: number;
  /** Its place in the order jobs were taken, for giving back in that order. */
  readonly sequence: number;
  /**
   * Why its AbortSignal fired, when the worker fired it: by a shutdown (TERM) or an operator (USR1), an error it
   * ends with means "interrupted", not "broken".
   */
  abortedBy: AbortCause | undefined;
  /** Its outcome is being recorded, or it was given back when the TERM grace period ended: later ones are ignored. */
  done: boolean;
}

/** `shutdown`: TERM/INT; `operator`: USR1; `application`: `Worker.abortRunning` with a reason of its own. */
export type AbortCause = 'shutdown' | 'operator' | 'application';

export interface ProcessorTally {
  /** Jobs finished (failed ones included, as in Resque's stats), failed, and given back unfinished. */
  processed: number;
  failed: number;
  givenBack: number;
}

export interface ProcessorSettings {
  config: Pick<ResolvedConfig, 'onTermTimeout' | 'termTimeoutMs'>;
  executor: Executor;
  logger: Logger;
  events: EventEmitter<WorkerEvents>;
  /** A slot was freed (its job's outcome is recorded or queued for acknowledgement). */
  onSlotFree: () => void;
  /** Sets the process title, or undefined when titles are left alone. */
  procline: ((text: string) => void) | undefined;
  /** Job definitions, for the retries_exhausted hooks of jobs that failed for good. */
  jobs?: JobRegistry;
  /** Writes the status records of tracked jobs (docs/status.md); untracked jobs pass it by. */
  status?: StatusTracker;
}

export class Processor {
  readonly running = new Map<string, RunningJob>();
  readonly tally: ProcessorTally = { processed: 0, failed: 0, givenBack: 0 };
  /**
   * During a TERM shutdown jobs going back to their queues wait here, to be given back together in the order they
   * were taken (see `interruptUnfinished`), rather than in the order they happened to stop.
   */
  private deferred: Array<{ job: RunningJob; outcome: Outcome }> | undefined;
  private sequence = 0;
  private recording = 0;

  constructor(private readonly settings: ProcessorSettings) {}

  get busy(): number {
    return this.running.size;
  }

  /** Jobs whose outcome is not yet written to Redis: running, waiting to be given back, or being recorded. */
  get unsettled(): number {
    return this.running.size + (this.deferred?.length ?? 0) + this.recording;
  }

  start(reservation: Reservation, controller: AbortController): void {
    const { executor, procline, events, logger } = this.settings;
    const job: RunningJob = {
      reservation,
      controller,
      startedAt: Date.now(),
      sequence: this.sequence++,
      abortedBy: undefined,
      done: false,
    };
    this.running.set(reservation.slotId, job);
    // In this process the title must be up before the job's synchronous part runs; a supervisor's names the child.
    const supervised = executor.busyTitle !== undefined;
    if (procline && !supervised) procline(`Processing ${reservation.queue} since ${epochSeconds()}`);
    events.emit('job:start', reservation);
    this.settings.status?.started(reservation);
    executor
      .run(reservation, controller.signal)
      .then((outcome) => this.finish(job, outcome))
      .catch((error: unknown) =>
        logger.error(`Finishing job on ${reservation.slotId} failed: ${String(error)}`),
      );
    if (procline && supervised && job.startedAt - this.titledAt >= SUPERVISOR_TITLE_MS) {
      // A supervisor's title names its busy children; the children's own titles say what runs, at once.
      this.titledAt = job.startedAt;
      const title = executor.busyTitle?.();
      if (title) procline(title);
    }
  }

  /** When the supervisor's title was last set for a job start. */
  private titledAt = 0;

  /** A TERM shutdown begins: jobs that go back to their queue from now on wait for `interruptUnfinished`. */
  deferGiveBacks(): void {
    this.deferred ??= [];
  }

  /**
   * `resque.cancel(id)` reached this worker: if one of its running jobs has that id, its own AbortSignal fires (its
   * child is killed after `cancelGraceMs` if it does not stop), and whatever it then ends with but success is
   * recorded as cancelled. Asked again (the message and the beat's check), it does nothing more. True when it runs
   * here.
   */
  cancel(jobId: string): boolean {
    const needle = `"id":"${jobId}"`;
    for (const job of this.running.values()) {
      const { reservation } = job;
      if (job.done || !reservation.raw.includes(needle) || reservation.jobId !== jobId) continue;
      if (reservation.cancelRequested) return true;
      reservation.cancelRequested = true;
      this.settings.logger.info(`Cancelling ${reservation.className} ${jobId} in slot ${reservation.slotId}`);
      this.settings.executor.cancel?.(reservation, new JobCancelled(jobId));
      return true;
    }
    return false;
  }

  /** Fires every running job's AbortSignal, remembering why. */
  abort(reason: Error, cause: AbortCause): void {
    for (const job of this.running.values()) {
      job.abortedBy = cause;
      job.controller.abort(reason);
    }
  }

  /** Waits until no job is running or `timeoutMs` passes. */
  async waitIdle(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.running.size > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(25, Math.max(1, deadline - Date.now()))));
    }
  }

  /**
   * The TERM grace period is over: what still runs is interrupted (given back, or failed per `onTermTimeout`), and
   * every job waiting to go back goes, newest first, so that on the head of their queues they stand in the order they
   * were taken.
   */
  async interruptUnfinished(): Promise<void> {
    const left = [...this.running.values()].filter((job) => !job.done);
    const error = `Job still running ${this.settings.config.termTimeoutMs} ms after the worker was told to stop`;
    for (const job of left) {
      await this.finish(job, {
        kind: 'interrupted',
        failure: { exception: EXCEPTION.term, error, backtrace: [] },
      });
    }
    const waiting = (this.deferred ?? []).splice(0).sort((a, b) => b.job.sequence - a.job.sequence);
    this.deferred = undefined;
    for (const { job, outcome } of waiting) await this.record(job, outcome);
    if (left.length > 0)
      this.settings.logger.warn(
        `Gave back ${left.length} unfinished job(s) (${this.settings.config.onTermTimeout})`,
      );
  }

  private async finish(job: RunningJob, reported: Outcome): Promise<void> {
    if (job.done) return;
    job.done = true;
    const outcome = this.classify(job, reported);
    if (outcome.kind === 'given-back' && this.deferred) {
      this.deferred.push({ job, outcome });
      this.running.delete(job.reservation.slotId);
      return;
    }
    await this.record(job, outcome);
  }

  private async record(job: RunningJob, outcome: Outcome): Promise<void> {
    const { reservation } = job;
    this.count(outcome);
    this.recording++;
    try {
      // Before the end is recorded: once a retried or given-back job is back, its next run writes its own record.
      await this.settings.status?.finished(reservation, outcome);
      await reservation.ack(outcome);
    } finally {
      this.recording--;
    }
    // Its slot may already run the next job (filled once this one's acknowledgement was pending).
    if (this.running.get(reservation.slotId) === job) this.running.delete(reservation.slotId);
    this.settings.events.emit('job:finish', reservation, outcome);
    this.settings.onSlotFree();
    if (isFinalFailure(outcome)) await this.exhausted(reservation, outcome.failure);
  }

  /** The job failed for good and its record is written: its retries_exhausted hooks run, once, here. */
  private async exhausted(reservation: Reservation, failure: JobFailure): Promise<void> {
    const payload = reservation.payload;
    const definition = payload && this.settings.jobs?.resolve(payload.class);
    if (!payload || !definition) return;
    const error = new Error(failure.error);
    error.name = failure.exception;
    try {
      await runExhaustedHooks(definition, error, payload.args);
    } catch (hookError) {
      this.settings.logger.error(`retries_exhausted hook failed for ${payload.class}: ${String(hookError)}`);
    }
  }

  /**
   * A failure of a job the shutdown interrupted is an interruption, which goes back unless told to fail; one an
   * operator stopped (USR1) goes back untouched.
   */
  private classify(job: RunningJob, outcome: Outcome): Outcome {
    if (job.reservation.cancelRequested && outcome.kind !== 'performed' && outcome.kind !== 'skipped')
      return { kind: 'cancelled' };
    if (
      job.abortedBy === 'operator' &&
      isFailure(outcome) &&
      outcome.kind !== 'timed-out' &&
      outcome.kind !== 'over-memory'
    )
      return { kind: 'given-back', reason: 'the worker was sent USR1', countReturn: false };
    const interrupted =
      outcome.kind === 'interrupted' || (job.abortedBy === 'shutdown' && isFailure(outcome));
    if (!interrupted) return outcome;
    if (this.settings.config.onTermTimeout === 'requeue')
      return { kind: 'given-back', reason: 'the worker was told to stop', countReturn: false };
    return isFailure(outcome) ? { kind: 'interrupted', failure: outcome.failure } : outcome;
  }

  /** Its log line is written on `job:finish` (observability/job-log.ts). */
  private count(outcome: Outcome): void {
    if (outcome.kind === 'cancelled') return;
    if (outcome.kind === 'given-back') {
      this.tally.givenBack++;
      return;
    }
    this.tally.processed++;
    if (!isFailure(outcome)) return;
    this.tally.failed++;
  }
}
