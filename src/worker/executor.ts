import { fileURLToPath } from 'node:url';
import { UnknownJobClassError } from '../errors/index.js';
import { performJob } from '../jobs/perform.js';
import type { JobRegistry } from '../jobs/registry.js';
import { backtraceOf } from '../protocol/failure-record.js';
import type { JsonValue } from '../protocol/json.js';
import { decodePayload, type JobPayload } from '../protocol/payload.js';
import type { ExecutorStats } from '../registry/worker-stats.js';

/** A job a worker slot holds: what the reservation script returned. */
export interface ReservedJob {
  readonly slotId: string;
  /** Identifies this reservation of the slot; finishing or returning the job checks it. */
  readonly token: string;
  readonly queue: string;
  /** The queue item's exact bytes. */
  readonly raw: string;
}

/** Why and how a job failed, ready to become a failure record. */
export interface JobFailure {
  exception: string;
  error: string;
  backtrace: string[];
  /** Decoded payload, or null when the item was not a JSON object. */
  payload: JsonValue;
  /** The item's bytes when it is a JSON object (spliced into the record untouched). */
  rawPayload: string | undefined;
  /** Fields after Ruby's: `raw` for an item that was not JSON. */
  extra?: Record<string, JsonValue>;
}

export type ExecutionResult =
  | { kind: 'performed'; className: string }
  | { kind: 'skipped'; className: string }
  | { kind: 'failed'; className: string; failure: JobFailure; cause: Error }
  /**
   * The job did not run to an end through no fault of its own (its child died while running another job): it goes
   * back to the head of its queue. `countReturn` marks it `"returns":n`, as the reaper does, when it may be the
   * culprit, so a job that keeps killing its children is quarantined after `maxReturns`.
   */
  | { kind: 'returned'; className: string; reason: string; countReturn: boolean };

/**
 * Runs reserved jobs. The in-process executor below runs them in the worker's own process; the supervised executor
 * (./supervisor/) runs them in child processes behind the same interface.
 */
export interface Executor {
  /** Jobs it runs at once, which is the worker's number of slots. Default: the worker's `concurrency`. */
  readonly slots?: number;
  /** Gets ready before the worker registers (the supervised executor starts its children); throws if it cannot. */
  start?(): Promise<void>;
  run(job: ReservedJob, workerId: string, signal: AbortSignal): Promise<ExecutionResult>;
  /**
   * The TERM grace period is over: stop whatever still runs and settle its results, before the worker gives back
   * what is left (the supervised executor kills the children that still hold jobs).
   */
  halt?(): Promise<void>;
  close(): Promise<void>;
  /** The worker stopped taking jobs (USR2, pause-all-workers) or takes them again: a supervisor's children show it. */
  setPaused?(paused: boolean): void;
  /** The worker's process title while jobs run; default `Processing <queue> since <epoch>`. */
  busyTitle?(): string | undefined;
  /** What the worker's stats hash shows about where jobs run (children, restarts). */
  stats?(): ExecutorStats;
}

const INTERNAL_DIR = fileURLToPath(new URL('../', import.meta.url));

/** Turns an error into the parts of a failure record (exception = the error's class name, as Ruby writes it). */
export function describeFailure(error: Error, raw: string, payload: JobPayload | undefined): JobFailure {
  return {
    exception: error.name || error.constructor.name || 'Error',
    error: error.message,
    backtrace: backtraceOf(error, INTERNAL_DIR),
    payload: (payload ?? null) as JsonValue,
    rawPayload: payload ? raw : undefined,
    ...(payload ? {} : { extra: { raw } }),
  };
}

export class InProcessExecutor implements Executor {
  constructor(private readonly jobs: JobRegistry) {}

  async run(job: ReservedJob, workerId: string, signal: AbortSignal): Promise<ExecutionResult> {
    let payload: JobPayload | undefined;
    try {
      payload = decodePayload(job.raw);
    } catch (error) {
      return {
        kind: 'failed',
        className: '(malformed payload)',
        failure: describeFailure(error as Error, job.raw, undefined),
        cause: error as Error,
      };
    }
    const definition = this.jobs.resolve(payload.class);
    if (!definition) {
      const error = new UnknownJobClassError(payload.class);
      return {
        kind: 'failed',
        className: payload.class,
        failure: describeFailure(error, job.raw, payload),
        cause: error,
      };
    }
    const context = {
      id: typeof payload.id === 'string' ? payload.id : undefined,
      queue: job.queue,
      className: payload.class,
      attempt: 1 + (typeof payload.returns === 'number' ? payload.returns : 0),
      signal,
      workerId,
      payload,
    };
    try {
      const outcome = await performJob(definition, context, payload.args);
      return { kind: outcome, className: payload.class };
    } catch (error) {
      const cause = error instanceof Error ? error : new Error(String(error));
      return {
        kind: 'failed',
        className: payload.class,
        failure: describeFailure(cause, job.raw, payload),
        cause,
      };
    }
  }

  async close(): Promise<void> {}
}
