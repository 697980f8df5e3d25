import type { JsonValue } from '../protocol/json.js';
import { assertClassName, assertQueueName } from '../protocol/names.js';
import type { JobPayload } from '../protocol/payload.js';
import { assertStatusOption, type StatusOption } from '../status/options.js';
import { assertConcurrency, type ConcurrencyLimit } from './concurrency.js';
import { assertRate, type RateLimit } from './rate.js';
import {
  assertEnqueueRetry,
  assertRetrySettings,
  type EnqueueRetry,
  type RetrySettings,
} from './retry-policy.js';
import { assertTenant, type TenantFunction } from './tenant.js';
import { assertUnique, type UniqueSetting } from './unique.js';

/** What a running job knows about itself. */
export interface JobContext {
  /** resque-ts job id; undefined for jobs pushed by Ruby or in strict mode. */
  readonly id: string | undefined;
  readonly queue: string;
  readonly className: string;
  /**
   * Which attempt this is: 1 for the first run, 2 for the first retry (docs/retries.md). A job given back to its queue
   * after its worker or child died runs again under the same number (see `returns`).
   */
  readonly attempt: number;
  /** Times this job was given back to its queue after the process running it died; these use up no attempt. */
  readonly returns: number;
  /** Fires when the job must stop: shutdown (TERM/INT), USR1, or its timeout. */
  readonly signal: AbortSignal;
  /** Id of the worker slot running the job (`host:pid:queues`). */
  readonly workerId: string;
  /** The decoded queue item, extra fields included. */
  readonly payload: JobPayload;
  /**
   * Reports how far the job has got (docs/status.md): any value JSON carries (a TypeError says what is wrong with
   * any other), kept in the job's status record and published to whoever waits for it. Writes are coalesced: while
   * one is on its way, only the latest value waits. Does nothing when the job's status is not tracked.
   */
  readonly progress: (value: JsonValue) => void;
}

type Result = unknown;
type Awaitable<T> = T | Promise<T>;

/**
 * Resque's job hooks, named as in Ruby (`before_perform`, `before_perform_audit`, …). Every hook whose name starts
 * with a prefix runs, in alphabetical order of name (docs/protocol.md, Job hooks).
 */
export type JobHooks<A extends JsonValue[]> = {
  /** Returning exactly `false` vetoes the enqueue (all before hooks still run). */
  [name: `before_enqueue${string}`]: (...args: A) => Awaitable<Result>;
} & { [name: `after_enqueue${string}`]: (...args: A) => Awaitable<Result> } & {
  /** Returning exactly `false` vetoes the dequeue. */
  [name: `before_dequeue${string}`]: (...args: A) => Awaitable<Result>;
} & { [name: `after_dequeue${string}`]: (...args: A) => Awaitable<Result> } & {
  /** Throw `DontPerform` to skip the job quietly. */
  [name: `before_perform${string}`]: (...args: A) => Awaitable<Result>;
} & {
  /** Call `next()` to run the inner hooks and the job; not calling it skips the job. The first name is outermost. */
  [name: `around_perform${string}`]: (next: () => Promise<void>, ...args: A) => Awaitable<Result>;
} & { [name: `after_perform${string}`]: (...args: A) => Awaitable<Result> } & {
  [name: `on_failure${string}`]: (error: Error, ...args: A) => Awaitable<Result>;
} & {
  /**
   * Once, when a failure is final: the job goes to the failed list and will not be tried again (attempts used up,
   * discarded, or not retryable). Runs in the worker process after the record is written; the error is rebuilt from
   * the record (its name and message).
   */
  [name: `retries_exhausted${string}`]: (error: Error, ...args: A) => Awaitable<Result>;
} & {
  /** resque-scheduler's: returning exactly `false` vetoes a delayed enqueue (enqueueAt/enqueueIn). */
  [name: `before_schedule${string}`]: (...args: A) => Awaitable<Result>;
} & { [name: `after_schedule${string}`]: (...args: A) => Awaitable<Result> } & {
  /** resque-scheduler's: runs in the process that moves a due delayed or recurring job to its queue; result ignored. */
  [name: `before_delayed_enqueue${string}`]: (...args: A) => Awaitable<Result>;
};

export type HookPrefix =
  | 'before_enqueue'
  | 'after_enqueue'
  | 'before_dequeue'
  | 'after_dequeue'
  | 'before_perform'
  | 'around_perform'
  | 'after_perform'
  | 'on_failure'
  | 'retries_exhausted'
  | 'before_schedule'
  | 'after_schedule'
  | 'before_delayed_enqueue';

