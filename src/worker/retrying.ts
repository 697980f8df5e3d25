import type { JobDefinition } from '../jobs/define.js';
import { decideRetry, enqueueRetryOf, type RetrySettings } from '../jobs/retry-policy.js';
import { attemptOf } from '../protocol/attempts.js';
import type { JobPayload } from '../protocol/payload.js';
import type { FailureKind, JobFailure, Outcome } from './outcome.js';

/** Failures that may be retried; an interrupted job (TERM) goes back to its queue or fails, as the worker is told. */
export type RetryableKind = Exclude<FailureKind, 'interrupted'>;

/**
 * What a failed attempt becomes: `retrying` when the job's retry settings (its definition's, with the enqueue's
 * `"retry"` options over them) give it another attempt, else the failure itself, for good. It is decided where the
 * error is: the process that ran the job for its own errors (a `retryOn` test sees the real error), the supervisor
 * for a child's death or time limit. `failure` is what is recorded, `cause` what the settings judge.
 */
export function afterFailedAttempt(
  kind: RetryableKind,
  failure: JobFailure,
  cause: Error,
  definition: JobDefinition | undefined,
  payload: JobPayload | undefined,
): Outcome {
  if (!definition || !payload) return { kind, failure };
  const settings = retrySettingsOf(definition, payload);
  const attempts = settings.attempts ?? 1;
  const attempt = attemptOf(payload);
  try {
    const verdict = decideRetry(settings, attempt, cause, failure.exception);
    if (!verdict.retry) return { kind, failure };
    return { kind: 'retrying', failure, delayMs: verdict.delayMs, attempt, attempts };
  } catch (error) {
    // A retryOn or discardOn test, or a backoff function, that throws: the job fails for good, saying why.
    const why = error instanceof Error ? error.message : String(error);
    return { kind, failure: { ...failure, error: `${failure.error} (not retried: ${why})` } };
  }
}

/** A job's retry settings: its definition's, with the options its enqueue carried (`withRetry`) over them. */
export function retrySettingsOf(definition: JobDefinition, payload: JobPayload): RetrySettings {
  const own: RetrySettings = {
    attempts: definition.attempts,
    backoff: definition.backoff,
    retryOn: definition.retryOn,
    discardOn: definition.discardOn,
  };
  const enqueued = enqueueRetryOf(payload.retry);
  if (!enqueued) return own;
  return {
    ...own,
    ...(enqueued.attempts !== undefined ? { attempts: enqueued.attempts } : {}),
    ...(enqueued.backoff !== undefined ? { backoff: enqueued.backoff } : {}),
  };
}
