import type { Redis } from 'ioredis';
import type { Keys } from '../protocol/keys.js';

/** What these checks need of the admin context (kept structural: context.ts uses this module). */
interface KeyContext {
  readonly redis: Redis;
  readonly keys: Keys;
}

/**
 * Redis answers WRONGTYPE when a key holds another type than the command needs (a queue that is a hash, `workers`
 * that is a string): data someone else wrote. These helpers turn that into an error that names the key, so pages can
 * say what is wrong instead of failing.
 */
export class WrongTypeError extends Error {
  readonly code = 'WRONG_TYPE';

  constructor(readonly problems: readonly KeyTypeProblem[]) {
    super(
      problems.length > 0
        ? problems.map(describeProblem).join('; ')
        : 'A Redis key holds another type of value than Resque expects',
    );
    this.name = 'WrongTypeError';
  }
}

export interface KeyTypeProblem {
  /** The key without the namespace. */
  key: string;
  actual: string;
  expected: string;
}

export function describeProblem(problem: KeyTypeProblem): string {
  return `${problem.key} holds a ${problem.actual}, not a ${problem.expected}`;
}

export function isWrongTypeError(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('WRONGTYPE');
}

/** The namespace's fixed keys and the type Resque (or resque-ts) stores in each. */
function fixedKeys(ctx: KeyContext): Array<[string, string]> {
  const { keys } = ctx;
  return [
    [keys.queues, 'set'],
    [keys.workers, 'set'],
    [keys.heartbeats, 'hash'],
    [keys.failed, 'list'],
    [keys.failedQueues, 'set'],
    [keys.processed, 'string'],
    [keys.failedCount, 'string'],
    [keys.statsSamples, 'zset'],
    [keys.statsGroupCounts, 'hash'],
    [keys.failureGroups, 'zset'],
    [keys.failureGroupDetails, 'hash'],
    [keys.delayedSchedule, 'zset'],
    [keys.delayedDue, 'zset'],
  ];
}

/** Checks keys against their expected types (`none`, a missing key, is fine): one pipeline of TYPEs. */
export async function keyTypeProblems(
  ctx: KeyContext,
  expected: ReadonlyArray<[string, string]> = fixedKeys(ctx),
): Promise<KeyTypeProblem[]> {
  if (expected.length === 0) return [];
  const pipeline = ctx.redis.pipeline();
  for (const [key] of expected) pipeline.type(key);
  const types = ((await pipeline.exec()) ?? []).map(([error, type]) => (error ? 'unknown' : String(type)));
  return expected.flatMap(([key, want], i) => {
    const actual = types[i]!;
    return actual === 'none' || actual === 'unknown' || actual === want
      ? []
      : [{ key: ctx.keys.logical(key), actual, expected: want }];
  });
}

/**
 * Runs `operation`; a WRONGTYPE answer becomes a WrongTypeError naming which of `expected` (else of the fixed keys)
 * holds the wrong type.
 */
export async function explainWrongType<T>(
  ctx: KeyContext,
  operation: () => Promise<T>,
  expected: ReadonlyArray<[string, string]> = [],
): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (!isWrongTypeError(error)) throw error;
    const specific = await keyTypeProblems(ctx, expected);
    throw new WrongTypeError(specific.length > 0 ? specific : await keyTypeProblems(ctx));
  }
}
