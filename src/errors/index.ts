/**
 * Named errors with stable `code`s. Callers switch on `code` (or `instanceof`), never on message text.
 */
import { EXCEPTION } from './exception-names.js';

export type ResqueErrorCode =
  | 'CONFIG_INVALID'
  | 'INVALID_ARGUMENTS'
  | 'INVALID_QUEUE_NAME'
  | 'INVALID_CLASS_NAME'
  | 'NO_QUEUE'
  | 'REDIS_CONNECTION'
  | 'MALFORMED_PAYLOAD'
  | 'UNKNOWN_JOB_CLASS'
  | 'DONT_PERFORM'
  | 'RETRY_LATER'
  | 'RATE_LIMITED'
  | 'DISCARD'
  | 'DIRTY_EXIT'
  | 'JOB_TIMEOUT'
  | 'MEMORY_LIMIT'
  | 'TERM'
  | 'REDIS_NOT_INSTALLED'
  | 'NOT_REPLICATED'
  | 'FAILURE_NOT_FOUND'
  | 'FAILURE_NOT_RETRYABLE'
  | 'QUEUE_NOT_FOUND'
  | 'REDIS_UNSAFE'
  | 'INVALID_TIME'
  | 'INVALID_SCHEDULE'
  | 'DUPLICATE_SCHEDULE'
  | 'INVALID_JOB_ID'
  | 'JOB_CANCELLED'
  | 'JOB_NOT_COMPLETED'
  | 'JOB_NOT_TRACKED'
  | 'WAIT_TIMEOUT'
  | 'INVALID_MIGRATION'
  | 'MIGRATION_MISMATCH'
  | 'MODULE_LOAD';

export class ResqueError extends Error {
  readonly code: ResqueErrorCode;

