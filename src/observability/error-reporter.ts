import type { Logger } from '../logging/logger.js';
import { attemptOf } from '../protocol/attempts.js';
import type { JsonValue } from '../protocol/json.js';
import type { JobPayload } from '../protocol/payload.js';
import { errorOf, type FailureKind, isFailure } from '../worker/outcome.js';
import type { JobWatcher } from './job-observer.js';

/** The job whose attempt failed, as an error tracker wants it. */
export interface ReportedJob {
  /** Its class name (`(malformed payload)` when its bytes are not a Resque job). */
  readonly class: string;
  readonly args: readonly JsonValue[];
  readonly queue: string;
  /** resque-ts job id; undefined for jobs enqueued by Ruby or in strict mode. */
  readonly id: string | undefined;
}

/** Where and how the attempt failed. */
export interface ErrorContext {
  /** The worker slot that ran it (its Resque worker id). */
  readonly workerId: string;
  /** Which attempt failed: 1 for the first run, 2 for the first retry (docs/retries.md). */
  readonly attempt: number;
  /** Times the job was given back to its queue after the process running it died. */
  readonly returns: number;
  /**
   * How it failed: `failed` (it threw), `timed-out`, `over-memory`, `dirty-exit`, `interrupted`; `retrying` when it
   * has attempts left and will run again.
   */
  readonly kind: FailureKind | 'retrying';
  /** For `retrying`: the job's attempts in all, and when the next one runs. */
  readonly retry: { readonly attempts: number; readonly inMs: number } | undefined;
  readonly durationMs: number;
  /** The class name written to the failure record (`exception`), and its backtrace. */
  readonly exception: string;
  readonly backtrace: readonly string[];
  /** The decoded payload, extra keys included; undefined when it was malformed. */
  readonly payload: JobPayload | undefined;
}

/**
 * Called once for every failed attempt, after its failure record (or, with attempts left, its retry) is written.
 * `error` is what the job threw when it ran in the worker's own process; in a supervised child it is rebuilt from the
 * record (same name, message and frames). A reporter that throws or rejects is logged and the worker carries on.
 */
export type ErrorReporter = (error: Error, job: ReportedJob, context: ErrorContext) => void | Promise<void>;

export function errorReporting(reporter: ErrorReporter, logger: Logger): JobWatcher {
  const complain = (error: unknown) =>
    logger.warn(`The error reporter failed: ${error instanceof Error ? error.message : String(error)}`);
  return {
    finished({ reservation, outcome, durationMs }) {
      if (!isFailure(outcome)) return;
      const payload = reservation.payload;
      const job: ReportedJob = {
        class: reservation.className,
        args: payload?.args ?? [],
        queue: reservation.queue,
        id: reservation.jobId,
      };
      const context: ErrorContext = {
        workerId: reservation.slotId,
        attempt: attemptOf(payload),
        returns: reservation.returns,
        kind: outcome.kind,
        retry:
          outcome.kind === 'retrying' ? { attempts: outcome.attempts, inMs: outcome.delayMs } : undefined,
        durationMs,
        exception: outcome.failure.exception,
        backtrace: outcome.failure.backtrace,
        payload,
      };
      try {
        const reported = reporter(errorOf(outcome.failure), job, context);
        if (reported && typeof reported.then === 'function') reported.then(undefined, complain);
      } catch (error) {
        complain(error);
      }
    },
  };
}
