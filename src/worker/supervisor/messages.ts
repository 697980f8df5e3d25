// The IPC contract between a supervised worker and its children: one discriminated union each way, shared by
// both sides (child.ts sends FromChild and receives ToChild; child-handle.ts the reverse).
import type { JsonValue } from '../../protocol/json.js';
import type { ReservationData } from '../fetch/reservation.js';
import type { Outcome } from '../outcome.js';

/** An Error as it crosses the process boundary. */
export interface WireError {
  name: string;
  message: string;
  stack: string | undefined;
}

/** A job's outcome, sent back with the reservation it answers. Outcomes are plain data: they cross as they are. */
export interface JobResult {
  slotId: string;
  token: string;
  outcome: Outcome;
}

/**
 * Supervisor → child. Jobs travel in batches both ways (all the jobs one reservation gave a child, all the results
 * of one turn of the child's event loop): one write and one wake-up per batch instead of per job.
 */
export type ToChild =
  /** First message: load these modules (absolute paths), then answer `ready` or `init-failed`. */
  | {
      type: 'init';
      modules: string[];
      /** Process-title prefix, or null to leave titles alone. */
      proclinePrefix: string | null;
      /** Queue list shown in the idle title (`Waiting for <queues>`). */
      queues: string;
      /** Jobs it runs at once: with more than one it tracks which job's code runs, to blame the right one. */
      concurrency: number;
      /** Trace each job it performs (observability/tracing.ts): the child loads `@opentelemetry/api` itself. */
      tracing: boolean;
    }
  /** Run these reserved jobs (those beyond its concurrency wait in the child, in order); answer with `results`. */
  | { type: 'run'; jobs: ReservationData[] }
  /** The job ran past its time limit: fire its AbortSignal with a JobTimeoutError. */
  | { type: 'timeout'; slotId: string; token: string; timeoutMs: number }
  /** Take no more jobs (none will come), finish the running ones, then exit 0. */
  | { type: 'drain'; reason: string }
  /** Spare promoted or not: changes only the idle title. */
  | { type: 'role'; spare: boolean }
  /** The worker stopped taking jobs (USR2, pause-all-workers) or takes them again: changes only the idle title. */
  | { type: 'paused'; paused: boolean }
  /**
   * `Worker.abortRunning` with a reason of the application's: fire the job's AbortSignal with it (an Error of the
   * same name and message), as the in-process executor does.
   */
  | { type: 'abort'; slotId: string; token: string; reason: WireError };

/** Child → supervisor. */
export type FromChild =
  | { type: 'ready'; pid: number; jobClasses: number }
  | { type: 'init-failed'; error: WireError }
  /** A tracked job's `ctx.progress` (checked to be JSON in the child); the supervisor writes it. */
  | { type: 'progress'; slotId: string; token: string; value: JsonValue }
  /**
   * The jobs that ended since the last report, and the jobs the child starts next (`started`): a job is named in a
   * report sent before it starts, so one the supervisor never heard of as started was never run and goes back to its
   * queue untouched if the child dies. A child holds up to twice its concurrency (jobs reserved ahead wait in it), so
   * the end of one job and the start of the next travel in one message. `rssBytes` rides along at most every half
   * second where the supervisor cannot read /proc.
   */
  | { type: 'results'; results: JobResult[]; started: string[]; rssBytes?: number }
  /** A job called process.exit(code): the child is about to exit; `slotId` names the job when known. Results
   * that were waiting to be sent go first. */
  | { type: 'exiting'; slotId: string | undefined; code: number }
  /** An uncaught exception or unhandled rejection: the child is about to exit 1; `slotId` as above. */
  | { type: 'crash'; slotId: string | undefined; error: WireError };

export function toWireError(error: unknown): WireError {
  const e = error instanceof Error ? error : new Error(String(error));
  return { name: e.name || 'Error', message: e.message, stack: e.stack };
}

export function fromWireError(wire: WireError): Error {
  const error = new Error(wire.message);
  error.name = wire.name;
  error.stack = wire.stack ?? `${wire.name}: ${wire.message}`;
  return error;
}

export function isFromChild(message: unknown): message is FromChild {
  return typeof message === 'object' && message !== null && typeof (message as FromChild).type === 'string';
}

export function isToChild(message: unknown): message is ToChild {
  return typeof message === 'object' && message !== null && typeof (message as ToChild).type === 'string';
}