  constructor(code: ResqueErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** An option or environment variable has a value we cannot use; `option` names it. */
export class ConfigError extends ResqueError {
  constructor(
    readonly option: string,
    message: string,
  ) {
    super('CONFIG_INVALID', `Invalid option "${option}": ${message}`);
  }
}

/** Job arguments that JSON cannot carry exactly; `path` points at the offending value, e.g. `args[1].when`. */
export class InvalidArgumentsError extends ResqueError {
  constructor(
    readonly path: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super('INVALID_ARGUMENTS', `Job argument ${path} ${reason}`, options);
  }
}

export class InvalidQueueNameError extends ResqueError {
  constructor(
    readonly queue: unknown,
    readonly reason: string,
  ) {
    super('INVALID_QUEUE_NAME', `Invalid queue name ${JSON.stringify(String(queue))}: ${reason}`);
  }
}

export class InvalidClassNameError extends ResqueError {
  constructor(
    readonly className: unknown,
    reason: string,
  ) {
    super('INVALID_CLASS_NAME', `Invalid job class name ${JSON.stringify(String(className))}: ${reason}`);
  }
}

/** Resque's NoQueueError: a job without a queue was enqueued with `enqueue` rather than `enqueueTo`. */
export class NoQueueError extends ResqueError {
  constructor(message: string) {
    super('NO_QUEUE', message);
  }
}

export class RedisConnectionError extends ResqueError {
  /** `advice`: what to change, appended as a sentence (e.g. for the default address: set REDIS_URL). */
  constructor(
    readonly target: string,
    cause: unknown,
    advice?: string,
  ) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super('REDIS_CONNECTION', `Cannot reach Redis at ${target}: ${why}${advice ? `. ${advice}` : ''}`, {
      cause,
    });
  }
}

/** A queue item that is not a Resque job: not JSON, not an object, no class, args not an array. */
export class MalformedPayloadError extends ResqueError {
  constructor(
    reason: string,
    readonly raw: string,
  ) {
    super('MALFORMED_PAYLOAD', `Malformed job payload: ${reason}: ${truncate(raw, 200)}`);
  }
}

export class UnknownJobClassError extends ResqueError {
  constructor(readonly className: string) {
    super(
      'UNKNOWN_JOB_CLASS',
      `uninitialized constant ${className} (no job class "${className}" is registered)`,
    );
  }
}

/** Thrown by a before_perform hook to skip the job quietly (Resque::Job::DontPerform). */
export class DontPerform extends ResqueError {
  constructor(message = 'DontPerform') {
    super('DONT_PERFORM', message);
  }
}

/**
 * Thrown by a job to end this attempt and run again `delayMs` from now, whatever its backoff, `retryOn` and
 * `discardOn` say. It is a failed attempt like any other (counted, `on_failure` hooks run), and the job's `attempts`
 * still bound it: on the last attempt the job fails for good with this error (docs/retries.md).
 */
export class RetryLater extends ResqueError {
  constructor(
    readonly delayMs: number,
    message?: string,
    options?: { cause?: unknown },
  ) {
    if (!Number.isFinite(delayMs) || delayMs < 0)
      throw new TypeError(`RetryLater needs a delay of 0 ms or more, got ${String(delayMs)}`);
    super('RETRY_LATER', message ?? `Retry requested in ${delayMs} ms`, options);
  }
}

/**
 * Thrown by a job to say its rate limit is used up for `delayMs` (an API answered 429, say): the job is given back,
 * not failed, and uses no attempt; it is parked on its rate limit (per key, else its class's, else its queue's), and
 * that limit starts no job until `delayMs` has passed (docs/flow-control.md). No on_failure hook runs.
 */
export class RateLimited extends ResqueError {
  constructor(
    readonly delayMs: number,
    message?: string,
  ) {
    if (!Number.isFinite(delayMs) || delayMs < 1)
      throw new TypeError(`RateLimited needs a delay of 1 ms or more, got ${String(delayMs)}`);
    super('RATE_LIMITED', message ?? `Rate limited for ${delayMs} ms`);
  }
}

/** Thrown by a job to fail for good now: no attempt is left to it, whatever its `attempts` (docs/retries.md). */
export class Discard extends ResqueError {
  constructor(message = 'Discarded by the job', options?: { cause?: unknown }) {
    super('DISCARD', message, options);
  }
}

/** A job whose process went away under it; `exception` is the name written to the failure record. */
export class DirtyExit extends ResqueError {
  constructor(
    message: string,
    readonly exception: string = EXCEPTION.dirtyExit,
  ) {
    super('DIRTY_EXIT', message);
  }
}

/** A job ran past its time limit; `detail` says what happened next (it stopped, or its child was killed). */
export class JobTimeoutError extends ResqueError {
  constructor(
    readonly timeoutMs: number,
    detail?: string,
  ) {
    super('JOB_TIMEOUT', `Job exceeded its timeout of ${timeoutMs} ms${detail ? `; ${detail}` : ''}`);
  }
}

/** A supervised child passed the hard memory limit and was killed with the job it was running. */
export class MemoryLimitError extends ResqueError {
  constructor(
    readonly rssMb: number,
    readonly limitMb: number,
    detail: string,
  ) {
    super(
      'MEMORY_LIMIT',
      `Child process used ${rssMb} MB, past the hard memory limit of ${limitMb} MB; ${detail}`,
    );
  }
}

/** Raised inside a running job's signal when the worker is told to terminate (Resque::TermException). */
export class TermException extends ResqueError {
  constructor(readonly signal: string) {
    super('TERM', `Worker received ${signal}`);
  }
}

/** A durable enqueue (`waitForReplicas`) that fewer replicas than asked confirmed in time. */
export class NotReplicatedError extends ResqueError {
  constructor(
    readonly wanted: number,
    readonly confirmed: number,
    timeoutMs: number,
  ) {
    super(
      'NOT_REPLICATED',
      `The job is on the primary but only ${confirmed} of ${wanted} replica(s) confirmed it within ${timeoutMs} ms; ` +
        'a failover now could lose it',
    );
  }
}

export class RedisNotInstalledError extends ResqueError {
  constructor() {
    super(
      'REDIS_NOT_INSTALLED',
      'redis-server is not installed and no Redis is configured. Install it with `sudo apt-get install -y redis-server` ' +
        '(Debian/Ubuntu) or `brew install redis` (macOS), or point REDIS_URL at a running Redis.',
    );
  }
}

/**
 * No failure answers to this id any more: it was removed, cleared, or changed beyond recognition, or the id is not
 * one resque-ts issued. Nothing was done.
 */
export class FailureNotFoundError extends ResqueError {
  constructor(
    readonly id: string,
    reason = 'it was removed or changed since the id was read',
  ) {
    super('FAILURE_NOT_FOUND', `No failure ${JSON.stringify(id)}: ${reason}`);
  }
}

/** The failure cannot be retried: its payload has no class/args or its record names no queue. */
export class FailureNotRetryableError extends ResqueError {
  constructor(
    readonly id: string,
    reason: string,
  ) {
    super('FAILURE_NOT_RETRYABLE', `Failure ${JSON.stringify(id)} cannot be retried: ${reason}`);
  }
}

/** The queue is neither in the `queues` set nor a list in Redis. */
export class QueueNotFoundError extends ResqueError {
  constructor(readonly queue: string) {
    super('QUEUE_NOT_FOUND', `No queue ${JSON.stringify(queue)}`);
  }
}

/**
 * A worker with `refuseUnsafeRedis` found Redis set up so that it can lose jobs (an evicting `maxmemory-policy`, no
 * persistence) and did not start; `risks` says which (api/redis-safety.ts).
 */
export class RedisUnsafeError extends ResqueError {
  constructor(readonly risks: ReadonlyArray<{ code: string; message: string }>) {
    super(
      'REDIS_UNSAFE',
      `Refusing to start (refuseUnsafeRedis): ${risks.map((risk) => risk.message).join('; ')}`,
    );
  }
}

/**
 * An application module (`resque work --require`) threw while it was loaded: its error and where, in one line; the
 * original error is the `cause`.
 */
export class ModuleLoadError extends ResqueError {
  constructor(
    readonly path: string,
    cause: unknown,
  ) {
    super('MODULE_LOAD', `Cannot load ${path}: ${describeLoadError(cause)}`, { cause });
  }
}

/** `SyntaxError: Unexpected token ';'`, with the first place in an application file its stack names. */
function describeLoadError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const what = `${error.name}: ${error.message.split('\n')[0]}`;
  const frame = (error.stack ?? '')
    .split('\n')
    .map((line) => /^\s+at (?:.*\()?((?:file:\/\/)?\/[^)\s]+:\d+:\d+)\)?$/.exec(line)?.[1])
    .find((place) => place !== undefined && !place.includes('/node_modules/'));
  return frame ? `${what} (at ${frame})` : what;
}

