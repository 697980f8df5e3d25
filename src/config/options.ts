import type { ClusterOptions, Redis, RedisOptions } from 'ioredis';

/**
 * Where Redis is: a URL (`redis://`, `rediss://`, `unix:///path.sock` or a bare socket path, `redis+sentinel://`,
 * `redis+cluster://` or `rediss+cluster://`), ioredis options, or a client you own.
 */
export type RedisTarget = string | RedisOptions | Redis;

export type FailureBackendName = 'redis' | 'redis_multi_queue';
export type LogLevel = 'silent' | 'error' | 'warn' | 'info' | 'debug';
/** How log lines are written: JSON lines, readable text (Resque's `***` lines with fields), or by the output (`auto`). */
export type LogFormat = 'auto' | 'json' | 'text';
/** What happens to a job still running when TERM/INT's grace period runs out. */
export type OnTermTimeout = 'requeue' | 'fail';
/** Where a worker runs jobs: in supervised child processes, or in its own process. */
export type Isolation = 'process' | 'none';

/** Every option of resque-ts. Durations are milliseconds and say so in their names. */
export interface ResqueOptions {
  /** Redis to talk to. Env `REDIS_URL`. Default `redis://127.0.0.1:6379`. */
  redis?: RedisTarget;
  /**
   * Talk to a Redis Cluster (docs/cluster.md): `redis` names one or more of its nodes, the namespace must carry a hash
   * tag (`{resque}`) and every key lives in that tag's slot. `true`, or ioredis `ClusterOptions` (`natMap`,
   * `redisOptions` for TLS and credentials…). A `redis+cluster://` or `rediss+cluster://` URL turns it on by itself.
   * Default false.
   */
  cluster?: boolean | ClusterOptions;
  /**
   * Use the embedded `redis-server` when `redis` names none (it outranks `REDIS_URL`; the environment variable does
   * not): the CLI starts or joins it (`--embedded-redis`, and `resque demo` always); a process built on the library
   * connects to the one running in `RESQUE_DATA_DIR` (`./.resque-data`) and fails with a RedisConnectionError when
   * none runs there. Env `RESQUE_EMBEDDED_REDIS`. Default false.
   */
  embeddedRedis?: boolean;
  /** Key prefix shared with Ruby Resque (`<namespace>:queue:default`). Env `RESQUE_NAMESPACE`. Default `resque`. */
  namespace?: string;
  /**
   * Spread the namespace over this many shards (docs/cluster.md, Shards): each shard is a one-slot namespace of its
   * own (`{<namespace>:<n>}`) and every queue lives on one of them, by the CRC16 of its name or `queueShards`. On a
   * Redis Cluster the shards land on its primaries in turn. Env `RESQUE_SHARDS`. Default 1 (not sharded).
   */
  shards?: number;
  /**
   * Queues placed on a shard by name (`{ critical: 0, default: 0 }`), so that queues one worker takes in priority
   * order share a shard. Env `RESQUE_QUEUE_SHARDS` (`critical=0,default=0`). Default none.
   */
  queueShards?: Record<string, number>;
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
  /**
   * Enqueues wait until this many replicas confirm the write (Redis `WAIT`, in the same round trip), so a failover
   * right after an enqueue cannot lose the job. Env `RESQUE_WAIT_FOR_REPLICAS`. Default 0 (asynchronous, as Ruby).
   */
  waitForReplicas?: number;
  /** How long an enqueue waits for `waitForReplicas` before failing with NotReplicatedError. Default 1000. */
  replicaTimeoutMs?: number;
  /** Application release written with error groups. Env `RESQUE_RELEASE`. Default the version in the nearest package.json above the working directory, else `git describe`. */
  release?: string;

