import { Redis, type RedisOptions } from 'ioredis';
import type { RedisTarget } from '../config/options.js';
import { RedisConnectionError, ResqueError } from '../errors/index.js';

export type ConnectionRole = 'client' | 'worker' | 'subscriber';

export interface ConnectionSettings {
  redis: RedisTarget;
  connectTimeoutMs: number;
  commandRetries: number;
}

/**
 * Opens an ioredis connection. Clients fail a command after `commandRetries` reconnect attempts with a clear
 * RedisConnectionError; workers and subscribers retry forever with capped backoff (they must outlive a Redis restart).
 */
export function openRedis(settings: ConnectionSettings, role: ConnectionRole): Redis {
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
    return role === 'client' ? target : target.duplicate(patientOverrides(patient));
  if (typeof target === 'string') {
    if (target.startsWith('/')) return new Redis({ ...options, path: target });
    if (target.startsWith('unix://')) {
      const url = new URL(target);
      const db = url.searchParams.get('db');
      return new Redis({ ...options, path: url.pathname, ...(db ? { db: Number(db) } : {}) });
    }
    return new Redis(target, options);
  }
  return new Redis({ ...options, ...target, ...patientOverrides(patient) });
}

function patientOverrides(patient: boolean): RedisOptions {
  return patient ? { maxRetriesPerRequest: null } : {};
}

/** A printable name for the target, without its password. */
export function describeTarget(target: RedisTarget): string {
  if (target instanceof Redis) return `${target.options.host ?? ''}:${target.options.port ?? ''}`;
  if (typeof target === 'string') {
    if (target.startsWith('/')) return target;
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
  'ETIMEDOUT',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENOENT',
  'EPIPE',
]);
const CONNECTION_MESSAGES =
  /Connection is closed|Reached the max retries per request limit|Stream isn't writeable|connect ETIMEDOUT/;

/** Turns ioredis's connection failures into RedisConnectionError; leaves command errors (and our own) alone. */
export function asConnectionError(error: unknown, target: RedisTarget): unknown {
  if (!(error instanceof Error) || error instanceof ResqueError) return error;
  if (error.name === 'ReplyError') return error;
  const code = (error as { code?: string }).code;
  if (
    (code && CONNECTION_CODES.has(code)) ||
    error.name === 'MaxRetriesPerRequestError' ||
    CONNECTION_MESSAGES.test(error.message)
  ) {
    return new RedisConnectionError(describeTarget(target), error);
  }
  return error;
}
