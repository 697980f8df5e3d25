import { ResqueError } from '../errors/index.js';
import type { JobStatus } from './record.js';

/** `waitFor`: the job ended without completing (failed or cancelled); `status` is its record. */
export class JobNotCompletedError extends ResqueError {
  constructor(readonly status: JobStatus) {
    const why = status.error ? `: ${status.error.class}: ${status.error.message}` : '';
    super('JOB_NOT_COMPLETED', `Job ${status.id} ${status.state}${why}`);
  }
}

/** `waitFor`: no status record says how the job will end (not tracked, or its record expired); `status` is what is known. */
export class JobNotTrackedError extends ResqueError {
  constructor(readonly status: JobStatus) {
    super(
      'JOB_NOT_TRACKED',
      `Job ${status.id} has no status record (${status.state === 'unknown' ? 'unknown id, or its record expired' : `it is ${status.state}, untracked`}): waitFor needs a job enqueued with status tracking (docs/status.md)`,
    );
  }
}

/** `waitFor` gave up after `timeoutMs`; `status` is the job's record at that moment. */
export class WaitTimeoutError extends ResqueError {
  constructor(
    readonly status: JobStatus,
    readonly timeoutMs: number,
  ) {
    super('WAIT_TIMEOUT', `Job ${status.id} is still ${status.state} after waiting ${timeoutMs} ms`);
  }
}
