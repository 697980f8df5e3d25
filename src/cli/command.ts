import type { ParseArgsConfig } from 'node:util';
import type { RedisSource } from '../config/redis-source.js';

/** Exit codes scripts can rely on. */
export const EXIT = {
  ok: 0,
  /** The operation ran but found a problem (e.g. unknown failure id, nothing matched, a port in use). */
  failure: 1,
  /** Bad command line: unknown command, bad option, bad JSON argument, invalid queue or class name. */
  usage: 2,
  /** Redis could not be reached (or, for a worker with refuseUnsafeRedis, is set up so that it can lose jobs). */
  unavailable: 3,
} as const;

export interface CommandIO {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly env: NodeJS.ProcessEnv;
  /** Where answers to confirmations come from; commands ask only when it is a terminal. */
  readonly stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
  /** Where the command line put Redis (`--redis`, or the embedded server), when it did (./private-redis.ts). */
  readonly redisSource?: RedisSource;
}

/**
 * What `--help` says of one option. An option that sets a ResqueOptions field (`--interval` → `intervalMs`) needs
 * none of it: its meaning, default and environment variable come from the option table (./option-reference.ts).
 */
export interface OptionHelp {
  /** What it does; required unless the option sets a ResqueOptions field. */
  readonly description?: string;
  /** Its value's placeholder: `url` shows as `--redis <url>`. */
  readonly value?: string;
  readonly default?: string;
  readonly env?: string;
  /** The ResqueOptions field it sets, when its name does not say (`pidfile` → `pidFile`). */
  readonly field?: string;
}

/** One `resque <name>` command: its own module under ./commands, listed in ./commands/index.ts. */
export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  readonly options?: ParseArgsConfig['options'];
  /** `--help` text of the options, by option name (see OptionHelp). */
  readonly optionHelp?: Readonly<Record<string, OptionHelp>>;
  /** The command takes options only: a word left over (an unquoted `--queues a b`) is a usage error. */
  readonly noArguments?: boolean;
  /** Checks the command line before any Redis is looked for or started; throws UsageError. */
  check?(args: { values: Record<string, unknown>; positionals: string[] }): void;
  /** Exit the process once `run` returns, whatever handles the application's code left open (workers). */
  readonly exitWhenDone?: boolean;
  /** Runs on the embedded redis-server unless `--redis` or REDIS_URL names one (`resque demo`). */
  readonly embeddedRedisByDefault?: boolean;
  run(args: { values: Record<string, unknown>; positionals: string[] }, io: CommandIO): Promise<number>;
}

/** A bad command line: one line naming what to change, exit code 2. */
export class UsageError extends Error {}

/** Where a command finds its Redis and namespace. */
export const REDIS_OPTIONS = {
  redis: { type: 'string', short: 'r' },
  'embedded-redis': { type: 'boolean' },
  namespace: { type: 'string', short: 'N' },
} as const satisfies ParseArgsConfig['options'];

/** How the namespace is spread over shards (docs/cluster.md, Shards): what the admin commands and the dashboard read. */
export const SHARD_OPTIONS = {
  shards: { type: 'string' },
  'queue-shards': { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

/** Options every admin command that talks to Redis accepts. */
export const CONNECTION_OPTIONS = {
  ...REDIS_OPTIONS,
  ...SHARD_OPTIONS,
  json: { type: 'boolean' },
} as const satisfies ParseArgsConfig['options'];

export const CONNECTION_HELP: Readonly<Record<string, OptionHelp>> = {
  redis: { value: 'url' },
  'embedded-redis': {
    description:
      'Run on the embedded redis-server (data in ./.resque-data, or RESQUE_DATA_DIR): started, or shared with the resque commands already using it, and stopped by the last one to exit.',
    env: 'RESQUE_EMBEDDED_REDIS',
  },
  namespace: { value: 'ns' },
  shards: { value: 'n' },
  'queue-shards': { value: 'q=n,…', field: 'queueShards' },
  json: {
    description: 'Print JSON: the result on stdout; an error as {"error":{"code","message"}} on stderr.',
  },
};
