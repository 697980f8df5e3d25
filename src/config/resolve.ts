import { availableParallelism, hostname } from 'node:os';
import type { ClusterOptions } from 'ioredis';
import { ConfigError } from '../errors/index.js';
import { assertQueueName, assertQueuePattern } from '../protocol/names.js';
import { parseQueueShards, ShardLayout } from '../protocol/shard-layout.js';
import { checkClusterNamespace, isClusterUrl, parseClusterUrl } from '../redis/cluster.js';
import { redisOptionsFromUrl } from '../redis/connection.js';
import { splitQueueWeights } from '../worker/queue-weights.js';
import {
  DEFAULTS,
  type FailureBackendName,
  type Isolation,
  type LogFormat,
  type LogLevel,
  type OnTermTimeout,
  type RedisTarget,
  type ResqueOptions,
} from './options.js';
import { chooseRedis, type RedisSource } from './redis-source.js';
import { applicationRelease } from './release.js';

export interface ResolvedConfig {
  readonly redis: RedisTarget;
  /** Where `redis` came from (./redis-source.ts): the options, REDIS_URL, the embedded server, or the default. */
  readonly redisSource: RedisSource;
  /** True when nothing named a Redis: the default address is used. */
  readonly redisIsDefault: boolean;
  /** The embedded redis-server is in use. */
  readonly embeddedRedis: boolean;
  /** Cluster mode (docs/cluster.md): the ioredis ClusterOptions given (`{}` for `true` or a cluster URL); else undefined. */
  readonly cluster: ClusterOptions | undefined;
  readonly namespace: string;
  /** Shards of the namespace (1: not sharded); see config/shards.ts. */
  readonly shards: number;
  readonly queueShards: Readonly<Record<string, number>>;
  readonly strictPayloads: boolean;
  readonly inline: boolean;
  readonly connectTimeoutMs: number;
  readonly commandRetries: number;
  readonly waitForReplicas: number;
  readonly replicaTimeoutMs: number;
  readonly failureBackend: FailureBackendName;
  readonly release: string;
  readonly queues: readonly string[];
  /** Weights given as `queue:N` in the queue list (stripped from `queues`); empty for Resque's strict order. */
  readonly queueWeights: ReadonlyMap<string, number>;
  readonly intervalMs: number;
  readonly concurrency: number;
  readonly isolation: Isolation;
  /** Children of a supervised worker, resolved (never 0). */
  readonly count: number;
  /**
   * Independent worker processes `resque work` starts with `isolation: 'none'` (Ruby's `COUNT` for
   * `rake resque:workers`): the `count` given, else 1.
   */
  readonly processes: number;
  /** The application's environment, as Resque.info reports it: RAILS_ENV, RACK_ENV or NODE_ENV, else `development`. */
  readonly environment: string;
  readonly spare: number;
  readonly jobTimeoutMs: number;
  readonly jobTimeoutGraceMs: number;
  readonly cancelGraceMs: number;
  readonly memorySoftLimitMb: number;
  readonly memoryHardLimitMb: number;
  readonly maxJobsPerChild: number;
  readonly heartbeatIntervalMs: number;
  readonly deadWorkerAfterMs: number;
  readonly livenessIntervalMs: number;
  readonly livenessTimeoutMs: number;
  readonly reaperIntervalMs: number;
  readonly maxReturns: number;
  readonly termTimeoutMs: number;
  readonly preShutdownTimeoutMs: number;
  readonly gracefulTerm: boolean;
  readonly onTermTimeout: OnTermTimeout;
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
  readonly metricsPort: number;
  readonly healthPort: number;
  readonly listenHost: string;
  readonly pidFile: string | undefined;
  readonly hostname: string;
  readonly proclinePrefix: string;
  readonly refuseUnsafeRedis: boolean;
  readonly promoteDelayed: boolean;
  readonly tracing: boolean;
}

type Env = Readonly<Record<string, string | undefined>>;

/** Merges DEFAULTS, then the environment, then `options`; validates; returns a new frozen object. */
export function resolveConfig(options: ResqueOptions = {}, env: Env = process.env): ResolvedConfig {
  const fromEnv = readEnv(env);
  const merged = { ...DEFAULTS, ...stripUndefined(fromEnv), ...stripUndefined(options) };
  const redis = chooseRedis({ redis: options.redis, embeddedRedis: options.embeddedRedis }, env);
  const weighted = Array.isArray(merged.queues)
    ? splitQueueWeights(merged.queues)
    : { queues: merged.queues, weights: new Map() };
  const config: ResolvedConfig = {
    ...merged,
    redis: redis.target,
    redisSource: redis.source,
    redisIsDefault: redis.source === 'default',
    embeddedRedis: redis.source === 'embedded',
    cluster: clusterMode(options.cluster, redis.target),
    release: merged.release ?? applicationRelease(process.cwd()),
    queues: Object.freeze([...weighted.queues]),
    queueWeights: weighted.weights,
    hostname: merged.hostname || hostname(),
    count: merged.count === 0 ? availableParallelism() : merged.count,
    processes: merged.isolation === 'none' ? Math.max(1, merged.count) : 1,
    environment: env['RAILS_ENV'] || env['RACK_ENV'] || env['NODE_ENV'] || 'development',
    pidFile: merged.pidFile,
  };
  validate(config);
  return Object.freeze(config);
}

