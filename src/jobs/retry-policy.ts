import { Discard, RetryLater } from '../errors/index.js';

/** A backoff JSON can carry: what `withRetry` puts in a payload, and what a definition may give. */
export type BackoffSpec =
  | { readonly type: 'fixed'; readonly delayMs: number; readonly jitter?: number }
  | {
      readonly type: 'exponential';
      /** The delay after the first failed attempt; each later one is `factor` (default 2) times the one before. */
      readonly delayMs: number;
      readonly factor?: number;
      readonly maxDelayMs?: number;
      readonly jitter?: number;
    };

/** The delay (ms) before the next attempt, from the number of the attempt that failed (1 for the first) and its error. */
export type BackoffFunction = (attempt: number, error: Error) => number;

/** Errors by class name (the error's own, any class it extends, or the failure record's `exception`), or a test. */
export type ErrorMatcher = string | readonly string[] | ((error: Error) => boolean);

/** How a job class retries (`defineJob`). Without `attempts` (1) a failed job is not retried, as in Ruby Resque. */
export interface RetrySettings {
  /** Attempts in all, the first included. Default 1. */
  readonly attempts?: number;
  /** Default: exponential from 1 s, doubling, at most an hour. */
  readonly backoff?: BackoffSpec | BackoffFunction;
  /** Only these errors are retried; others fail the job for good at once. */
  readonly retryOn?: ErrorMatcher;
  /** These errors fail the job for good at once, attempts left or not. */
  readonly discardOn?: ErrorMatcher;
}

/** What one enqueue may change (`withRetry`): carried in the payload's `"retry"` member, so only what JSON carries. */
export interface EnqueueRetry {
  readonly attempts?: number;
  readonly backoff?: BackoffSpec;
}

export const DEFAULT_BACKOFF: BackoffSpec = {
  type: 'exponential',
  delayMs: 1000,
  factor: 2,
  maxDelayMs: 3_600_000,
};

export type RetryVerdict =
  | { readonly retry: true; readonly delayMs: number }
  | { readonly retry: false; readonly why: 'discarded' | 'not retryable' | 'exhausted' };

/**
 * Whether the attempt numbered `attempt` that failed with `error` is tried again, and when. In order: `Discard` and
 * used-up attempts end the job; `RetryLater` picks its own delay; then `discardOn`, `retryOn`, and the backoff.
 * `exception` is the name the failure record gives the error, when it is not the error's own (`Resque::DirtyExit`).
 */
export function decideRetry(
  settings: RetrySettings,
  attempt: number,
  error: Error,
  exception?: string,
  random: () => number = Math.random,
): RetryVerdict {
  if (error instanceof Discard) return { retry: false, why: 'discarded' };
  if (attempt >= (settings.attempts ?? 1)) return { retry: false, why: 'exhausted' };
  if (error instanceof RetryLater) return { retry: true, delayMs: Math.round(error.delayMs) };
  if (settings.discardOn !== undefined && matches(settings.discardOn, error, exception))
    return { retry: false, why: 'discarded' };
  if (settings.retryOn !== undefined && !matches(settings.retryOn, error, exception))
    return { retry: false, why: 'not retryable' };
  return { retry: true, delayMs: backoffDelay(settings.backoff ?? DEFAULT_BACKOFF, attempt, error, random) };
}

/**
 * The delay after failed attempt `attempt`. Jitter `j` (0 to 1) takes a random share of up to `j` off the delay, so
 * jobs that failed together do not all come back together; the cap applies before it.
 */
export function backoffDelay(
  backoff: BackoffSpec | BackoffFunction,
  attempt: number,
  error: Error,
  random: () => number = Math.random,
): number {
  if (typeof backoff === 'function') {
    const ms = backoff(attempt, error);
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0)
      throw new TypeError(`the backoff function returned ${String(ms)}, not a delay in ms`);
    return Math.round(ms);
  }
  let ms = backoff.delayMs;
  if (backoff.type === 'exponential') {
    ms = backoff.delayMs * (backoff.factor ?? 2) ** (attempt - 1);
    if (backoff.maxDelayMs !== undefined) ms = Math.min(ms, backoff.maxDelayMs);
  }
  if (backoff.jitter) ms -= ms * backoff.jitter * random();
  return Math.round(ms);
}

