import { constants } from 'node:os';
import type { RedisTarget } from '../config/options.js';
import {
  DEFAULT_REDIS_ADVICE,
  describeRedisChoice,
  embeddedRequested,
  type RedisSource,
} from '../config/redis-source.js';
import { RedisConnectionError } from '../errors/index.js';
import { describeTarget } from '../redis/connection.js';
import {
  type PrivateRedis,
  privateRedisDir,
  redisAnswers,
  startPrivateRedis,
} from '../redis/private-server.js';
import { type Command, type CommandIO, UsageError } from './command.js';

/** What a command runs with once its Redis is chosen. */
export interface CommandRedis {
  values: Record<string, unknown>;
  io: CommandIO;
  /** The embedded server started (or joined) for this command, if any. */
  server: PrivateRedis | undefined;
  /** Stops a server this process started and removes the exit/signal handlers. */
  release(): Promise<void>;
}

/**
 * Where the command line says Redis is, by the library's rule (config/redis-source.ts) with the CLI's flags:
 * `--redis`; `--embedded-redis`; `REDIS_URL`; `RESQUE_EMBEDDED_REDIS=1` (or a command that runs on the embedded
 * server unless told otherwise, `resque demo`); else the default address.
 */
export function commandLineRedisSource(
  values: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  embeddedByDefault = false,
): RedisSource {
  const flag = values['embedded-redis'] === true;
  if (typeof values['redis'] === 'string') {
    if (flag) throw new UsageError('give --redis or --embedded-redis, not both');
    return 'options';
  }
  if (flag) return 'embedded';
  if (env['REDIS_URL']) return 'REDIS_URL';
  return embeddedByDefault || embeddedRequested(env) ? 'embedded' : 'default';
}

/**
 * Gives a command that talks to Redis the server the rule names. For the embedded server, that is a private
 * `redis-server` with its data under `./.resque-data` (or RESQUE_DATA_DIR), started or joined here and passed to the
 * command as `--redis` and, for processes it spawns, REDIS_URL. `io.redisSource` tells the command where its Redis
 * came from, for its start-up line (`announceRedis`).
 */
export async function provideRedis(
  command: Command,
  values: Record<string, unknown>,
  io: CommandIO,
): Promise<CommandRedis> {
  const unchanged: CommandRedis = { values, io, server: undefined, release: async () => {} };
  if (!command.options || !('redis' in command.options)) return unchanged;
  const source = commandLineRedisSource(values, io.env, command.embeddedRedisByDefault);
  if (source !== 'embedded') {
    return { ...unchanged, io: source === 'options' ? { ...io, redisSource: 'options' } : io };
  }
  const server = await startPrivateRedis({
    dataDir: privateRedisDir(io.env),
    searchPath: io.env['PATH'] ?? '',
  });
  const uninstall = stopWithProcess(server);
  const how = server.started ? 'started' : 'shared';
  io.stderr.write(
    `resque: embedded redis-server at ${server.url} (${how}; data in ${server.dataDir}; ` +
      'it stops when the last resque command using it exits)\n',
  );
  return {
    values: { ...values, redis: server.url },
    io: { ...io, env: { ...io.env, REDIS_URL: server.url }, redisSource: 'embedded' },
    server,
    async release() {
      await server.stop();
      uninstall();
    },
  };
}

/**
 * The start-up line's account of Redis, `redis://127.0.0.1:6379 (default)`, once it is known that something answers
 * there: when no Redis was configured and nothing answers on the default address, a RedisConnectionError naming
 * REDIS_URL (exit code 3) instead of a process that waits for a Redis nobody meant to run.
 */
export async function announceRedis(
  config: { redis: RedisTarget; redisSource: RedisSource },
  io: CommandIO,
): Promise<string> {
  // The command line's account first: an embedded server or --redis reach the options as a URL.
  const source = io.redisSource ?? config.redisSource;
  if (source === 'default' && typeof config.redis === 'string') {
    const url = new URL(config.redis);
    if (!(await redisAnswers(url.hostname, Number(url.port || 6379)))) {
      throw new RedisConnectionError(
        `${describeTarget(config.redis)}, the default address`,
        'nothing answers there',
        DEFAULT_REDIS_ADVICE,
      );
    }
  }
  return describeRedisChoice(
    { target: config.redis, source },
    io.redisSource === 'options' ? '--redis' : 'options',
  );
}

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Stops the server with the process. On exit (however it comes) the server gets SIGTERM and flushes its AOF. On
 * SIGINT/SIGTERM/SIGHUP, a command with its own handler (a worker shutting down gracefully) keeps control and the
 * server stops when the command returns; otherwise the server is stopped and the process exits as the signal would.
 */
export function stopWithProcess(server: PrivateRedis): () => void {
  const onExit = () => server.stopNow();
  const handlers = STOP_SIGNALS.map((signal) => {
    const handler = () => {
      if (process.listenerCount(signal) > 1) return;
      void server.stop().finally(() => process.exit(128 + constants.signals[signal]));
    };
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  process.on('exit', onExit);
  return () => {
    process.off('exit', onExit);
    for (const [signal, handler] of handlers) process.off(signal, handler);
  };
}
