import type { ParseArgsConfig } from 'node:util';

/** Exit codes scripts can rely on. */
export const EXIT = {
  ok: 0,
  /** The operation ran but found a problem (e.g. unknown failure id, nothing matched). */
  failure: 1,
  /** Bad command line: unknown command, bad option, bad JSON argument. */
  usage: 2,
  /** Redis could not be reached. */
  unavailable: 3,
} as const;

export interface CommandIO {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly env: NodeJS.ProcessEnv;
}

/** One `resque <name>` command: its own module under ./commands, listed in ./commands/index.ts. */
export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  readonly options?: ParseArgsConfig['options'];
  /** Exit the process once `run` returns, whatever handles the application's code left open (workers). */
  readonly exitWhenDone?: boolean;
  run(args: { values: Record<string, unknown>; positionals: string[] }, io: CommandIO): Promise<number>;
}

/** A bad command line: printed with the command's usage, exit code 2. */
export class UsageError extends Error {}

/** Where a command finds its Redis and namespace. */
export const REDIS_OPTIONS = {
  redis: { type: 'string', short: 'r' },
  namespace: { type: 'string', short: 'N' },
} as const satisfies ParseArgsConfig['options'];

/** Options every admin command that talks to Redis accepts. */
export const CONNECTION_OPTIONS = {
  ...REDIS_OPTIONS,
  json: { type: 'boolean' },
} as const satisfies ParseArgsConfig['options'];
