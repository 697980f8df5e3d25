import { type ClusterNode, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import type { RedisTarget } from '../config/options.js';
import { ConfigError, RedisConnectionError, ResqueError } from '../errors/index.js';
import {
  CLUSTER_NODE_ADVICE,
  isClusterDisabledError,
  isClusterNodeReply,
  isClusterUrl,
  isOneSlotCluster,
  NOT_A_CLUSTER_ADVICE,
  OneSlotCluster,
  parseClusterUrl,
} from './cluster.js';

export type ConnectionRole = 'client' | 'worker' | 'subscriber' | 'waker';

export interface ConnectionSettings {
  redis: RedisTarget;
  connectTimeoutMs: number;
  commandRetries: number;
  /** Cluster mode's ioredis options (config/resolve.ts): set, the connection is a OneSlotCluster for `namespace`. */
  cluster?: ClusterOptions | undefined;
  namespace?: string;
}

/**
 * Opens an ioredis connection. Clients fail a command after `commandRetries` reconnect attempts with a clear
 * RedisConnectionError; workers and subscribers retry forever with capped backoff (they must outlive a Redis restart).
 */
export function openRedis(settings: ConnectionSettings, role: ConnectionRole): Redis {
  if (settings.cluster) return openCluster(settings, settings.cluster, role);
  const patient = role !== 'client';
  const options: RedisOptions = {
    connectTimeout: settings.connectTimeoutMs,
    maxRetriesPerRequest: patient ? null : settings.commandRetries,
    enableReadyCheck: true,
    lazyConnect: false,
    retryStrategy: (attempt) => Math.min(50 * 2 ** Math.min(attempt, 6), 2000),
  };
  const target = settings.redis;
  if (target instanceof Redis)
    return role === 'client' ? target : rememberFailures(target.duplicate(patientOverrides(patient)), target);
  if (typeof target === 'string') {
    const parsed = redisOptionsFromUrl(target);
    return rememberFailures(
      parsed ? new Redis({ ...options, ...parsed }) : new Redis(target, options),
      target,
    );
  }
  return rememberFailures(new Redis({ ...options, ...target, ...patientOverrides(patient) }), target);
}

/**
 * A cluster client for the namespace's slot. It goes through the code as a `Redis`: resque-ts uses only commands
 * both clients have, and the ones that name no key reach the slot's primary (OneSlotCluster).
 */
function openCluster(settings: ConnectionSettings, given: ClusterOptions, role: ConnectionRole): Redis {
  const patient = role !== 'client';
  const { nodes, options } = clusterStartup(settings.redis);
  const address = describeTarget(settings.redis);
  const backoff = (attempt: number) => Math.min(50 * 2 ** Math.min(attempt, 6), 2000);
  const cluster = new OneSlotCluster(
    nodes,
    {
      enableReadyCheck: true,
      clusterRetryStrategy: (attempt, reason) => {
        if (notACluster.has(address) || isClusterDisabledError(reason)) return null;
        return patient || attempt <= settings.commandRetries ? backoff(attempt) : null;
      },
      ...given,
      redisOptions: {
        connectTimeout: settings.connectTimeoutMs,
        maxRetriesPerRequest: patient ? null : settings.commandRetries,
        ...options.redisOptions,
        ...given.redisOptions,
      },
    },
    settings.namespace ?? '',
  );
  cluster.on('error', (error: Error) => {
    if (isClusterDisabledError(error)) notACluster.add(address);
  });
  cluster.on('ready', () => notACluster.delete(address));
  return rememberFailures(cluster as unknown as Redis, settings.redis);
}

/** A cluster's start-up nodes from a cluster URL, a plain URL or ioredis options naming one node. */
function clusterStartup(target: RedisTarget): { nodes: ClusterNode[]; options: ClusterOptions } {
  if (typeof target === 'string') {
    if (isClusterUrl(target)) return parseClusterUrl(target);
    const url = new URL(target);
    return parseClusterUrl(
      `${url.protocol === 'rediss:' ? 'rediss' : 'redis'}+cluster://${url.username || url.password ? `${url.username}:${url.password}@` : ''}${url.hostname}:${url.port || 6379}`,
    );
  }
  const { host, port, ...redisOptions } = target as RedisOptions;
  return { nodes: [{ host: host ?? '127.0.0.1', port: port ?? 6379 }], options: { redisOptions } };
}

/**
 * The first check of a worker, a client and the dashboard, before anything is written: a plain connection that
 * reached a cluster node, or a cluster connection that reached a Redis without cluster support, is a ConfigError
 * naming the fix. A plain connection to the node that happens to serve the keys' slot would otherwise work until the
 * slot moves. Asked once per connection (INFO cluster); a Redis that refuses INFO (an ACL, a renamed command) is
 * not asked again, as its answer would not change. Callers on a hot path test `clusterModeChecked` first, to skip the
 * await.
 */
export async function checkClusterMode(
  redis: Redis,
  settings: Pick<ConnectionSettings, 'redis'>,
): Promise<void> {
  if (confirmedMode.has(redis)) return;
  let info: string;
  try {
    info = await redis.info('cluster');
  } catch (error) {
    const mapped = asConnectionError(error, settings.redis);
    if (mapped instanceof ConfigError) throw mapped;
    if (error instanceof Error && error.name === 'ReplyError') {
      confirmedMode.add(redis); // INFO refused: nothing to tell, now or later
      return;
    }
    throw error; // unreachable: the caller reports it as it reports its own commands' failures
  }
  if (!isOneSlotCluster(redis) && /^cluster_enabled:1\b/m.test(info))
    throw new ConfigError('redis', `${CLUSTER_NODE_ADVICE} (${describeTarget(settings.redis)})`);
  confirmedMode.add(redis);
}

/** Connections whose kind (plain or cluster) matches the server's. */
const confirmedMode = new WeakSet<Redis>();

/** Whether `checkClusterMode` has nothing left to check on this connection. */
export function clusterModeChecked(redis: Redis): boolean {
  return confirmedMode.has(redis);
}

/** Addresses whose cluster connection found a Redis without cluster support. */
const notACluster = new Set<string>();

/**
 * The last socket error seen per address, until a connection there is ready again. A command that gives up reports
 * only "Reached the max retries per request limit"; the error behind it (ECONNREFUSED, ENOTFOUND…) is here.
 */
const lastSocketError = new Map<string, Error>();

function rememberFailures(redis: Redis, target: RedisTarget): Redis {
  const address = describeTarget(target);
  redis.on('error', (error: Error) => {
    if (CONNECTION_CODES.has((error as { code?: string }).code ?? '')) lastSocketError.set(address, error);
  });
  redis.on('ready', () => lastSocketError.delete(address));
  return redis;
}

/**
 * ioredis options for the URL forms ioredis does not read itself: a socket path (`/run/redis.sock`,
 * `unix:///run/redis.sock?db=1`) and Sentinel (`redis+sentinel://[:password@]host:port,host:port/<master>[?db=1]`).
 * Returns undefined for `redis://` and `rediss://`, which ioredis reads as they are.
 */
export function redisOptionsFromUrl(target: string): RedisOptions | undefined {
  if (target.startsWith('/')) return { path: target };
  if (target.startsWith('unix://')) {
    const url = new URL(target);
    const db = url.searchParams.get('db');
    return { path: url.pathname, ...(db ? { db: Number(db) } : {}) };
  }
  if (target.startsWith('redis+sentinel://')) {
    const match = /^redis\+sentinel:\/\/(?:([^@/]*)@)?([^/?]+)\/([^/?]+)(?:\?(.*))?$/.exec(target);
    if (!match)
      throw new ConfigError('redis', `expected redis+sentinel://host:port,host:port/<master>, got ${target}`);
    const [, auth, hosts, name, query] = match;
    const sentinels = hosts!.split(',').map((hostPort) => {
      const [host, port] = hostPort.split(':');
      return { host: host!, port: Number(port ?? 26379) };
    });
    const params = new URLSearchParams(query ?? '');
    const password = auth
      ? decodeURIComponent(auth.includes(':') ? auth.slice(auth.indexOf(':') + 1) : auth)
      : undefined;
    const db = params.get('db');
    return {
      sentinels,
      name: decodeURIComponent(name!),
      ...(password ? { password } : {}),
      ...(db ? { db: Number(db) } : {}),
    };
  }
  return undefined;
}

function patientOverrides(patient: boolean): RedisOptions {
  return patient ? { maxRetriesPerRequest: null } : {};
}

/** A printable name for the target, without its password. */
export function describeTarget(target: RedisTarget): string {
  if (target instanceof Redis) return `${target.options.host ?? ''}:${target.options.port ?? ''}`;
  if (typeof target === 'string') {
    if (target.startsWith('/')) return target;
    if (isClusterUrl(target)) return target.replace(/\/\/[^@/]*@/, '//');
    try {
      const url = new URL(target);
      url.password = '';
      url.username = '';
      return url.toString().replace(/\/$/, '');
    } catch {
      return target;
    }
  }
  return target.path ?? `${target.host ?? '127.0.0.1'}:${target.port ?? 6379}`;
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENOENT',
  'EPIPE',
]);
// The last four are ioredis's Cluster giving up: every node gone, or the slot's primary unreachable (CLUSTERDOWN).
const CONNECTION_MESSAGES =
  /Connection is closed|Reached the max retries per request limit|Stream isn't writeable|connect ETIMEDOUT|Too many Cluster redirections|None of startup nodes is available|Cluster is ended|^CLUSTERDOWN/;