function readEnv(env: Env): ResqueOptions {
  const queues = env['QUEUES'] ?? env['QUEUE'];
  return {
    namespace: env['RESQUE_NAMESPACE'] || undefined,
    shards: integer('RESQUE_SHARDS', env['RESQUE_SHARDS']),
    queueShards: env['RESQUE_QUEUE_SHARDS'] ? parseQueueShards(env['RESQUE_QUEUE_SHARDS']) : undefined,
    strictPayloads: envFlag(env['RESQUE_STRICT_PAYLOADS']),
    waitForReplicas: integer('RESQUE_WAIT_FOR_REPLICAS', env['RESQUE_WAIT_FOR_REPLICAS']),
    failureBackend: (env['FAILURE_BACKEND'] || undefined) as FailureBackendName | undefined,
    release: env['RESQUE_RELEASE'] || undefined,
    queues: queues ? splitList(queues) : undefined,
    intervalMs: seconds('INTERVAL', env['INTERVAL']),
    termTimeoutMs: seconds('RESQUE_TERM_TIMEOUT', env['RESQUE_TERM_TIMEOUT']),
    preShutdownTimeoutMs: seconds('RESQUE_PRE_SHUTDOWN_TIMEOUT', env['RESQUE_PRE_SHUTDOWN_TIMEOUT']),
    gracefulTerm: envFlag(env['GRACEFUL_TERM']),
    heartbeatIntervalMs: seconds('RESQUE_HEARTBEAT_INTERVAL', env['RESQUE_HEARTBEAT_INTERVAL']),
    deadWorkerAfterMs: seconds('RESQUE_PRUNE_INTERVAL', env['RESQUE_PRUNE_INTERVAL']),
    livenessIntervalMs: seconds('RESQUE_LIVENESS_INTERVAL', env['RESQUE_LIVENESS_INTERVAL']),
    livenessTimeoutMs: seconds('RESQUE_LIVENESS_TIMEOUT', env['RESQUE_LIVENESS_TIMEOUT']),
    reaperIntervalMs: seconds('RESQUE_REAPER_INTERVAL', env['RESQUE_REAPER_INTERVAL']),
    maxReturns: integer('RESQUE_MAX_RETURNS', env['RESQUE_MAX_RETURNS']),
    onTermTimeout: (env['RESQUE_ON_TERM_TIMEOUT'] || undefined) as OnTermTimeout | undefined,
    concurrency: integer('CONCURRENCY', env['CONCURRENCY']),
    isolation: (env['RESQUE_ISOLATION'] || undefined) as Isolation | undefined,
    count: integer('COUNT', env['COUNT']),
    spare: integer('RESQUE_SPARE', env['RESQUE_SPARE']),
    jobTimeoutMs: seconds('RESQUE_JOB_TIMEOUT', env['RESQUE_JOB_TIMEOUT']),
    jobTimeoutGraceMs: seconds('RESQUE_JOB_TIMEOUT_GRACE', env['RESQUE_JOB_TIMEOUT_GRACE']),
    cancelGraceMs: seconds('RESQUE_CANCEL_GRACE', env['RESQUE_CANCEL_GRACE']),
    memorySoftLimitMb: megabytes('RESQUE_MEMORY_SOFT_LIMIT_MB', env['RESQUE_MEMORY_SOFT_LIMIT_MB']),
    memoryHardLimitMb: megabytes('RESQUE_MEMORY_HARD_LIMIT_MB', env['RESQUE_MEMORY_HARD_LIMIT_MB']),
    maxJobsPerChild: integer('RESQUE_MAX_JOBS_PER_CHILD', env['RESQUE_MAX_JOBS_PER_CHILD']),
    logLevel: logLevelFromEnv(env),
    logFormat: (env['RESQUE_LOG_FORMAT'] || undefined) as LogFormat | undefined,
    metricsPort: integer('RESQUE_METRICS_PORT', env['RESQUE_METRICS_PORT']),
    healthPort: integer('RESQUE_HEALTH_PORT', env['RESQUE_HEALTH_PORT']),
    listenHost: env['RESQUE_LISTEN_HOST'] || undefined,
    pidFile: env['PIDFILE'] || undefined,
    proclinePrefix: env['RESQUE_PROCLINE_PREFIX'] || undefined,
    refuseUnsafeRedis: envFlag(env['RESQUE_REFUSE_UNSAFE_REDIS']),
    promoteDelayed: envFlag(env['RESQUE_PROMOTE_DELAYED']),
    tracing: envFlag(env['RESQUE_TRACING']),
  };
}

