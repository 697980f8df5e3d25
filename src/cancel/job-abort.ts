import { isCancelReason } from '../errors/index.js';

/**
 * One job's AbortSignal over the signal its batch shares (the worker aborts a whole batch at once on TERM or USR1,
 * and one controller per batch is cheaper than one per job). A cancel aborts this job alone, so the job's own
 * controller is made, and tied to the batch's, only when the job first reads `signal`: a job that never reads it
 * costs nothing more, and one that does sees both the batch's aborts and its own cancel.
 */
export class JobAbort {
  private own: AbortController | undefined;
  private cancelReason: Error | undefined;
  private abortReason: Error | undefined;

  constructor(private readonly batch: AbortSignal) {}

  get signal(): AbortSignal {
    if (this.own) return this.own.signal;
    const own = new AbortController();
    this.own = own;
    if (this.cancelReason) own.abort(this.cancelReason);
    else if (this.abortReason) own.abort(this.abortReason);
    else if (this.batch.aborted) own.abort(this.batch.reason);
    else this.batch.addEventListener('abort', () => own.abort(this.batch.reason), { once: true });
    return own.signal;
  }

  /** Fires this job's signal (once) with a cancel reason. */
  cancel(reason: Error): void {
    if (this.cancelReason) return;
    this.cancelReason = reason;
    this.own?.abort(reason);
  }

  /**
   * Fires this job's signal (once) with `reason`, as an abort of its batch would, but for this job alone (a supervised
   * child's time limit, `Worker.abortRunning` passed on to it): not a cancel.
   */
  abort(reason: Error): void {
    if (isCancelReason(reason)) {
      this.cancel(reason);
      return;
    }
    if (this.cancelReason || this.abortReason) return;
    this.abortReason = reason;
    this.own?.abort(reason);
  }

  /** Cancelled here, or (in a supervised child) its batch signal fired with a cancel reason. */
  get cancelled(): boolean {
    return this.cancelReason !== undefined || (this.batch.aborted && isCancelReason(this.batch.reason));
  }
}
