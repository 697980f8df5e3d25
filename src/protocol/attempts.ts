import type { JsonValue } from './json.js';
import type { JobPayload } from './payload.js';
import { withRawMember } from './raw-json.js';

/** One failed attempt as a retried payload remembers it (`"errors"`, oldest first). */
export interface AttemptError {
  attempt: number;
  /** As failure records write it: `2026/11/27 22:09:46 UTC`. */
  failed_at: string;
  exception: string;
  error: string;
  backtrace: string[];
}

/** A retried payload keeps the latest this many errors, each message cut to MAX_MESSAGE and MAX_FRAMES frames. */
export const MAX_ERRORS = 10;
const MAX_MESSAGE = 1000;
const MAX_FRAMES = 5;

/** Which attempt running this payload is: `"attempt"`, written when a job is retried; 1 without it. */
export function attemptOf(payload: JobPayload | undefined): number {
  const attempt = payload?.['attempt'];
  return typeof attempt === 'number' && Number.isSafeInteger(attempt) && attempt > 1 ? attempt : 1;
}

/**
 * How many attempts the job has in all, as the worker that filed its retry judged it (`"attempts"`, written with
 * `"attempt"`): what "attempt 2 of 3" shows. Undefined for a job never retried, or one a Ruby process rewrote.
 */
export function attemptsOf(payload: JobPayload | undefined): number | undefined {
  const attempts = payload?.['attempts'];
  return typeof attempts === 'number' && Number.isSafeInteger(attempts) && attempts >= 1
    ? attempts
    : undefined;
}

/** The errors of the attempts before this one, oldest first; entries this release did not write are skipped. */
export function errorHistoryOf(payload: JobPayload | undefined): AttemptError[] {
  const errors = payload?.['errors'];
  if (!Array.isArray(errors)) return [];
  return errors.filter(isAttemptError);
}

function isAttemptError(value: JsonValue): value is JsonValue & AttemptError {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  return (
    typeof value['attempt'] === 'number' &&
    typeof value['failed_at'] === 'string' &&
    typeof value['exception'] === 'string' &&
    typeof value['error'] === 'string' &&
    Array.isArray(value['backtrace'])
  );
}

/** The entry an attempt's failure adds to the history, bounded. */
export function attemptError(
  attempt: number,
  failedAt: string,
  failure: { exception: string; error: string; backtrace: readonly string[] },
): AttemptError {
  const error =
    failure.error.length > MAX_MESSAGE ? `${failure.error.slice(0, MAX_MESSAGE - 1)}…` : failure.error;
  return {
    attempt,
    failed_at: failedAt,
    exception: failure.exception,
    error,
    backtrace: failure.backtrace.slice(0, MAX_FRAMES),
  };
}

/**
 * The queue item of the next attempt, edited from the item's own bytes (Ruby's numbers survive): `"attempt"` one more,
 * `"attempts"` the attempts in all when known, `"errors"` with `entry` appended (the latest MAX_ERRORS), and an
 * `"enqueued_at"` it already has set to when it is due (epoch seconds), so queue latency counts from then. Members are
 * replaced where they are, or appended.
 */
export function nextAttemptItem(
  raw: string,
  payload: JobPayload,
  entry: AttemptError,
  dueMs: number,
  attempts?: number,
): string {
  const errors = [...errorHistoryOf(payload), entry].slice(-MAX_ERRORS);
  let item = withRawMember(raw, 'attempt', String(attemptOf(payload) + 1));
  if (attempts !== undefined) item = withRawMember(item, 'attempts', String(attempts));
  item = withRawMember(item, 'errors', JSON.stringify(errors));
  if (typeof payload.enqueued_at === 'number')
    item = withRawMember(item, 'enqueued_at', String(dueMs / 1000));
  return item;
}
