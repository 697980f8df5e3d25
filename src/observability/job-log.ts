import { enabled, type LogFields, type Logger } from '../logging/logger.js';
import { attemptOf } from '../protocol/attempts.js';
import type { Reservation } from '../worker/fetch/reservation.js';
import { isFailure } from '../worker/outcome.js';
import type { JobWatcher } from './job-observer.js';

/**
 * A log line per job: started at debug, finished (or given back) at info, failed (retried or not) at warn, so that
 * failures show at the default level. Nothing is built for a level that is off.
 */
export function jobLog(logger: Logger): JobWatcher {
  return {
    started(reservation) {
      if (enabled(logger, 'debug')) logger.debug('Job started', jobFields(reservation));
    },
    finished({ reservation, outcome, durationMs }) {
      if (isFailure(outcome)) {
        if (!enabled(logger, 'warn')) return;
        const fields = {
          ...jobFields(reservation),
          outcome: outcome.kind,
          durationMs: roundMs(durationMs),
          exception: outcome.failure.exception,
          error: outcome.failure.error,
        };
        if (outcome.kind === 'retrying')
          logger.warn('Job failed, retrying', {
            ...fields,
            attempts: outcome.attempts,
            retryInMs: outcome.delayMs,
          });
        else logger.warn('Job failed', fields);
        return;
      }
      if (!enabled(logger, 'info')) return;
      const fields = { ...jobFields(reservation), outcome: outcome.kind, durationMs: roundMs(durationMs) };
      if (outcome.kind === 'given-back') logger.info('Job given back', { ...fields, reason: outcome.reason });
      else if (outcome.kind === 'cancelled') logger.info('Job cancelled', fields);
      else logger.info('Job finished', fields);
    },
  };
}

function jobFields(reservation: Reservation): LogFields {
  const { returns } = reservation;
  return {
    class: reservation.className,
    queue: reservation.queue,
    jobId: reservation.jobId,
    attempt: attemptOf(reservation.payload),
    ...(returns > 0 ? { returns } : {}),
    worker: reservation.slotId,
  };
}

const roundMs = (ms: number) => Math.round(ms * 100) / 100;