/** A due date or delay that cannot be scheduled (invalid date, negative or non-finite delay); nothing was written. */
export class InvalidTimeError extends ResqueError {
  constructor(
    readonly value: unknown,
    reason: string,
  ) {
    super('INVALID_TIME', `Invalid ${reason}: ${describeValue(value)}`);
  }
}

/** A recurring schedule that cannot run (bad cron string, unknown time zone, bad interval…); `schedule` names it. */
export class InvalidScheduleError extends ResqueError {
  constructor(
    readonly schedule: string,
    reason: string,
  ) {
    super('INVALID_SCHEDULE', `Invalid schedule ${JSON.stringify(schedule)}: ${reason}`);
  }
}

/** A schedule name defined twice where names must be unique; nothing was written. */
export class DuplicateScheduleError extends ResqueError {
  constructor(readonly schedule: string) {
    super('DUPLICATE_SCHEDULE', `Schedule ${JSON.stringify(schedule)} is defined more than once`);
  }
}

function describeValue(value: unknown): string {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (typeof value === 'string') return JSON.stringify(value);
  return String(value);
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** A job id that cannot name a job to cancel (see cancel/job-id-check.ts for what an id may hold). */
export class InvalidJobIdError extends ResqueError {
  constructor(readonly id: unknown) {
    super(
      'INVALID_JOB_ID',
      `Invalid job id ${JSON.stringify(String(id))}: expected 1 to 128 letters, digits or "_.:-"`,
    );
  }
}

/**
 * The reason a cancelled job's AbortSignal fires (`resque.cancel(id)`). A job that stops by throwing after it is
 * recorded as cancelled, not failed: no failure record, no retry, no on_failure hooks.
 */
export class JobCancelled extends ResqueError {
  constructor(readonly jobId: string) {
    super('JOB_CANCELLED', `Job ${jobId} was cancelled`);
  }
}

/** Whether an abort reason is a cancel: a JobCancelled here, or one rebuilt by name in a child process. */
export function isCancelReason(reason: unknown): boolean {
  return reason instanceof JobCancelled || (reason instanceof Error && reason.name === 'JobCancelled');
}
