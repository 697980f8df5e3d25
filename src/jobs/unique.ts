// Unique jobs (docs/unique-jobs.md): a job class whose jobs hold a lock, one per unique key, so that no second job
// with the same key is enqueued (while the first is queued, or until it is finished) or runs at the same time. The
// key is worked out at enqueue and travels in the payload (`"unique"`, a member Ruby ignores) with the mode and the
// lock's TTL, so the scripts that reserve and end jobs take and release the lock without code of the application.
import { createHash } from 'node:crypto';
import { stringify } from 'safe-stable-stringify';
import { ConfigError } from '../errors/index.js';
import type { JsonObject, JsonValue } from '../protocol/json.js';
import { describeValue, type KeyFunction, limitKeyOf } from './concurrency.js';

/**
 * - `while-queued`: from enqueue until a worker starts the job (a delayed job counts as queued).
 * - `until-finished`: from enqueue until its final outcome (success, final failure, discard); held across retries
 *   and across give-backs after a crash.
 * - `while-running`: from start to end of a run; a duplicate reserved while one runs is dropped.
 */
export type UniqueMode = 'while-queued' | 'until-finished' | 'while-running';

export const UNIQUE_MODES: readonly UniqueMode[] = ['while-queued', 'until-finished', 'while-running'];

/** How long a lock lives unless its job releases it first, and how much each start or retry extends it. */
export const DEFAULT_LOCK_TTL_MS = 3_600_000;

export interface UniqueOptions<A extends JsonValue[]> {
  mode: UniqueMode;
  /**
   * The unique key of a job, from its arguments; by default the class and its arguments (as canonical JSON). Same
   * rules as a limit key: a non-empty string (or a finite number) without line breaks, of at most 200 characters.
   */
  key?: (...args: A) => string | number;
  /**
   * The lock's life (ms) from enqueue, and again from each start (and, until finished, from each retry's due time):
   * a crashed worker or a job removed by hand never blocks its key for longer. Default 1 hour.
   */
  lockTtlMs?: number;
}

/** `unique` on a job definition: a mode alone, or the options. */
export type UniqueSetting<A extends JsonValue[]> = UniqueMode | UniqueOptions<A>;

/** What an enqueue writes into the payload, and the lock it takes. */
export interface UniqueLock {
  /** The lock's name under `ts:unique:`: `<Class>:<key>`, the key being the sha1 of the arguments by default. */
  key: string;
  mode: UniqueMode;
  ttlMs: number;
}

export function assertUnique(value: unknown, className: string): void {
  if (value === undefined) return;
  if (typeof value === 'string') {
    assertMode(value, 'unique', className);
    return;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new ConfigError(
      'unique',
      `Job ${className}: expected one of ${modeList()} or { mode, key?, lockTtlMs? }, got ${describeValue(value)}`,
    );
  const { mode, key, lockTtlMs, ...rest } = value as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0)
    throw new ConfigError(
      'unique',
      `Job ${className}: unknown option ${unknown.map((k) => `"${k}"`).join(', ')}`,
    );
  assertMode(mode, 'unique.mode', className);
  if (key !== undefined && typeof key !== 'function')
    throw new ConfigError('unique.key', `Job ${className}: must be a function of the job's arguments`);
  if (
    lockTtlMs !== undefined &&
    (typeof lockTtlMs !== 'number' || !Number.isSafeInteger(lockTtlMs) || lockTtlMs < 1)
  )
    throw new ConfigError(
      'unique.lockTtlMs',
      `Job ${className}: must be a whole number of milliseconds of 1 or more, got ${describeValue(lockTtlMs)}`,
    );
}

function assertMode(mode: unknown, option: string, className: string): asserts mode is UniqueMode {
  if (!UNIQUE_MODES.includes(mode as UniqueMode))
    throw new ConfigError(
      option,
      `Job ${className}: expected one of ${modeList()}, got ${describeValue(mode)}`,
    );
}

function modeList(): string {
  return UNIQUE_MODES.map((mode) => `"${mode}"`).join(', ');
}

/**
 * The lock of one enqueue, or undefined when the class is not unique. Throws InvalidArgumentsError when the key
 * function throws or returns something that cannot be a key, before anything is written.
 */
export function uniqueLockOf(
  className: string,
  unique: UniqueSetting<JsonValue[]> | undefined,
  args: JsonValue[],
): UniqueLock | undefined {
  if (unique === undefined) return undefined;
  const options = typeof unique === 'string' ? { mode: unique } : unique;
  const key =
    limitKeyOf('unique', className, options.key as KeyFunction | undefined, args) ?? argsDigest(args);
  return { key: `${className}:${key}`, mode: options.mode, ttlMs: options.lockTtlMs ?? DEFAULT_LOCK_TTL_MS };
}

/** The sha1 of the arguments as canonical JSON (object keys sorted), so `{a,b}` and `{b,a}` are the same job. */
export function argsDigest(args: JsonValue[]): string {
  return createHash('sha1')
    .update(stringify(args) ?? '[]')
    .digest('hex');
}

/** Whether the enqueue takes the lock: not for `while-running`, whose lock is taken when a job starts. */
export function locksAtEnqueue(lock: UniqueLock | undefined): lock is UniqueLock {
  return lock !== undefined && lock.mode !== 'while-running';
}

/** The payload's `"unique"` value: `{"key","mode","ttl"}`. */
export function uniquePayload(lock: UniqueLock | undefined): JsonObject | undefined {
  return lock && { key: lock.key, mode: lock.mode, ttl: lock.ttlMs };
}
