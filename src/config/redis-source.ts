import { RedisConnectionError } from '../errors/index.js';
import { describeTarget } from '../redis/connection.js';
import { privateRedisDir, runningPrivateRedisUrl } from '../redis/private-server.js';
import { DEFAULT_REDIS_URL, type RedisTarget, type ResqueOptions } from './options.js';

/**
 * Where the Redis in use was named: the `redis` option (`--redis`), `REDIS_URL`, the embedded server
 * (`embeddedRedis`, `--embedded-redis`, `RESQUE_EMBEDDED_REDIS=1`, `resque demo`), or nowhere (the default address).
 */
export type RedisSource = 'options' | 'REDIS_URL' | 'embedded' | 'default';

export interface RedisChoice {
  readonly target: RedisTarget;
  readonly source: RedisSource;
}

type Env = Readonly<Record<string, string | undefined>>;

/** What to change when nothing answers on the default address. */
export const DEFAULT_REDIS_ADVICE =
  'No Redis is configured: set REDIS_URL (or --redis) to your Redis, ' +
  'or use --embedded-redis (RESQUE_EMBEDDED_REDIS=1) for a private redis-server in ./.resque-data';

/**
 * The one rule for finding Redis, shared by the library and the CLI: the `redis` option; else the embedded server
 * when the `embeddedRedis` option asks for it; else `REDIS_URL`; else the embedded server when
 * `RESQUE_EMBEDDED_REDIS` asks for it; else redis://127.0.0.1:6379. The embedded server is looked for, never started,
 * here (the CLI starts it): a RedisConnectionError says when none runs in its data folder.
 */
export function chooseRedis(
  options: Pick<ResqueOptions, 'redis' | 'embeddedRedis'>,
  env: Env = process.env,
): RedisChoice {
  if (options.redis !== undefined) return { target: options.redis, source: 'options' };
  if (options.embeddedRedis === true) return embedded(env);
  if (env['REDIS_URL']) return { target: env['REDIS_URL'], source: 'REDIS_URL' };
  if (options.embeddedRedis !== false && embeddedRequested(env)) return embedded(env);
  return { target: DEFAULT_REDIS_URL, source: 'default' };
}

/** `RESQUE_EMBEDDED_REDIS` is set to a true value (1, true, yes, on). */
export function embeddedRequested(env: Env): boolean {
  return /^(1|t|true|y|yes|on)$/i.test((env['RESQUE_EMBEDDED_REDIS'] ?? '').trim());
}

function embedded(env: Env): RedisChoice {
  const dataDir = privateRedisDir(env);
  const url = runningPrivateRedisUrl(dataDir);
  if (url === undefined) {
    throw new RedisConnectionError(
      `the embedded redis-server of ${dataDir}`,
      'none is running there',
      'Start it with a resque command given --embedded-redis (e.g. `npx resque web --embedded-redis`) in the same ' +
        'folder (or RESQUE_DATA_DIR), or set REDIS_URL',
    );
  }
  return { target: url, source: 'embedded' };
}

/** `redis://127.0.0.1:6379 (default)`, `redis://cache:6379 (from REDIS_URL)`: the start-up line's words. */
export function describeRedisChoice(choice: RedisChoice, optionName = 'options'): string {
  const how =
    choice.source === 'options'
      ? `from ${optionName}`
      : choice.source === 'REDIS_URL'
        ? 'from REDIS_URL'
        : choice.source;
  return `${describeTarget(choice.target)} (${how})`;
}

/** The advice a connection error carries: set REDIS_URL, when Redis was looked for only at the default address. */
export function connectionAdvice(source: RedisSource | undefined): string | undefined {
  return source === 'default' ? DEFAULT_REDIS_ADVICE : undefined;
}
