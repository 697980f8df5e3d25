import type { IncomingMessage } from 'node:http';
import type { Admin } from '../api/admin.js';
import type { RedisTarget } from '../config/options.js';
import type { AuditLog } from './security/audit.js';
import { allowedHostSet } from './security/origin.js';
import type { SignInDelayOptions } from './security/sign-in-delay.js';

/** Who may use the dashboard: HTTP basic auth, or a token (an `Authorization: Bearer` header or a sign-in form). */
export type DashboardAuth = { basic: { username: string; password: string } } | { token: string };

/** Options of `createDashboard` and `resque web`. Durations are milliseconds. */
export interface DashboardOptions {
  /** Redis to read; ignored when `admin` is given. Default `REDIS_URL`, else redis://127.0.0.1:6379. */
  redis?: RedisTarget;
  /** Resque namespace; ignored when `admin` is given. Default `RESQUE_NAMESPACE`, else `resque`. */
  namespace?: string;
  /**
   * Shards the namespace is spread over (docs/cluster.md, Shards); ignored when `admin` is given. Default
   * `RESQUE_SHARDS`, else 1 (not sharded).
   */
  shards?: number;
  /** Queues placed on a shard by name; ignored when `admin` is given. Default `RESQUE_QUEUE_SHARDS`. */
  queueShards?: Record<string, number>;
  /** An admin model you own (the dashboard does not close it). */
  admin?: Admin;
  /** Path the dashboard is mounted under, e.g. `/resque`. Default '' (the root). */
  prefix?: string;
  /** Show everything, change nothing: every POST is refused and no action buttons are shown. Default false. */
  readOnly?: boolean;
  /** Built-in authentication. Default none. */
  auth?: DashboardAuth;
  /**
   * The host application's own check, run before anything else on every request (e.g. its session): resolve true
   * to let the request in; false answers 403.
   */
  authorize?: (req: IncomingMessage) => boolean | Promise<boolean>;
  /**
   * Key for CSRF tokens and session cookies. Default: the token in token mode (so restarts and replicas agree),
   * else random per process (give one when several processes serve the dashboard).
   */
  secret?: string;
  /**
   * Origins (or bare hosts) besides the dashboard's own from which browsers may POST, e.g. the public address of a
   * proxy that rewrites `Host`. Hosts are compared, not schemes. Default none.
   */
  allowedOrigins?: readonly string[];
  /** How long a sign-in (token mode) lasts. Default 43200000 (12 hours). */
  sessionMaxAgeMs?: number;
  /** The delay before answering sign-in attempts from an address that keeps failing. */
  signInDelay?: SignInDelayOptions;
  /** Receives one entry per destructive action (who, what, how many). Default: a line on stderr. */
  audit?: AuditLog;
  /** How often live pages refresh. Default 2000. */
  pollIntervalMs?: number;
  /** A job running longer than this flags its worker as stuck. Default 600000 (10 minutes). */
  stuckJobMs?: number;
  /** A heartbeat older than this flags its worker as stuck. Default 150000 (2.5 heartbeat periods). */
  lateHeartbeatMs?: number;
  /** How often this dashboard writes a stats sample for the charts; 0 turns its sampler off. Default 10000. */
  sampleIntervalMs?: number;
  /** Rows per page. Default 20, resque-web's. */
  pageSize?: number;
}

export const DASHBOARD_DEFAULTS = {
  prefix: '',
  readOnly: false,
  pollIntervalMs: 2000,
  stuckJobMs: 600_000,
  lateHeartbeatMs: 150_000,
  sampleIntervalMs: 10_000,
  pageSize: 20,
  sessionMaxAgeMs: 12 * 3_600_000,
} as const satisfies Partial<DashboardOptions>;

export interface ResolvedDashboardOptions {
  readonly prefix: string;
  readonly readOnly: boolean;
  readonly auth: DashboardAuth | undefined;
  readonly authorize: DashboardOptions['authorize'];
  readonly pollIntervalMs: number;
  readonly stuckJobMs: number;
  readonly lateHeartbeatMs: number;
  readonly sampleIntervalMs: number;
  readonly pageSize: number;
  readonly sessionMaxAgeMs: number;
  /** `allowedOrigins` as lower-case hosts. */
  readonly allowedHosts: ReadonlySet<string>;
}

/** Merges defaults and checks values; the prefix is normalised to `''` or `/path` without a trailing slash. */
export function resolveDashboardOptions(options: DashboardOptions): ResolvedDashboardOptions {
  const prefix = (options.prefix ?? DASHBOARD_DEFAULTS.prefix).replace(/\/+$/, '');
  if (prefix !== '' && !prefix.startsWith('/')) {
    throw new TypeError(`prefix must start with "/", got ${JSON.stringify(options.prefix)}`);
  }
  const positive = (name: keyof typeof DASHBOARD_DEFAULTS, zeroOk = false): number => {
    const value = (options[name] as number | undefined) ?? (DASHBOARD_DEFAULTS[name] as number);
    if (!Number.isFinite(value) || value < 0 || (!zeroOk && value === 0)) {
      throw new TypeError(`${name} must be a positive number, got ${String(value)}`);
    }
    return value;
  };
  const auth = options.auth;
  checkAuth(auth);
  return Object.freeze({
    prefix,
    readOnly: options.readOnly ?? DASHBOARD_DEFAULTS.readOnly,
    auth,
    authorize: options.authorize,
    pollIntervalMs: positive('pollIntervalMs'),
    stuckJobMs: positive('stuckJobMs'),
    lateHeartbeatMs: positive('lateHeartbeatMs'),
    sampleIntervalMs: positive('sampleIntervalMs', true),
    pageSize: Math.floor(positive('pageSize')),
    sessionMaxAgeMs: positive('sessionMaxAgeMs'),
    allowedHosts: allowedHostSet(options.allowedOrigins ?? []),
  });
}

/** Refuses credentials that would let anyone in: an empty (or blank) token, user name or password. */
function checkAuth(auth: DashboardAuth | undefined): void {
  if (!auth) return;
  if ('token' in auth) {
    if (typeof auth.token !== 'string' || auth.token.trim() === '')
      throw new TypeError('auth.token must not be empty');
    return;
  }
  const { username, password } = auth.basic ?? {};
  if (typeof username !== 'string' || username.trim() === '')
    throw new TypeError('auth.basic.username must not be empty');
  if (username.includes(':')) throw new TypeError('auth.basic.username must not contain ":"');
  if (typeof password !== 'string' || password === '')
    throw new TypeError('auth.basic.password must not be empty');
}
