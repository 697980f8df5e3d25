import type { Redis, RedisOptions } from 'ioredis';

/** Where Redis is: a URL (`redis://`, `rediss://`, `unix:///path.sock` or a bare socket path), ioredis options, or a client you own. */
export type RedisTarget = string | RedisOptions | Redis;

export type FailureBackendName = 'redis' | 'redis_multi_queue';
export type LogLevel = 'silent' | 'error' | 'warn' | 'info' | 'debug';
/** What happens to a job still running when TERM/INT's grace period runs out. */
export type OnTermTimeout = 'requeue' | 'fail';

/** Every option of resque-ts. Durations are milliseconds and say so in their names. */
export interface ResqueOptions {
  /** Redis to talk to. Env `REDIS_URL`. Default `redis://127.0.0.1:6379`. */
  redis?: RedisTarget;
  /** Key prefix shared with Ruby Resque (`<namespace>:queue:default`). Env `RESQUE_NAMESPACE`. Default `resque`. */
  namespace?: string;
  /**
   * Emit exactly Ruby's payload `{"class","args"}`. When false (default) a job id and enqueue time follow
   * (`"id"`, `"enqueued_at"`), which Ruby workers ignore. Env `RESQUE_STRICT_PAYLOADS`.
   */
  strictPayloads?: boolean;
  /** Perform jobs at once in the caller instead of queueing them (for application tests). Default false. */
  inline?: boolean;
  /** How long a client waits to connect before failing with a RedisConnectionError. Default 5000. */
  connectTimeoutMs?: number;
  /** Reconnect attempts a client command waits for before it fails (workers wait forever). Default 2. */
  commandRetries?: number;
  /** Failure store layout. Env `FAILURE_BACKEND`. Default `redis` (one `failed` list). */
  failureBackend?: FailureBackendName;
  /** Application release written with error groups. Env `RESQUE_RELEASE`. Default the package version. */
  release?: string;

  /** Queues a worker takes work from, in priority order; `*`, globs and `!exclusions` as in Resque. Env `QUEUES`/`QUEUE`. */
  queues?: string[];
  /** Poll interval for queues pushed by foreign clients (and the idle sleep). Env `INTERVAL` (seconds). Default 5000. */
  intervalMs?: number;
  /** Jobs a worker runs at once. Env `CONCURRENCY`. Default 1. */
  concurrency?: number;
  /** Heartbeat period; Ruby prunes a worker silent for 300 s. Env `RESQUE_HEARTBEAT_INTERVAL` (seconds). Default 60000. */
  heartbeatIntervalMs?: number;
  /** A worker whose heartbeat is older than this is dead and reaped (Ruby's prune_interval). Env `RESQUE_PRUNE_INTERVAL` (seconds). Default 300000. */
  deadWorkerAfterMs?: number;
  /** How often every worker looks for dead workers to reap. Env `RESQUE_REAPER_INTERVAL` (seconds). Default 60000. */
  reaperIntervalMs?: number;
  /** A job whose workers died this many times after it was returned goes to the failed list instead. Env `RESQUE_MAX_RETURNS`. Default 3. */
  maxReturns?: number;
  /** Grace period after TERM/INT before running jobs are aborted. Env `RESQUE_TERM_TIMEOUT` (seconds). Default 4000. */
  termTimeoutMs?: number;
  /** Wait this long for running jobs to finish on TERM before aborting them. Env `RESQUE_PRE_SHUTDOWN_TIMEOUT` (seconds). Default 0. */
  preShutdownTimeoutMs?: number;
  /** TERM behaves like QUIT. Env `GRACEFUL_TERM`. Default false. */
  gracefulTerm?: boolean;
  /** Jobs still running after the TERM grace period go back to their queue (`requeue`, default) or to failed (`fail`). Env `RESQUE_ON_TERM_TIMEOUT`. */
  onTermTimeout?: OnTermTimeout;
  /** Log level; env `VERBOSE` → info, `VVERBOSE` → debug. Default `warn`. */
  logLevel?: LogLevel;
  /** Write the worker's pid here. Env `PIDFILE`. */
  pidFile?: string;
  /** Host part of the worker id. Default `os.hostname()`. */
  hostname?: string;
  /** Prefix for process titles. Env `RESQUE_PROCLINE_PREFIX`. Default empty. */
  proclinePrefix?: string;
}

type Defaulted = Omit<Required<ResqueOptions>, 'pidFile' | 'release' | 'redis'>;

export const DEFAULTS = {
  namespace: 'resque',
  strictPayloads: false,
  inline: false,
  connectTimeoutMs: 5000,
  commandRetries: 2,
  failureBackend: 'redis',
  queues: [],
  intervalMs: 5000,
  concurrency: 1,
  heartbeatIntervalMs: 60_000,
  deadWorkerAfterMs: 300_000,
  reaperIntervalMs: 60_000,
  maxReturns: 3,
  termTimeoutMs: 4000,
  preShutdownTimeoutMs: 0,
  gracefulTerm: false,
  onTermTimeout: 'requeue',
  logLevel: 'warn',
  hostname: '',
  proclinePrefix: '',
} as const satisfies Defaulted;

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
