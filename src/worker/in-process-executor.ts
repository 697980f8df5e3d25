import { RateLimited, UnknownJobClassError } from '../errors/index.js';
import type { JobContext } from '../jobs/define.js';
import { FailureHookError, performJob } from '../jobs/perform.js';
import type { JobRegistry } from '../jobs/registry.js';
import { attemptOf } from '../protocol/attempts.js';
import type { Executor } from './executor.js';
import type { Reservation } from './fetch/reservation.js';
import { describeError, failedWith, type Outcome } from './outcome.js';
import { afterFailedAttempt } from './retrying.js';

/** Runs jobs in this process: the worker's own with `isolation: 'none'`, or a supervised child's. */
export class InProcessExecutor implements Executor {
  constructor(private readonly jobs: JobRegistry) {}

  async run(reservation: Reservation, signal: AbortSignal): Promise<Outcome> {
    const payload = reservation.payload;
    if (!payload) return failedWith('failed', reservation.decodeError);
    const definition = this.jobs.resolve(payload.class);
    if (!definition) return failedWith('failed', new UnknownJobClassError(payload.class));
    const context: JobContext = {
      id: reservation.jobId,
      queue: reservation.queue,
      className: payload.class,
      attempt: attemptOf(payload),
      returns: reservation.returns,
      signal,
      workerId: reservation.slotId,
      payload,
    };
    try {
      return { kind: await performJob(definition, context, payload.args) };
    } catch (error) {
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
  }

  async close(): Promise<void> {}
}
