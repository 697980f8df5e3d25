import { JobAbort } from '../cancel/job-abort.js';
import { RateLimited, UnknownJobClassError } from '../errors/index.js';
import type { JobContext } from '../jobs/define.js';
import { FailureHookError, performJob } from '../jobs/perform.js';
import type { JobRegistry } from '../jobs/registry.js';
import type { JobTracer, TracerSource } from '../observability/tracing.js';
import { attemptOf } from '../protocol/attempts.js';
import type { JsonValue } from '../protocol/json.js';
import type { JobPayload } from '../protocol/payload.js';
import { assertProgress, checkedResult } from '../status/result.js';
import { trackedTtlOf } from '../status/tracker.js';
import type { Executor, ProgressSink } from './executor.js';
import type { Reservation } from './fetch/reservation.js';
import { describeError, failedWith, type Outcome } from './outcome.js';
import { afterFailedAttempt } from './retrying.js';

/** `ctx.progress` of a job whose status is not tracked. */
const untrackedProgress = (_value: JsonValue): void => {};

/** Runs jobs in this process: the worker's own with `isolation: 'none'`, or a supervised child's. */
export class InProcessExecutor implements Executor {
  private tracer: JobTracer | undefined;
  /** The running jobs' signals, for a cancel of one of them. */
  private readonly aborts = new Map<Reservation, JobAbort>();
  private progressSink: ProgressSink | undefined;

  /** `tracing`: where its tracer comes from when tracing is on; it is loaded by `start`. */
  constructor(
    private readonly jobs: JobRegistry,
    private readonly tracing?: TracerSource,
  ) {}

  reportProgressTo(sink: ProgressSink): void {
    this.progressSink = sink;
  }

  async start(): Promise<void> {
    if (this.tracing) this.tracer = await this.tracing();
  }

  async run(reservation: Reservation, signal: AbortSignal): Promise<Outcome> {
    const payload = reservation.payload;
    if (!payload) return failedWith('failed', reservation.decodeError);
    const abort = new JobAbort(signal);
    this.aborts.set(reservation, abort);
    try {
      if (!this.tracer) return await this.perform(reservation, payload, abort);
      const span = {
        queue: reservation.queue,
        className: payload.class,
        jobId: reservation.jobId,
        attempt: attemptOf(payload),
        returns: reservation.returns,
        workerId: reservation.slotId,
      };
      return await this.tracer.consume(span, payload.trace, () => this.perform(reservation, payload, abort));
    } finally {
      this.aborts.delete(reservation);
    }
  }

  /** Fires the job's own AbortSignal; a job in this process cannot be killed, so it ends when it stops. */
  cancel(reservation: Reservation, reason: Error): void {
    this.aborts.get(reservation)?.cancel(reason);
  }

  /** Fires the job's own AbortSignal with `reason`, for this job alone (not a cancel). */
  abort(reservation: Reservation, reason: Error): void {
    this.aborts.get(reservation)?.abort(reason);
  }

  private async perform(reservation: Reservation, payload: JobPayload, abort: JobAbort): Promise<Outcome> {
    const definition = this.jobs.resolve(payload.class);
    if (!definition) return failedWith('failed', new UnknownJobClassError(payload.class));
    const tracked = trackedTtlOf(reservation) !== undefined;
    const context: JobContext = {
      id: reservation.jobId,
      queue: reservation.queue,
      className: payload.class,
      attempt: attemptOf(payload),
      returns: reservation.returns,
      get signal() {
        return abort.signal;
      },
      workerId: reservation.slotId,
      payload,
      progress: tracked ? (value) => this.progress(reservation, value) : untrackedProgress,
    };
    const kept = tracked ? { result: undefined as unknown } : undefined;
    let kind: 'performed' | 'skipped';
    try {
      kind = await performJob(definition, context, payload.args, kept);
    } catch (error) {
      if (abort.cancelled) return { kind: 'cancelled' };
      if (error instanceof RateLimited)
        return {
          kind: 'given-back',
          reason: error.message,
          countReturn: false,
          rateLimitedMs: error.delayMs,
        };
      const recorded = error instanceof Error ? error : new Error(String(error));
      const cause = recorded instanceof FailureHookError ? recorded.cause : recorded;
      return afterFailedAttempt('failed', describeError(recorded), cause, definition, payload);
    }
    if (!kept || kind === 'skipped') return { kind };
    try {
      const result = checkedResult(payload.class, kept.result);
      return result === undefined ? { kind } : { kind, result };
    } catch (error) {
      // Run again, the job would return the same: it fails for good, and its record says why.
      return failedWith('failed', error);
    }
  }

  private progress(reservation: Reservation, value: JsonValue): void {
    assertProgress(value);
    this.progressSink?.(reservation, value);
  }

  /** Sends the spans the application's provider still holds: the process may exit without its own shutdown. */
  async close(): Promise<void> {
    await this.tracer?.flush();
  }
}
