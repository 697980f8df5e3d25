import { fileURLToPath } from 'node:url';
import { backtraceOf } from '../protocol/failure-record.js';
import type { JsonValue } from '../protocol/json.js';

/** Why a job failed, ready to become a failure record (the payload, queue and worker come from its reservation). */
export interface JobFailure {
  /** The error's class name as Ruby writes it (`exception`). */
  exception: string;
  error: string;
  backtrace: string[];
}

/**
 * How one reservation ended: the one classification the worker, its children, the reaper and the failure store use.
 * What each kind does in Redis is decided in one place, the processor (processor.ts):
 * - `performed`, `skipped` (a before_perform hook said DontPerform): finished, counted as processed.
 * - `failed` (the job threw), `timed-out`, `over-memory`, `dirty-exit` (its process died under it): a failure
 *   record, counted as processed and failed.
 * - `retrying`: any of those failures, with attempts left (docs/retries.md): its retry is scheduled `delayMs` from
 *   now in the same step that takes it out of its slot; counted as processed and failed, no failure record.
 * - `interrupted`: it stopped because the worker was told to stop (TERM): given back, or failed with
 *   `onTermTimeout: 'fail'`.
 * - `given-back`: it did not run to an end through no fault of its own (its child died running another job, the
 *   worker stopped before it started): back to the head of its queue; `countReturn` marks it `"returns":n` when it
 *   may have caused the death, so a job that keeps killing its process is failed after `maxReturns`. With
 *   `rateLimitedMs` the job threw `RateLimited`: it is parked on its rate limit, which is held shut that long.
 * - `cancelled`: `resque.cancel(id)` stopped it (docs/cancel.md): out of its slot, counted in `ts:stat:cancelled`,
 *   no failure record, no retry, not given back.
 */
export type Outcome =
  | {
      readonly kind: 'performed' | 'skipped' | 'cancelled';
      /** What `perform` returned (`performed`), kept only for a job whose status is tracked (docs/status.md). */
      readonly result?: JsonValue;
    }
  | { readonly kind: FailureKind; readonly failure: JobFailure }
  | {
      readonly kind: 'retrying';
      readonly failure: JobFailure;
      readonly delayMs: number;
      /** The attempt that failed, of how many the job has. */
      readonly attempt: number;
      readonly attempts: number;
    }
  | {
      readonly kind: 'given-back';
      readonly reason: string;
      readonly countReturn: boolean;
      readonly rateLimitedMs?: number;
    };

export type FailureKind = 'failed' | 'timed-out' | 'over-memory' | 'dirty-exit' | 'interrupted';

/** A failed attempt, final or to be retried. */
export type FailedOutcome = Extract<Outcome, { failure: JobFailure }>;

export function isFailure(outcome: Outcome): outcome is FailedOutcome {
  return 'failure' in outcome;
}

/** A failure that goes to the failure store: the job will not be tried again. */
export function isFinalFailure(outcome: Outcome): outcome is Extract<Outcome, { kind: FailureKind }> {
  return isFailure(outcome) && outcome.kind !== 'retrying';
}

const INTERNAL_DIR = fileURLToPath(new URL('../', import.meta.url));

/** The error each failure was described from, in this process (kept off the failure, which is written and sent). */
const thrown = new WeakMap<JobFailure, Error>();

/** An error as a failure: its class name (`exception`, overridable), message, and the application's frames. */
export function describeError(error: unknown, exception?: string): JobFailure {
  const cause = error instanceof Error ? error : new Error(String(error));
  const failure = {
    exception: exception ?? (cause.name || cause.constructor.name || 'Error'),
    error: cause.message,
    backtrace: backtraceOf(cause, INTERNAL_DIR),
  };
  thrown.set(failure, cause);
  return failure;
}

/**
 * The error behind a failure: the one the job threw when it failed in this process, else one rebuilt from the
 * record (a supervised child's error crosses to the worker as its class name, message and frames).
 */
export function errorOf(failure: JobFailure): Error {
  const original = thrown.get(failure);
  if (original) return original;
  const error = new Error(failure.error);
  error.name = failure.exception;
  error.stack = [
    `${failure.exception}: ${failure.error}`,
    ...failure.backtrace.map((f) => `    at ${f}`),
  ].join('\n');
  return error;
}

export function failedWith(kind: FailureKind, error: unknown, exception?: string): FailedOutcome {
  return { kind, failure: describeError(error, exception) };
}
