/**
 * The `exception` names resque-ts writes into failure records for failures it decides itself (a job's own errors
 * are written under their class name). Ruby's names where Ruby has the same failure, so resque-web and Ruby's
 * failure backends group them with Ruby's own.
 */
export const EXCEPTION = {
  /** The job's process went away under it (a child killed or crashed; USR1 in a supervised worker). */
  dirtyExit: 'Resque::DirtyExit',
  /** A dead Ruby worker's job, failed by the reaper as Ruby's pruner does. */
  pruneDeadWorker: 'Resque::PruneDeadWorkerDirtyExit',
  /** The job was still running when the worker's TERM grace period ended. */
  term: 'Resque::TermException',
  jobTimeout: 'JobTimeoutError',
  memoryLimit: 'MemoryLimitError',
} as const;
