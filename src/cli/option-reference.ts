// Generated from the doc comments of ResqueOptions (src/config/options.ts), as the README's configuration table is;
// test/unit/cli-help.test.ts checks it (UPDATE_DOCS=1 rewrites it). Do not edit by hand.

/** Environment variables, default (Markdown) and meaning of one option of ResqueOptions. */
export interface OptionReferenceEntry {
  readonly env: readonly string[];
  readonly seconds: boolean;
  readonly default: string;
  readonly meaning: string;
}

export const OPTION_REFERENCE: Readonly<Record<string, OptionReferenceEntry>> = {
  redis: {
    env: ['REDIS_URL'],
    seconds: false,
    default: '`redis://127.0.0.1:6379`',
    meaning: 'Redis to talk to.',
  },
  cluster: {
    env: [],
    seconds: false,
    default: 'false',
    meaning:
      "Talk to a Redis Cluster (docs/cluster.md): `redis` names one or more of its nodes, the namespace must carry a hash tag (`{resque}`) and every key lives in that tag's slot. `true`, or ioredis `ClusterOptions` (`natMap`, `redisOptions` for TLS and credentials…). A `redis+cluster://` or `rediss+cluster://` URL turns it on by itself.",
  },
  embeddedRedis: {
    env: ['RESQUE_EMBEDDED_REDIS'],
    seconds: false,
    default: 'false',
    meaning:
      'Use the embedded `redis-server` when `redis` names none (it outranks `REDIS_URL`; the environment variable does not): the CLI starts or joins it (`--embedded-redis`, and `resque demo` always); a process built on the library connects to the one running in `RESQUE_DATA_DIR` (`./.resque-data`) and fails with a RedisConnectionError when none runs there.',
  },
  namespace: {
    env: ['RESQUE_NAMESPACE'],
    seconds: false,
    default: '`resque`',
    meaning: 'Key prefix shared with Ruby Resque (`<namespace>:queue:default`).',
  },
  shards: {
    env: ['RESQUE_SHARDS'],
    seconds: false,
    default: '1 (not sharded)',
    meaning:
      'Spread the namespace over this many shards (docs/cluster.md, Shards): each shard is a one-slot namespace of its own (`{<namespace>:<n>}`) and every queue lives on one of them, by the CRC16 of its name or `queueShards`. On a Redis Cluster the shards land on its primaries in turn.',
  },
  queueShards: {
    env: ['RESQUE_QUEUE_SHARDS'],
    seconds: false,
    default: 'none',
    meaning:
      'Queues placed on a shard by name (`{ critical: 0, default: 0 }`), so that queues one worker takes in priority order share a shard.',
  },
  strictPayloads: {
    env: ['RESQUE_STRICT_PAYLOADS'],
    seconds: false,
    default: 'false',
    meaning:
      'Emit exactly Ruby\'s payload `{"class","args"}`. When false (default) a job id and enqueue time follow (`"id"`, `"enqueued_at"`), which Ruby workers ignore.',
  },
  inline: {
    env: [],
    seconds: false,
    default: 'false',
    meaning: 'Perform jobs at once in the caller instead of queueing them (for application tests).',
  },
  connectTimeoutMs: {
    env: [],
    seconds: false,
    default: '5000',
    meaning: 'How long a client waits to connect before failing with a RedisConnectionError.',
  },
  commandRetries: {
    env: [],
    seconds: false,
    default: '2',
    meaning: 'Reconnect attempts a client command waits for before it fails (workers wait forever).',
  },
  failureBackend: {
    env: ['FAILURE_BACKEND'],
    seconds: false,
    default: '`redis` (one `failed` list)',
    meaning: 'Failure store layout.',
  },
  waitForReplicas: {
    env: ['RESQUE_WAIT_FOR_REPLICAS'],
    seconds: false,
    default: '0 (asynchronous, as Ruby)',
    meaning:
      'Enqueues wait until this many replicas confirm the write (Redis `WAIT`, in the same round trip), so a failover right after an enqueue cannot lose the job.',
  },
  replicaTimeoutMs: {
    env: [],
    seconds: false,
    default: '1000',
    meaning: 'How long an enqueue waits for `waitForReplicas` before failing with NotReplicatedError.',
  },
  release: {
    env: ['RESQUE_RELEASE'],
    seconds: false,
    default: 'the version in the nearest package.json above the working directory, else `git describe`',
    meaning: 'Application release written with error groups.',
  },
  queues: {
    env: ['QUEUES', 'QUEUE'],
    seconds: false,
    default: '`[]`',
    meaning: 'Queues a worker takes work from, in priority order; `*`, globs and `!exclusions` as in Resque.',
  },
  intervalMs: {
    env: ['INTERVAL'],
    seconds: true,
    default: '5000',
    meaning: 'Poll interval for queues pushed by foreign clients (and the idle sleep).',
  },
  concurrency: {
    env: ['CONCURRENCY'],
    seconds: false,
    default: '1',
    meaning: 'Jobs a worker runs at once; in a supervised worker, jobs each child runs at once.',
  },
  isolation: {
    env: ['RESQUE_ISOLATION'],
    seconds: false,
    default: '`process`',
    meaning:
      "Where a worker runs jobs: `process`, in warm child processes that load the job modules (`resque work --require`) once, supervised by the worker; `none`, in the worker's own process (the fastest path, but a crash or a stuck job takes the worker with it). A worker built in code without a `require` list runs jobs in its own process.",
  },
  count: {
    env: ['COUNT'],
    seconds: false,
    default: 'one per core',
    meaning:
      'Child processes of a supervised worker; its slots are count × (concurrency + max(concurrency, 8)), counting jobs reserved ahead. 0 = one per core.',
  },
  spare: {
    env: ['RESQUE_SPARE'],
    seconds: false,
    default: '0',
    meaning:
      'Warm spare children a supervised worker keeps ready, so a replaced child costs no start-up pause.',
  },
  jobTimeoutMs: {
    env: ['RESQUE_JOB_TIMEOUT'],
    seconds: true,
    default: '0',
    meaning:
      'Time limit of a job in a supervised worker: its AbortSignal fires, and if it is still running `jobTimeoutGraceMs` later its child is killed; either way it fails with JobTimeoutError. A job class may set its own (`defineJob({ timeoutMs })`). 0 = no limit.',
  },
  jobTimeoutGraceMs: {
    env: ['RESQUE_JOB_TIMEOUT_GRACE'],
    seconds: true,
    default: '5000',
    meaning: 'How long a timed-out job has to stop after its AbortSignal fires before its child is killed.',
  },
  cancelGraceMs: {
    env: ['RESQUE_CANCEL_GRACE'],
    seconds: true,
    default: '10000',
    meaning:
      "How long a cancelled running job (`resque.cancel(id)`) has to stop after its AbortSignal fires before its child is killed (a job running in the worker's own process cannot be killed).",
  },
  memorySoftLimitMb: {
    env: ['RESQUE_MEMORY_SOFT_LIMIT_MB'],
    seconds: false,
    default: '0',
    meaning:
      'A child whose resident memory passes this many MB is replaced once its running jobs finish; 0 = no limit.',
  },
  memoryHardLimitMb: {
    env: ['RESQUE_MEMORY_HARD_LIMIT_MB'],
    seconds: false,
    default: '0',
    meaning:
      'A child whose resident memory passes this many MB is killed at once and its job fails with MemoryLimitError; 0 = no limit.',
  },
  maxJobsPerChild: {
    env: ['RESQUE_MAX_JOBS_PER_CHILD'],
    seconds: false,
    default: '0',
    meaning: 'A child is replaced after it has been given this many jobs; 0 = never.',
  },
  heartbeatIntervalMs: {
    env: ['RESQUE_HEARTBEAT_INTERVAL'],
    seconds: true,
    default: '60000',
    meaning: "Period of Ruby's heartbeat (`workers:heartbeat`), which Ruby workers and resque-web read.",
  },
  deadWorkerAfterMs: {
    env: ['RESQUE_PRUNE_INTERVAL'],
    seconds: true,
    default: '300000',
    meaning:
      "Ruby's rule, for workers without a resque-ts liveness beat (Ruby's, older releases'): one whose heartbeat is older than this is dead (Ruby's prune_interval).",
  },
  livenessIntervalMs: {
    env: ['RESQUE_LIVENESS_INTERVAL'],
    seconds: true,
    default: '2000',
    meaning: "Period of resque-ts's own liveness beat, written for every slot of a worker.",
  },
  livenessTimeoutMs: {
    env: ['RESQUE_LIVENESS_TIMEOUT'],
    seconds: true,
    default: '10000',
    meaning: 'A resque-ts worker whose liveness beat is older than this is dead: its jobs are given back.',
  },
  reaperIntervalMs: {
    env: ['RESQUE_REAPER_INTERVAL'],
    seconds: true,
    default: '3000',
    meaning:
      'How often every worker looks for dead workers (a pass costs a range query on the expired beats).',
  },
  maxReturns: {
    env: ['RESQUE_MAX_RETURNS'],
    seconds: false,
    default: '3',
    meaning: 'A job given back this many times after its worker or child died is failed instead.',
  },
  termTimeoutMs: {
    env: ['RESQUE_TERM_TIMEOUT'],
    seconds: true,
    default: '4000',
    meaning: 'Grace period after TERM/INT before running jobs are aborted.',
  },
  preShutdownTimeoutMs: {
    env: ['RESQUE_PRE_SHUTDOWN_TIMEOUT'],
    seconds: true,
    default: '0',
    meaning: 'Wait this long for running jobs to finish on TERM before aborting them.',
  },
  gracefulTerm: {
    env: ['GRACEFUL_TERM'],
    seconds: false,
    default: 'false',
    meaning: 'TERM behaves like QUIT.',
  },
  onTermTimeout: {
    env: ['RESQUE_ON_TERM_TIMEOUT'],
    seconds: false,
    default: '`requeue`',
    meaning:
      'Jobs still running after the TERM grace period go back to their queue (`requeue`, default: they are given back) or to failed (`fail`).',
  },
  logLevel: {
    env: ['RESQUE_LOG_LEVEL', 'VERBOSE', 'LOGGING', 'VVERBOSE'],
    seconds: false,
    default: '`warn`',
    meaning:
      'Log level: `silent`, `error`, `warn`, `info` (a line per job finished) or `debug` (and per job started); failed jobs are logged at `warn`.',
  },
  logFormat: {
    env: ['RESQUE_LOG_FORMAT'],
    seconds: false,
    default: '`auto`',
    meaning:
      "Log lines as JSON (one object per line: level, time, pid, hostname, msg and the line's fields) or as text (Resque's `*** message` lines, `** [time] pid: message` at debug, with the fields as `key=value`); `auto` writes text to a terminal and JSON otherwise.",
  },
  metricsPort: {
    env: ['RESQUE_METRICS_PORT'],
    seconds: false,
    default: '0',
    meaning: 'A worker serves Prometheus metrics at `/metrics` on this port (docs/operations.md); 0 = off.',
  },
  healthPort: {
    env: ['RESQUE_HEALTH_PORT'],
    seconds: false,
    default: '0',
    meaning:
      'A worker serves its health probes `/livez` and `/readyz` on this port (it may be the metrics port); 0 = off.',
  },
  listenHost: {
    env: ['RESQUE_LISTEN_HOST'],
    seconds: false,
    default: '`0.0.0.0` (every interface)',
    meaning: 'Address the metrics and health ports listen on.',
  },
  pidFile: { env: ['PIDFILE'], seconds: false, default: '—', meaning: "Write the worker's pid here." },
  hostname: { env: [], seconds: false, default: '`os.hostname()`', meaning: 'Host part of the worker id.' },
  proclinePrefix: {
    env: ['RESQUE_PROCLINE_PREFIX'],
    seconds: false,
    default: 'empty',
    meaning: 'Prefix for process titles.',
  },
  refuseUnsafeRedis: {
    env: ['RESQUE_REFUSE_UNSAFE_REDIS'],
    seconds: false,
    default: 'false',
    meaning:
      'A worker refuses to start (RedisUnsafeError; `resque work` exits with code 3) when Redis is set up so that it can lose jobs: a `maxmemory-policy` other than `noeviction`, or neither AOF nor RDB snapshots on. Without it the worker logs each risk as a warning and starts. Settings a managed Redis does not show count as safe.',
  },
  promoteDelayed: {
    env: ['RESQUE_PROMOTE_DELAYED'],
    seconds: false,
    default: 'true',
    meaning:
      'Every worker process moves delayed jobs to their queues when they come due (each move is atomic, so workers share the work without a leader). Set false to leave that to `resque scheduler` or a Ruby resque-scheduler. Retries of failed jobs are moved either way.',
  },
  tracing: {
    env: ['RESQUE_TRACING'],
    seconds: false,
    default: 'false',
    meaning:
      'OpenTelemetry traces (docs/operations.md): a span per enqueue and per perform, the trace context carried in the payload\'s `"trace"` so a job\'s trace continues the one that enqueued it. Needs the `@opentelemetry/api` package and a tracer provider the application registers; off, the package is never loaded.',
  },
};