/**
 * Turns ioredis's connection failures into RedisConnectionError; leaves command errors (and our own) alone. `advice`
 * is added to the message (config/redis-source.ts `connectionAdvice`: set REDIS_URL, when no Redis was configured).
 */
export function asConnectionError(error: unknown, target: RedisTarget, advice?: string): unknown {
  if (!(error instanceof Error) || error instanceof ResqueError) return error;
  const address = describeTarget(target);
  if (notACluster.has(address)) return new ConfigError('redis', `${NOT_A_CLUSTER_ADVICE} (${address})`);
  if (isClusterNodeReply(error) && !(typeof target === 'string' && isClusterUrl(target)))
    return new ConfigError('redis', `${CLUSTER_NODE_ADVICE} (${address}; Redis said: ${error.message})`);
  if (error.name === 'ReplyError' && !error.message.startsWith('CLUSTERDOWN')) return error;
  const code = (error as { code?: string }).code;
  if (
    (code && CONNECTION_CODES.has(code)) ||
    error.name === 'MaxRetriesPerRequestError' ||
    CONNECTION_MESSAGES.test(error.message)
  ) {
    const gaveUp = !(code && CONNECTION_CODES.has(code));
    return new RedisConnectionError(address, (gaveUp && lastSocketError.get(address)) || error, advice);
  }
  return error;
}
