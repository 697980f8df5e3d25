import { constants } from 'node:os';
import { DEFAULT_REDIS_URL } from '../config/options.js';
import { configuredRedis } from '../config/resolve.js';
import {
  PRIVATE_REDIS_DIR,
  type PrivateRedis,
  redisAnswers,
  startPrivateRedis,
} from '../redis/private-server.js';
import type { Command, CommandIO } from './command.js';

/** What a command runs with once its Redis is chosen. */
export interface CommandRedis {
  values: Record<string, unknown>;
  io: CommandIO;
  /** The private server started (or joined) for this command, if any. */
  server: PrivateRedis | undefined;
  /** Stops a server this process started and removes the exit/signal handlers. */
  release(): Promise<void>;
}

/**
 * Gives a command that talks to Redis the server it should use. With `--redis` or REDIS_URL, that one. Otherwise the
 * one on 127.0.0.1:6379 if something answers there, else a private redis-server with its data under
 * `./.resque-data` (or RESQUE_DATA_DIR): passed to the command as `--redis` and, for processes it spawns, REDIS_URL.
 */
export async function provideRedis(
  command: Command,
  values: Record<string, unknown>,
  io: CommandIO,
): Promise<CommandRedis> {
  const unchanged: CommandRedis = { values, io, server: undefined, release: async () => {} };
  if (!command.options || !('redis' in command.options)) return unchanged;
  const server = await privateRedisIfNeeded(values['redis'] as string | undefined, io.env);
  if (!server) return unchanged;
  const uninstall = stopWithProcess(server);
  const how = server.started ? 'started' : 'shared';
  io.stderr.write(
    `resque: no Redis configured and none on 127.0.0.1:6379; using a private redis-server at ${server.url} ` +
      `(${how}; data in ${server.dataDir}; it stops when the last resque command using it exits)\n`,
  );
  return {
    values: { ...values, redis: server.url },
    io: { ...io, env: { ...io.env, REDIS_URL: server.url } },
    server,
    async release() {
      await server.stop();
      uninstall();
    },
  };
}

/** A private server when no Redis is configured and none answers on the default address; undefined otherwise. */
export async function privateRedisIfNeeded(
  explicit: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<PrivateRedis | undefined> {
  if (configuredRedis({ redis: explicit }, env) !== undefined) return undefined;
  const fallback = new URL(DEFAULT_REDIS_URL);
  if (await redisAnswers(fallback.hostname, Number(fallback.port))) return undefined;
  return startPrivateRedis({
    dataDir: env['RESQUE_DATA_DIR'] || PRIVATE_REDIS_DIR,
    searchPath: env['PATH'] ?? '',
  });
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
