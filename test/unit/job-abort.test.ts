import { describe, expect, it } from 'vitest';
import { JobAbort } from '../../src/cancel/job-abort.js';
import { isCancelReason, JobCancelled, TermException } from '../../src/errors/index.js';

describe('JobAbort: one job’s signal over its batch’s', () => {
  it('fires for a cancel of this job only, whether read before or after', () => {
    const batch = new AbortController();
    const early = new JobAbort(batch.signal);
    const late = new JobAbort(batch.signal);
    const other = new JobAbort(batch.signal);
    const signal = early.signal;
    early.cancel(new JobCancelled('a'));
    late.cancel(new JobCancelled('b'));
    expect(signal.aborted).toBe(true);
    expect(isCancelReason(signal.reason)).toBe(true);
    expect(late.signal.aborted).toBe(true);
    expect((late.signal.reason as JobCancelled).jobId).toBe('b');
    expect(other.signal.aborted).toBe(false);
    expect([early.cancelled, late.cancelled, other.cancelled]).toEqual([true, true, false]);
  });

  it("follows the batch's abort (TERM, USR1), which is not a cancel", () => {
    const batch = new AbortController();
    const read = new JobAbort(batch.signal);
    const signal = read.signal;
    batch.abort(new TermException('SIGTERM'));
    expect(signal.aborted).toBe(true);
    expect(new JobAbort(batch.signal).signal.reason).toBeInstanceOf(TermException);
    expect(read.cancelled).toBe(false);
  });

  it('counts a batch signal aborted with a cancel reason rebuilt by name (a supervised child’s)', () => {
    const batch = new AbortController();
    const reason = new Error('Job x was cancelled');
    reason.name = 'JobCancelled';
    batch.abort(reason);
    expect(new JobAbort(batch.signal).cancelled).toBe(true);
  });

  it("aborts this job alone with a reason that is not a cancel (a child's time limit), read before or after", () => {
    const batch = new AbortController();
    const early = new JobAbort(batch.signal);
    const late = new JobAbort(batch.signal);
    const other = new JobAbort(batch.signal);
    const signal = early.signal;
    const reason = new Error('too slow');
    early.abort(reason);
    late.abort(reason);
    early.abort(new Error('a second reason is ignored'));
    expect(signal.reason).toBe(reason);
    expect(late.signal.reason).toBe(reason);
    expect(other.signal.aborted).toBe(false);
    expect([early.cancelled, late.cancelled]).toEqual([false, false]);
  });

  it('an abort with a cancel reason rebuilt by name is a cancel', () => {
    const job = new JobAbort(new AbortController().signal);
    const reason = new Error('Job x was cancelled');
    reason.name = 'JobCancelled';
    job.abort(reason);
    expect(job.cancelled).toBe(true);
    expect(job.signal.reason).toBe(reason);
  });
});