/** RESQUE_LOG_LEVEL names a level; Resque's VVERBOSE and VERBOSE (or LOGGING) mean debug and info. */
function logLevelFromEnv(env: Env): LogLevel | undefined {
  const named = env['RESQUE_LOG_LEVEL']?.trim().toLowerCase();
  if (named) return named as LogLevel;
  if (env['VVERBOSE']) return 'debug';
  return env['VERBOSE'] || env['LOGGING'] ? 'info' : undefined;
}

/** Comma list as Ruby reads QUEUES: entries trimmed, empties dropped. */
export function splitList(text: string): string[] {
  return text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
}

function envFlag(value: string | undefined): boolean | undefined {
  if (value === undefined || value === '') return undefined;
  return /^(1|t|true|y|yes|on)$/i.test(value.trim());
}

function seconds(name: string, value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0)
    throw new ConfigError(name, `expected seconds >= 0, got ${JSON.stringify(value)}`);
  return Math.round(parsed * 1000);
}

function megabytes(name: string, value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0)
    throw new ConfigError(name, `expected megabytes >= 0, got ${JSON.stringify(value)}`);
  return parsed;
}

function integer(name: string, value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const parsed = Number(value);
  if (!Number.isInteger(parsed))
    throw new ConfigError(name, `expected an integer, got ${JSON.stringify(value)}`);
  return parsed;
}

