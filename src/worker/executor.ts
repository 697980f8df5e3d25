import type { ExecutorStats } from '../fleet/worker-stats.js';
import type { JsonValue } from '../protocol/json.js';
import type { Reservation } from './fetch/reservation.js';
import type { Outcome } from './outcome.js';

/** Receives a running job's progress, already checked to be JSON. */
export type ProgressSink = (reservation: Reservation, value: JsonValue) => void;

/**
 * Where reserved jobs run. The in-process executor (in-process-executor.ts) runs them in the worker's own process;
 * the supervised executor (supervisor/) in warm child processes, behind the same interface. Either way the worker
 * keeps every piece of Redis bookkeeping: an executor only says how each job ended.
 */
export interface Executor {
  /** Jobs it holds at most, which is the worker's number of slots. Default: the worker's `concurrency`. */
  readonly slots?: number;
  /**
   * How many of its slots the worker keeps filled now; default all. A supervisor fills the slots of jobs reserved
   * ahead only while jobs are short.
   */
  slotsWanted?(): number;
  /**
   * Gets ready before the worker registers (the supervised executor starts its children); throws if it cannot, or
   * when `stopping` aborts first (the worker was told to stop during its start-up).
   */
  start?(stopping: AbortSignal): Promise<void>;
  run(reservation: Reservation, signal: AbortSignal): Promise<Outcome>;
  /**
   * The TERM grace period is over: stop whatever still runs and report its outcome, before the worker gives back
   * what is left (the supervised executor kills the children that still hold jobs).
   */
  halt?(): Promise<void>;
  close(): Promise<void>;
  /**
   * `resque.cancel(id)` reached the worker for this running job: fire its own AbortSignal with `reason` (the
   * supervised executor also kills its child if the job has not stopped within `cancelGraceMs`).
   */
  cancel?(reservation: Reservation, reason: Error): void;
  /** The worker stopped taking jobs (USR2, pause-all-workers) or takes them again: a supervisor's children show it. */
  setPaused?(paused: boolean): void;
  /** The worker's process title while jobs run; default `Processing <queue> since <epoch>`. */
  busyTitle?(): string | undefined;
  /** Where the progress of tracked jobs goes (docs/status.md): the worker's status tracker. */
  reportProgressTo?(sink: ProgressSink): void;
  /** What the worker's stats hash shows about where jobs run (children, restarts). */
  stats?(): ExecutorStats;
}
