import { DuplicateScheduleError, InvalidScheduleError } from '../errors/index.js';
import type { JobRegistry } from '../jobs/registry.js';
import { assertJsonSafe, type JsonObject, type JsonValue } from '../protocol/json.js';
import { assertClassName, assertQueueName } from '../protocol/names.js';
import { parseDurationMs } from './every.js';
import { parseCron, parseEvery, type Timing } from './timing.js';

/** What happens to ticks that passed while no scheduler was master. */
export type MissedRunPolicy = 'skip' | 'once' | 'all';

/**
 * A recurring schedule in resque-scheduler's format (what `persistent_schedules` holds and schedule files contain),
 * plus resque-ts's `missed`/`missedLimit`, which are kept out of Ruby's JSON.
 */
export interface ScheduleConfig {
  /** rufus cron: 5 fields, or 6 with seconds first, optionally a trailing time zone. Wins over `every`. */
  cron?: string;
  /** An interval (`"30s"`, `"1h30m"`), or `[interval, { first_in }]`. */
  every?: string | [string, { first_in?: string }];
  /** The job class; defaults to the schedule's name. */
  class?: string;
  /** The queue; defaults to the class's queue when the class is known here. */
  queue?: string;
  /** One argument list; a hash is passed as the only argument, a scalar as a one-item list (Ruby's rule). */
  args?: JsonValue;
  description?: string;
  /** Store in Redis, so every scheduler (Ruby's too) fires it. */
  persist?: boolean;
  /** resque-ts: what to do with ticks missed while no master ran. Default `skip`, as Ruby. */
  missed?: MissedRunPolicy;
  /** resque-ts: with `missed: 'all'`, the most missed ticks enqueued. Default 10. */
  missedLimit?: number;
  [rubyOnly: string]: JsonValue | undefined;
}

export interface RecurringSchedule {
  readonly name: string;
  readonly className: string;
  readonly queue: string;
  readonly args: JsonValue[];
  readonly description: string | undefined;
  readonly timing: Timing;
  /** `every`'s first_in: the first tick comes no sooner than this after the schedule is first seen. */
  readonly firstInMs: number;
  readonly missed: MissedRunPolicy;
  readonly missedLimit: number;
  readonly persist: boolean;
  /** The config as resque-scheduler stores it (no `persist`, no resque-ts fields). */
  readonly rubyConfig: JsonObject;
}

const POLICIES: readonly MissedRunPolicy[] = ['skip', 'once', 'all'];

/** Validates one schedule; throws InvalidScheduleError naming it and the bad value. */
export function parseSchedule(name: string, config: ScheduleConfig, jobs?: JobRegistry): RecurringSchedule {
  if (typeof name !== 'string' || name.trim() === '')
    throw new InvalidScheduleError(String(name), 'the name must not be empty');
  if (config === null || typeof config !== 'object' || Array.isArray(config))
    throw new InvalidScheduleError(name, 'expected an object with cron or every, class, queue, args');
  const { persist, missed = 'skip', missedLimit = 10, ...ruby } = config;
  const className = config.class ?? name;
  try {
    assertClassName(className);
  } catch (error) {
    throw new InvalidScheduleError(name, (error as Error).message);
  }
  const queue = config.queue ?? jobs?.resolve(className)?.queue;
  if (queue === undefined)
    throw new InvalidScheduleError(name, `no queue: give "queue" (class ${className} is not known here)`);
  try {
    assertQueueName(queue);
    assertJsonSafe(config.args ?? null, 'args');
  } catch (error) {
    throw new InvalidScheduleError(name, (error as Error).message);
  }
  if (!POLICIES.includes(missed))
    throw new InvalidScheduleError(
      name,
      `missed must be one of ${POLICIES.join(', ')}, got ${JSON.stringify(missed)}`,
    );
  if (!Number.isInteger(missedLimit) || missedLimit < 1)
    throw new InvalidScheduleError(name, `missedLimit must be an integer >= 1, got ${String(missedLimit)}`);
  const { timing, firstInMs } = timingOf(name, config);
  return {
    name,
    className,
    queue,
    args: argsOf(config.args),
    description: typeof config.description === 'string' ? config.description : undefined,
    timing,
    firstInMs,
    missed,
    missedLimit,
    persist: persist === true,
    rubyConfig: { ...(ruby as JsonObject), ...(config.queue === undefined ? { queue } : {}) },
  };
}

/** resque-scheduler's rule: a hash is the only argument, an array is the list, nil is none, anything else is one. */
export function argsOf(args: JsonValue | undefined): JsonValue[] {
  if (args === undefined || args === null) return [];
  return Array.isArray(args) ? args : [args];
}

function timingOf(name: string, config: ScheduleConfig): { timing: Timing; firstInMs: number } {
  if (config.cron !== undefined) return { timing: parseCron(name, config.cron), firstInMs: 0 };
  if (config.every === undefined) throw new InvalidScheduleError(name, 'needs cron or every');
  const [interval, options] = Array.isArray(config.every) ? config.every : [config.every, undefined];
  const timing = parseEvery(name, interval);
  if (options?.first_in === undefined) return { timing, firstInMs: 0 };
  const firstInMs = parseDurationMs(String(options.first_in));
  if (firstInMs === undefined)
    throw new InvalidScheduleError(name, `invalid first_in ${JSON.stringify(options.first_in)}`);
  return { timing, firstInMs };
}

/** Parses many schedules, refusing a name given twice (case-sensitive, as Ruby's hash keys). */
export function parseSchedules(
  entries: Iterable<[string, ScheduleConfig]>,
  jobs?: JobRegistry,
): Map<string, RecurringSchedule> {
  const parsed = new Map<string, RecurringSchedule>();
  for (const [name, config] of entries) {
    if (parsed.has(name)) throw new DuplicateScheduleError(name);
    parsed.set(name, parseSchedule(name, config, jobs));
  }
  return parsed;
}
