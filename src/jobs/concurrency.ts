// Concurrency limits of a job class (docs/flow-control.md): at most `limit` of its jobs run at once across every
// resque-ts worker, or, with `key`, at most `limit` per key. The key is worked out from the arguments at enqueue and
// travels in the payload (`"concurrency_key"`, a member Ruby ignores), so the reservation script needs no code of
// the application; the limits themselves are written to Redis (`ts:limits`) by workers at start-up.
import { ConfigError, InvalidArgumentsError } from '../errors/index.js';
import type { JsonValue } from '../protocol/json.js';

export interface ConcurrencyLimit<A extends JsonValue[]> {
  /** How many jobs of the class (with `key`: of one key) may run at once; a whole number of 1 or more. */
  limit: number;
  /**
   * The key of a job, from its arguments (`(customerId) => \`customer:${customerId}\``): jobs with the same key share
   * the limit, jobs with different keys do not. Called once per enqueue; it must return a non-empty string (or a
   * finite number) without line breaks, of at most 200 characters.
   */
  key?: (...args: A) => string | number;
}

const MAX_KEY_LENGTH = 200;

/** A limit's key function, as the enqueue calls it. */
export type KeyFunction = (...args: JsonValue[]) => string | number;

/** A limit of a job definition, of a queue, or given to the API: a whole number of 1 or more. */
export function assertLimit(limit: unknown, option: string, where: string): asserts limit is number {
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1)
    throw new ConfigError(
      option,
      `${where}: must be a whole number of 1 or more, got ${describeValue(limit)}`,
    );
}

export function assertConcurrency(value: unknown, className: string): void {
  if (value === undefined) return;
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new ConfigError(
      'concurrency',
      `Job ${className}: expected { limit, key? }, got ${describeValue(value)}`,
    );
  const { limit, key } = value as { limit?: unknown; key?: unknown };
  assertLimit(limit, 'concurrency.limit', `Job ${className}`);
  if (key !== undefined && typeof key !== 'function')
    throw new ConfigError('concurrency.key', `Job ${className}: must be a function of the job's arguments`);
}

/**
 * The concurrency key of one enqueue, or undefined when the class has no keyed limit. Throws InvalidArgumentsError
 * when the key function throws or returns something that cannot be a key, before anything is written.
 */
export function concurrencyKeyOf(
  className: string,
  concurrency: ConcurrencyLimit<JsonValue[]> | undefined,
  args: JsonValue[],
): string | undefined {
  return limitKeyOf('concurrency', className, concurrency?.key as KeyFunction | undefined, args);
}

/** A limit's key from a job's arguments (`what`: which limit, for the message); undefined without a key function. */
export function limitKeyOf(
  what: 'concurrency' | 'rate' | 'tenant' | 'unique',
  className: string,
  keyFunction: KeyFunction | undefined,
  args: JsonValue[],
): string | undefined {
  if (!keyFunction) return undefined;
  let key: unknown;
  try {
    key = keyFunction(...args);
  } catch (error) {
    throw new InvalidArgumentsError(
      'args',
      `give no ${what} key for ${className}: its key function threw ${describeError(error)}`,
      { cause: error },
    );
  }
  const text = typeof key === 'number' && Number.isFinite(key) ? String(key) : key;
  if (typeof text !== 'string' || text === '' || /[\r\n]/.test(text) || text.length > MAX_KEY_LENGTH)
    throw new InvalidArgumentsError(
      'args',
      `give no ${what} key for ${className}: its key function returned ${describeValue(key)} (expected a non-empty string without line breaks, at most ${MAX_KEY_LENGTH} characters)`,
    );
  return text;
}

/** The `ts:limits` field a class's limit is written under: `class:<Class>`, or `key:<Class>` for a keyed limit. */
export function classLimitField(className: string, keyed: boolean): string {
  return `${keyed ? 'key' : 'class'}:${className}`;
}

export function queueLimitField(queue: string): string {
  return `queue:${queue}`;
}

export function describeValue(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  if (value === undefined) return 'undefined';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : describeValue(error);
}