export interface JobSpec<A extends JsonValue[]> extends RetrySettings {
  /** The class name on the wire (`"Archive"`, `"App::Jobs::Export"`): what Ruby's `constantize` would look up. */
  className: string;
  /** Default queue (Ruby's `@queue`); without one, use `enqueueTo`. */
  queue?: string;
  perform: (ctx: JobContext, ...args: A) => Awaitable<Result>;
  hooks?: Partial<JobHooks<A>>;
  /** Per-class timeout for supervised workers; overrides the worker default. */
  timeoutMs?: number;
  /**
   * At most `limit` jobs of this class at once across every resque-ts worker, or with `key` at most `limit` per key
   * (docs/flow-control.md). Jobs past the limit wait, without blocking the jobs queued behind them.
   */
  concurrency?: ConcurrencyLimit<A>;
  /**
   * At most `limit` starts of this class's jobs in any window of `windowMs`, across every resque-ts worker, or with
   * `key` at most `limit` per key (docs/flow-control.md). Jobs past it wait until the window has room, without
   * blocking the jobs queued behind them.
   */
  rate?: RateLimit<A>;
  /**
   * Who a job is for, from its arguments (`(accountId) => \`account:${accountId}\``). On a queue made fair
   * (`resque.fairQueue`), the tenants that have jobs are served in turn, so one tenant's backlog does not hold the
   * others back (docs/flow-control.md). Same rules as a limit key: a non-empty string (or a finite number) without
   * line breaks, of at most 200 characters.
   */
  tenant?: TenantFunction<A>;
  /**
   * At most one job per unique key (docs/unique-jobs.md): `'while-queued'`, `'until-finished'` or
   * `'while-running'`, or `{ mode, key?, lockTtlMs? }`. The key is the class and its arguments by default. A
   * duplicate enqueue pushes nothing and returns the id of the job holding the key, with `duplicate: true`.
   */
  unique?: UniqueSetting<A>;
  /**
   * Track each job's status (docs/status.md): a record under its id, kept `ttlMs` (default a day) after its last
   * change, with its progress and result, for `resque.status(id)` and `resque.waitFor(id)`. Off by default: untracked
   * jobs cost nothing. `withStatus` switches it per enqueue.
   */
  status?: StatusOption;
}

export interface JobDefinition<A extends JsonValue[] = JsonValue[]> extends Readonly<JobSpec<A>> {
  readonly hooks: Partial<JobHooks<A>>;
  /** Retry options its enqueues write into the payload (`withRetry`). */
  readonly enqueueRetry?: EnqueueRetry;
  /** Status tracking of the jobs enqueued through it, over the definition's `status` (`withStatus`). */
  readonly enqueueStatus?: StatusOption;
}

/** The argument list of a `perform` function, after its context. */
export type PerformArgs<P> = P extends (ctx: JobContext, ...args: infer A) => unknown
  ? A extends JsonValue[]
    ? A
    : never
  : never;

/**
 * Declares a job. The argument types of `perform` (after the context) are what `enqueue` accepts; the hooks are
 * typed from them (inferred from `perform` alone).
 */
export function defineJob<P extends (ctx: JobContext, ...args: never[]) => Awaitable<Result>>(
  spec: Omit<JobSpec<PerformArgs<P>>, 'perform'> & { perform: P },
): JobDefinition<PerformArgs<P>> {
  assertClassName(spec.className);
  if (spec.queue !== undefined) assertQueueName(spec.queue);
  if (typeof spec.perform !== 'function')
    throw new TypeError(`Job ${spec.className}: perform must be a function`);
  assertRetrySettings(spec, `Job ${spec.className}`);
  assertConcurrency(spec.concurrency, spec.className);
  assertRate(spec.rate, spec.className);
  assertTenant(spec.tenant, spec.className);
  assertUnique(spec.unique, spec.className);
  assertStatusOption(spec.status, `Job ${spec.className}`);
  return Object.freeze({
    ...spec,
    hooks: Object.freeze({ ...(spec.hooks ?? {}) }),
  }) as unknown as JobDefinition<PerformArgs<P>>;
}

/**
 * The same job with retry options for the jobs enqueued through it: `resque.enqueue(withRetry(Export, { attempts: 5
 * }), 42)`. They travel in the payload (`"retry"`), so only what JSON carries: `attempts` and a backoff spec. Workers
 * still know the job by its own definition.
 */
export function withRetry<A extends JsonValue[]>(
  job: JobDefinition<A>,
  retry: EnqueueRetry,
): JobDefinition<A> {
  assertEnqueueRetry(retry, `withRetry(${job.className})`);
  return Object.freeze({ ...job, enqueueRetry: Object.freeze({ ...job.enqueueRetry, ...retry }) });
}

/**
 * The same job with status tracking switched for the jobs enqueued through it: `resque.enqueue(withStatus(Export),
 * 42)`, or `withStatus(Export, { ttlMs: 3_600_000 })`, or `withStatus(Export, false)`. Carried in the payload
 * (`"status"`), so a worker tracks the job whatever its own definition says.
 */
export function withStatus<A extends JsonValue[]>(
  job: JobDefinition<A>,
  status: StatusOption = true,
): JobDefinition<A> {
  assertStatusOption(status, `withStatus(${job.className})`);
  return Object.freeze({ ...job, enqueueStatus: status });
}

type HookFunction = (...args: unknown[]) => Awaitable<Result>;

const NO_HOOKS: readonly HookFunction[] = Object.freeze([]);
/** Hook lists per definition and prefix: definitions are frozen, so each list is worked out once (hot path). */
const hookCache = new WeakMap<JobDefinition, Map<HookPrefix, readonly HookFunction[]>>();

/** Hook functions of one kind, in Ruby's order (names sorted as plain strings). */
export function hooksFor(definition: JobDefinition | undefined, prefix: HookPrefix): readonly HookFunction[] {
  if (!definition) return NO_HOOKS;
  let byPrefix = hookCache.get(definition);
  if (!byPrefix) {
    byPrefix = new Map();
    hookCache.set(definition, byPrefix);
  }
  let hooks = byPrefix.get(prefix);
  if (!hooks) {
    hooks = Object.freeze(
      Object.keys(definition.hooks)
        .filter((name) => name.startsWith(prefix))
        .sort()
        .map((name) => (definition.hooks as Record<string, HookFunction>)[name]!)
        .filter((hook) => typeof hook === 'function'),
    );
    byPrefix.set(prefix, hooks);
  }
  return hooks;
}