  /** Queues a worker takes work from, in priority order; `*`, globs and `!exclusions` as in Resque. Env `QUEUES`/`QUEUE`. */
  queues?: string[];
  /** Poll interval for queues pushed by foreign clients (and the idle sleep). Env `INTERVAL` (seconds). Default 5000. */
  intervalMs?: number;
  /** Jobs a worker runs at once; in a supervised worker, jobs each child runs at once. Env `CONCURRENCY`. Default 1. */
  concurrency?: number;
  /**
   * Where a worker runs jobs: `process`, in warm child processes that load the job modules (`resque work
   * --require`) once, supervised by the worker; `none`, in the worker's own process (the fastest path, but a crash
   * or a stuck job takes the worker with it). A worker built in code without a `require` list runs jobs in its own
   * process. Env `RESQUE_ISOLATION`. Default `process`.
   */
  isolation?: Isolation;
  /** Child processes of a supervised worker; its slots are count × (concurrency + max(concurrency, 8)), counting jobs reserved ahead. 0 = one per core. Env `COUNT`. Default one per core. */
  count?: number;
  /** Warm spare children a supervised worker keeps ready, so a replaced child costs no start-up pause. Env `RESQUE_SPARE`. Default 0. */
  spare?: number;
  /**
   * Time limit of a job in a supervised worker: its AbortSignal fires, and if it is still running
   * `jobTimeoutGraceMs` later its child is killed; either way it fails with JobTimeoutError. A job class may set its
   * own (`defineJob({ timeoutMs })`). 0 = no limit. Env `RESQUE_JOB_TIMEOUT` (seconds). Default 0.
   */
  jobTimeoutMs?: number;
  /** How long a timed-out job has to stop after its AbortSignal fires before its child is killed. Env `RESQUE_JOB_TIMEOUT_GRACE` (seconds). Default 5000. */
  jobTimeoutGraceMs?: number;
  /** How long a cancelled running job (`resque.cancel(id)`) has to stop after its AbortSignal fires before its child is killed (a job running in the worker's own process cannot be killed). Env `RESQUE_CANCEL_GRACE` (seconds). Default 10000. */
  cancelGraceMs?: number;
  /** A child whose resident memory passes this many MB is replaced once its running jobs finish; 0 = no limit. Env `RESQUE_MEMORY_SOFT_LIMIT_MB`. Default 0. */
  memorySoftLimitMb?: number;
  /** A child whose resident memory passes this many MB is killed at once and its job fails with MemoryLimitError; 0 = no limit. Env `RESQUE_MEMORY_HARD_LIMIT_MB`. Default 0. */
  memoryHardLimitMb?: number;
  /** A child is replaced after it has been given this many jobs; 0 = never. Env `RESQUE_MAX_JOBS_PER_CHILD`. Default 0. */
  maxJobsPerChild?: number;
  /** Period of Ruby's heartbeat (`workers:heartbeat`), which Ruby workers and resque-web read. Env `RESQUE_HEARTBEAT_INTERVAL` (seconds). Default 60000. */
  heartbeatIntervalMs?: number;
  /** Ruby's rule, for workers without a resque-ts liveness beat (Ruby's, older releases'): one whose heartbeat is older than this is dead (Ruby's prune_interval). Env `RESQUE_PRUNE_INTERVAL` (seconds). Default 300000. */
  deadWorkerAfterMs?: number;
  /** Period of resque-ts's own liveness beat, written for every slot of a worker. Env `RESQUE_LIVENESS_INTERVAL` (seconds). Default 2000. */
  livenessIntervalMs?: number;
  /** A resque-ts worker whose liveness beat is older than this is dead: its jobs are given back. Env `RESQUE_LIVENESS_TIMEOUT` (seconds). Default 10000. */
  livenessTimeoutMs?: number;
  /** How often every worker looks for dead workers (a pass costs a range query on the expired beats). Env `RESQUE_REAPER_INTERVAL` (seconds). Default 3000. */
  reaperIntervalMs?: number;
  /** A job given back this many times after its worker or child died is failed instead. Env `RESQUE_MAX_RETURNS`. Default 3. */
  maxReturns?: number;
  /** Grace period after TERM/INT before running jobs are aborted. Env `RESQUE_TERM_TIMEOUT` (seconds). Default 4000. */
  termTimeoutMs?: number;
  /** Wait this long for running jobs to finish on TERM before aborting them. Env `RESQUE_PRE_SHUTDOWN_TIMEOUT` (seconds). Default 0. */
  preShutdownTimeoutMs?: number;
  /** TERM behaves like QUIT. Env `GRACEFUL_TERM`. Default false. */
  gracefulTerm?: boolean;
  /** Jobs still running after the TERM grace period go back to their queue (`requeue`, default: they are given back) or to failed (`fail`). Env `RESQUE_ON_TERM_TIMEOUT`. */
  onTermTimeout?: OnTermTimeout;
  /**
   * Log level: `silent`, `error`, `warn`, `info` (a line per job finished) or `debug` (and per job started); failed
   * jobs are logged at `warn`. Env `RESQUE_LOG_LEVEL`, else env `VERBOSE`/`LOGGING` → info, `VVERBOSE` → debug.
   * Default `warn`.
   */
  logLevel?: LogLevel;
  /**
   * Log lines as JSON (one object per line: level, time, pid, hostname, msg and the line's fields) or as text (Resque's
   * `*** message` lines, `** [time] pid: message` at debug, with the fields as `key=value`); `auto` writes text to a
   * terminal and JSON otherwise. Env `RESQUE_LOG_FORMAT`. Default `auto`.
   */
  logFormat?: LogFormat;
  /** A worker serves Prometheus metrics at `/metrics` on this port (docs/operations.md); 0 = off. Env `RESQUE_METRICS_PORT`. Default 0. */
  metricsPort?: number;
  /** A worker serves its health probes `/livez` and `/readyz` on this port (it may be the metrics port); 0 = off. Env `RESQUE_HEALTH_PORT`. Default 0. */
  healthPort?: number;
  /** Address the metrics and health ports listen on. Env `RESQUE_LISTEN_HOST`. Default `0.0.0.0` (every interface). */
  listenHost?: string;
  /** Write the worker's pid here. Env `PIDFILE`. */
  pidFile?: string;
  /** Host part of the worker id. Default `os.hostname()`. */
  hostname?: string;
  /** Prefix for process titles. Env `RESQUE_PROCLINE_PREFIX`. Default empty. */
  proclinePrefix?: string;
  /**
   * A worker refuses to start (RedisUnsafeError; `resque work` exits with code 3) when Redis is set up so that it
   * can lose jobs: a `maxmemory-policy` other than `noeviction`, or neither AOF nor RDB snapshots on. Without it the
   * worker logs each risk as a warning and starts. Settings a managed Redis does not show count as safe.
   * Env `RESQUE_REFUSE_UNSAFE_REDIS`. Default false.
   */
  refuseUnsafeRedis?: boolean;
  /**
   * Every worker process moves delayed jobs to their queues when they come due (each move is atomic, so workers
   * share the work without a leader). Set false to leave that to `resque scheduler` or a Ruby resque-scheduler.
   * Retries of failed jobs are moved either way. Env `RESQUE_PROMOTE_DELAYED`. Default true.
   */
  promoteDelayed?: boolean;
  /**
   * OpenTelemetry traces (docs/operations.md): a span per enqueue and per perform, the trace context carried in the
   * payload's `"trace"` so a job's trace continues the one that enqueued it. Needs the `@opentelemetry/api` package
   * and a tracer provider the application registers; off, the package is never loaded.
   * Env `RESQUE_TRACING`. Default false.
   */
  tracing?: boolean;
}

