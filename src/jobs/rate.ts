// Rate limits of a job class (docs/flow-control.md): at most `limit` of its jobs start in any window of `windowMs`
// across every resque-ts worker, or, with `key`, at most `limit` per key. As with concurrency limits the key is
// worked out from the arguments at enqueue and travels in the payload (`"rate_key"`, a member Ruby ignores), and the
// limits themselves are written to Redis (`ts:rate-limits`) by workers at start-up.
import { ConfigError } from '../errors/index.js';
import type { JsonValue } from '../protocol/json.js';
import { assertLimit, describeValue, type KeyFunction, limitKeyOf } from './concurrency.js';

export interface RateLimit<A extends JsonValue[]> {
  /** How many jobs of the class (with `key`: of one key) may start in one window; a whole number of 1 or more. */
  limit: number;
  /** The window, in ms: a whole number of 1 or more. No window of this length ever sees more than `limit` starts. */
  windowMs: number;
  /**
   * The key of a job, from its arguments: jobs with the same key share the limit. Same rules as a concurrency key: a
   * non-empty string (or a finite number) without line breaks, of at most 200 characters.
   */
  key?: (...args: A) => string | number;
}

/** A rate limit's window: a whole number of milliseconds, 1 or more. */
export function assertWindow(windowMs: unknown, option: string, where: string): asserts windowMs is number {
  if (typeof windowMs !== 'number' || !Number.isSafeInteger(windowMs) || windowMs < 1)
    throw new ConfigError(
      option,
      `${where}: must be a whole number of milliseconds, 1 or more, got ${describeValue(windowMs)}`,
    );
}

export function assertRate(value: unknown, className: string): void {
  if (value === undefined) return;
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new ConfigError(
      'rate',
      `Job ${className}: expected { limit, windowMs, key? }, got ${describeValue(value)}`,
    );
  const { limit, windowMs, key } = value as { limit?: unknown; windowMs?: unknown; key?: unknown };
  assertLimit(limit, 'rate.limit', `Job ${className}`);
  assertWindow(windowMs, 'rate.windowMs', `Job ${className}`);
  if (key !== undefined && typeof key !== 'function')
    throw new ConfigError('rate.key', `Job ${className}: must be a function of the job's arguments`);
}

/** The rate key of one enqueue, or undefined when the class has no keyed rate limit (see concurrencyKeyOf). */
export function rateKeyOf(
  className: string,
  rate: RateLimit<JsonValue[]> | undefined,
  args: JsonValue[],
): string | undefined {
  return limitKeyOf('rate', className, rate?.key as KeyFunction | undefined, args);
}

/** How a rate limit is written in `ts:rate-limits`: `"<limit> <windowMs>"`. */
export function rateValue(limit: number, windowMs: number): string {
  return `${limit} ${windowMs}`;
}

/** A `ts:rate-limits` value read back. */
export function parseRateValue(value: string): { limit: number; windowMs: number } {
  const [limit, windowMs] = value.split(' ').map(Number);
  return { limit: limit ?? Number.NaN, windowMs: windowMs ?? Number.NaN };
}