/** Whether `error` is one `matcher` names. */
export function matches(matcher: ErrorMatcher, error: Error, exception?: string): boolean {
  if (typeof matcher === 'function') return matcher(error);
  const names = typeof matcher === 'string' ? [matcher] : matcher;
  const own = classNames(error);
  if (exception !== undefined) own.add(exception);
  return names.some((name) => own.has(name));
}

function classNames(error: Error): Set<string> {
  const names = new Set<string>([error.name]);
  for (let proto = Object.getPrototypeOf(error); proto && proto !== Object.prototype; ) {
    const name = (proto as { constructor?: { name?: unknown } }).constructor?.name;
    if (typeof name === 'string' && name !== '') names.add(name);
    proto = Object.getPrototypeOf(proto);
  }
  return names;
}

/** Throws a TypeError naming `where` and the value unless `settings` is usable. */
export function assertRetrySettings(settings: RetrySettings, where: string): void {
  if (settings.attempts !== undefined) assertAttempts(settings.attempts, where);
  if (settings.backoff !== undefined && typeof settings.backoff !== 'function')
    assertBackoffSpec(settings.backoff, where);
  for (const key of ['retryOn', 'discardOn'] as const) {
    const matcher = settings[key];
    if (matcher === undefined || typeof matcher === 'function' || typeof matcher === 'string') continue;
    if (!Array.isArray(matcher) || !matcher.every((name) => typeof name === 'string'))
      throw new TypeError(`${where}: ${key} must be an error class name, a list of them, or a function`);
  }
}

function assertAttempts(attempts: unknown, where: string): void {
  if (!Number.isSafeInteger(attempts) || (attempts as number) < 1)
    throw new TypeError(`${where}: attempts must be a whole number of 1 or more, got ${String(attempts)}`);
}

export function assertBackoffSpec(spec: unknown, where: string): asserts spec is BackoffSpec {
  const fail = (why: string): never => {
    throw new TypeError(`${where}: backoff ${why}, got ${JSON.stringify(spec)}`);
  };
  if (spec === null || typeof spec !== 'object') return fail('must be { type, delayMs, … } or a function');
  const s = spec as Record<string, unknown>;
  if (s['type'] !== 'fixed' && s['type'] !== 'exponential') fail('type must be "fixed" or "exponential"');
  const nonNegative = (key: string) => {
    const v = s[key];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < 0))
      fail(`${key} must be a number of 0 or more`);
  };
  if (s['delayMs'] === undefined) fail('needs delayMs');
  for (const key of ['delayMs', 'maxDelayMs', 'factor']) nonNegative(key);
  const jitter = s['jitter'];
  if (jitter !== undefined && (typeof jitter !== 'number' || !(jitter >= 0 && jitter <= 1)))
    fail('jitter must be between 0 and 1');
  const allowed =
    s['type'] === 'fixed'
      ? ['type', 'delayMs', 'jitter']
      : ['type', 'delayMs', 'factor', 'maxDelayMs', 'jitter'];
  const unknown = Object.keys(s).find((key) => !allowed.includes(key));
  if (unknown !== undefined) fail(`has no option ${JSON.stringify(unknown)}`);
}

/** Throws a TypeError unless `retry` is what one enqueue may carry. */
export function assertEnqueueRetry(retry: EnqueueRetry, where: string): void {
  if (retry === null || typeof retry !== 'object')
    throw new TypeError(`${where}: expected { attempts, backoff }`);
  const unknown = Object.keys(retry).find((key) => key !== 'attempts' && key !== 'backoff');
  if (unknown !== undefined)
    throw new TypeError(`${where}: no retry option ${JSON.stringify(unknown)} per enqueue`);
  if (retry.attempts !== undefined) assertAttempts(retry.attempts, where);
  if (typeof retry.backoff === 'function')
    throw new TypeError(
      `${where}: backoff per enqueue must be { type, delayMs, … }, which the payload carries, not a function (give a backoff function on defineJob)`,
    );
  if (retry.backoff !== undefined) assertBackoffSpec(retry.backoff, where);
}

/** The `"retry"` member of a payload, if it is one this release understands; anything else is ignored. */
export function enqueueRetryOf(value: unknown): EnqueueRetry | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  try {
    assertEnqueueRetry(value as EnqueueRetry, 'retry');
    return value as EnqueueRetry;
  } catch {
    return undefined;
  }
}