function clusterMode(cluster: ResqueOptions['cluster'], target: RedisTarget): ClusterOptions | undefined {
  if (cluster !== undefined && cluster !== false && cluster !== true && typeof cluster !== 'object')
    throw new ConfigError(
      'cluster',
      `expected true, false or ioredis ClusterOptions, got ${JSON.stringify(cluster)}`,
    );
  if (typeof cluster === 'object' && cluster !== null) return cluster;
  if (cluster === true || (typeof target === 'string' && isClusterUrl(target))) return {};
  return undefined;
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

const LOG_LEVELS: readonly LogLevel[] = ['silent', 'error', 'warn', 'info', 'debug'];
const LOG_FORMATS: readonly LogFormat[] = ['auto', 'json', 'text'];

function validate(config: ResolvedConfig): void {
  if (!/^[^\s]+$/.test(config.namespace))
    throw new ConfigError('namespace', 'must be a non-empty string without spaces');
  if (config.namespace.endsWith(':'))
    throw new ConfigError('namespace', 'must not end with ":" (the separator is added)');
  checkTarget(config.redis);
  checkShards(config);
  if (config.cluster) checkClusterTarget(config);
  for (const key of [
    'connectTimeoutMs',
    'intervalMs',
    'heartbeatIntervalMs',
    'deadWorkerAfterMs',
    'livenessIntervalMs',
    'livenessTimeoutMs',
    'reaperIntervalMs',
    'termTimeoutMs',
    'preShutdownTimeoutMs',
    'commandRetries',
    'waitForReplicas',
    'replicaTimeoutMs',
    'maxReturns',
    'jobTimeoutMs',
    'jobTimeoutGraceMs',
    'cancelGraceMs',
    'memorySoftLimitMb',
    'memoryHardLimitMb',
  ] as const) {
    const value = config[key];
    if (!Number.isFinite(value) || value < 0)
      throw new ConfigError(key, `expected a number >= 0, got ${String(value)}`);
  }
  if (!Number.isInteger(config.concurrency) || config.concurrency < 1) {
    throw new ConfigError('concurrency', `expected an integer >= 1, got ${String(config.concurrency)}`);
  }
  validateSupervision(config);
  if (config.heartbeatIntervalMs === 0) throw new ConfigError('heartbeatIntervalMs', 'must be > 0');
  if (config.reaperIntervalMs === 0) throw new ConfigError('reaperIntervalMs', 'must be > 0');
  if (config.livenessIntervalMs === 0) throw new ConfigError('livenessIntervalMs', 'must be > 0');
  if (config.livenessTimeoutMs < 2 * config.livenessIntervalMs) {
    throw new ConfigError(
      'livenessTimeoutMs',
      'must be at least twice livenessIntervalMs, or one late beat would make a live worker look dead',
    );
  }
  if (config.deadWorkerAfterMs <= config.heartbeatIntervalMs) {
    throw new ConfigError(
      'deadWorkerAfterMs',
      'must be longer than heartbeatIntervalMs, or live workers would be reaped',
    );
  }
  if (config.failureBackend !== 'redis' && config.failureBackend !== 'redis_multi_queue') {
    throw new ConfigError(
      'failureBackend',
      `expected "redis" or "redis_multi_queue", got ${JSON.stringify(config.failureBackend)}`,
    );
  }
  if (config.onTermTimeout !== 'requeue' && config.onTermTimeout !== 'fail') {
    throw new ConfigError(
      'onTermTimeout',
      `expected "requeue" or "fail", got ${JSON.stringify(config.onTermTimeout)}`,
    );
  }
  if (!LOG_LEVELS.includes(config.logLevel)) {
    throw new ConfigError(
      'logLevel',
      `expected one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(config.logLevel)}`,
    );
  }
  if (!LOG_FORMATS.includes(config.logFormat)) {
    throw new ConfigError(
      'logFormat',
      `expected one of ${LOG_FORMATS.join(', ')}, got ${JSON.stringify(config.logFormat)}`,
    );
  }
  validatePorts(config);
  if (typeof config.tracing !== 'boolean')
    throw new ConfigError('tracing', `expected true or false, got ${JSON.stringify(config.tracing)}`);
  if (!Array.isArray(config.queues) || config.queues.some((q) => typeof q !== 'string' || q.trim() === '')) {
    throw new ConfigError('queues', 'expected a list of non-empty queue names or patterns');
  }
  // The names the API accepts, so that no worker waits on a queue nobody can enqueue to.
  for (const entry of config.queues) assertQueuePattern(entry.trim());
}

function validatePorts(config: ResolvedConfig): void {
  for (const key of ['metricsPort', 'healthPort'] as const) {
    const value = config[key];
    if (!Number.isInteger(value) || value < 0 || value > 65_535)
      throw new ConfigError(key, `expected a port number (0 = off), got ${String(value)}`);
  }
  if (typeof config.listenHost !== 'string' || config.listenHost.trim() === '')
    throw new ConfigError('listenHost', 'expected an address such as 0.0.0.0 or 127.0.0.1');
}

function validateSupervision(config: ResolvedConfig): void {
  if (config.isolation !== 'process' && config.isolation !== 'none') {
    throw new ConfigError(
      'isolation',
      `expected "process" or "none", got ${JSON.stringify(config.isolation)}`,
    );
  }
  for (const [key, min] of [
    ['count', 1],
    ['spare', 0],
    ['maxJobsPerChild', 0],
  ] as const) {
    const value = config[key];
    if (!Number.isInteger(value) || value < min)
      throw new ConfigError(key, `expected an integer >= ${min}, got ${String(value)}`);
  }
  const { memorySoftLimitMb: soft, memoryHardLimitMb: hard } = config;
  if (soft > 0 && hard > 0 && hard < soft) {
    throw new ConfigError('memoryHardLimitMb', `must not be below memorySoftLimitMb (${hard} < ${soft})`);
  }
}

function checkShards(config: ResolvedConfig): void {
  for (const queue of Object.keys(config.queueShards)) {
    try {
      assertQueueName(queue);
    } catch (error) {
      throw new ConfigError('queueShards', (error as Error).message);
    }
  }
  new ShardLayout(config.namespace, config.shards, new Map(Object.entries(config.queueShards)));
}

function checkClusterTarget(config: ResolvedConfig): void {
  // A sharded namespace is the base of its shards' tags (each shard's namespace carries one).
  if (config.shards === 1) checkClusterNamespace(config.namespace);
  const target = config.redis;
  if (config.embeddedRedis) throw new ConfigError('cluster', 'the embedded redis-server is not a cluster');
  if (typeof target === 'string' && (target.startsWith('/') || /^(unix|redis\+sentinel):/.test(target)))
    throw new ConfigError(
      'redis',
      'cluster mode needs host:port addresses (redis+cluster://host:port,host:port)',
    );
  if (typeof target === 'object' && !isPlainOptions(target))
    throw new ConfigError(
      'redis',
      'cluster mode opens its own connections: give a URL or ioredis options, not a client',
    );
}

function isPlainOptions(target: object): boolean {
  const proto = Object.getPrototypeOf(target);
  return proto === Object.prototype || proto === null;
}

function checkTarget(target: RedisTarget): void {
  if (typeof target !== 'string') return;
  if (target.startsWith('/')) return;
  if (isClusterUrl(target)) {
    parseClusterUrl(target);
    return;
  }
  if (target.startsWith('redis+sentinel://')) {
    redisOptionsFromUrl(target);
    return;
  }
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new ConfigError('redis', `not a URL or socket path: ${JSON.stringify(target)}`);
  }
  if (!['redis:', 'rediss:', 'unix:'].includes(url.protocol)) {
    throw new ConfigError(
      'redis',
      `unsupported scheme ${url.protocol} (use redis://, rediss://, unix://, redis+sentinel:// or redis+cluster://)`,
    );
  }
}