type Defaulted = Omit<Required<ResqueOptions>, 'pidFile' | 'release' | 'redis' | 'cluster'>;

export const DEFAULTS = {
  embeddedRedis: false,
  namespace: 'resque',
  shards: 1,
  queueShards: {},
  strictPayloads: false,
  inline: false,
  connectTimeoutMs: 5000,
  commandRetries: 2,
  waitForReplicas: 0,
  replicaTimeoutMs: 1000,
  failureBackend: 'redis',
  queues: [],
  intervalMs: 5000,
  concurrency: 1,
  isolation: 'process',
  count: 0,
  spare: 0,
  jobTimeoutMs: 0,
  jobTimeoutGraceMs: 5000,
  cancelGraceMs: 10_000,
  memorySoftLimitMb: 0,
  memoryHardLimitMb: 0,
  maxJobsPerChild: 0,
  heartbeatIntervalMs: 60_000,
  deadWorkerAfterMs: 300_000,
  livenessIntervalMs: 2000,
  livenessTimeoutMs: 10_000,
  reaperIntervalMs: 3000,
  maxReturns: 3,
  termTimeoutMs: 4000,
  preShutdownTimeoutMs: 0,
  gracefulTerm: false,
  onTermTimeout: 'requeue',
  logLevel: 'warn',
  logFormat: 'auto',
  metricsPort: 0,
  healthPort: 0,
  listenHost: '0.0.0.0',
  hostname: '',
  proclinePrefix: '',
  refuseUnsafeRedis: false,
  promoteDelayed: true,
  tracing: false,
} as const satisfies Defaulted;

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
