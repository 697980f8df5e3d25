import {
  RedisConnectionError,
  RedisNotInstalledError,
  RedisUnsafeError,
  ResqueError,
} from '../errors/index.js';
import { type CommandIO, EXIT, UsageError } from './command.js';

/** An error as the CLI reports it: one line (or one JSON object), a stable code and the exit code. */
export interface Reported {
  /** A ResqueErrorCode, or USAGE, CANNOT_LISTEN, INTERNAL. */
  code: string;
  message: string;
  exit: number;
  /** Usage mistakes point at `--help`. */
  usage: boolean;
}

/** Classifies an error; `undefined` for one that is not the user's doing (a bug: reported with its stack). */
export function describeError(error: unknown): Reported | undefined {
  if (error instanceof UsageError) return usage(error.message);
  if (
    error instanceof RedisConnectionError ||
    error instanceof RedisNotInstalledError ||
    error instanceof RedisUnsafeError
  ) {
    return { code: error.code, message: error.message, exit: EXIT.unavailable, usage: false };
  }
  if (error instanceof ResqueError) {
    const bad = error.code.startsWith('INVALID_') || error.code === 'CONFIG_INVALID';
    return { code: error.code, message: error.message, exit: bad ? EXIT.usage : EXIT.failure, usage: bad };
  }
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code !== 'string' || typeof message !== 'string') return undefined;
  if (code.startsWith('ERR_PARSE_ARGS')) return usage(parseArgsMessage(message));
  if ((error as { syscall?: string }).syscall === 'listen') {
    const {
      address,
      port,
      option = '--port',
    } = error as { address?: string; port?: number; option?: string };
    const why =
      code === 'EADDRINUSE'
        ? `is already in use (choose another with ${option})`
        : code === 'EACCES'
          ? 'needs privileges (choose a port above 1023)'
          : `cannot be listened on (${firstLine(message)})`;
    return {
      code: 'CANNOT_LISTEN',
      message: `${address ?? ''}:${port ?? ''} ${why}`,
      exit: EXIT.failure,
      usage: false,
    };
  }
  if (code === 'ERR_UNKNOWN_FILE_EXTENSION' || code === 'ERR_MODULE_NOT_FOUND') {
    const hint =
      code === 'ERR_UNKNOWN_FILE_EXTENSION' ? ' (compile it to JavaScript and give the .js file)' : '';
    return usage(`cannot load a module: ${firstLine(message)}${hint}`);
  }
  return undefined;
}

/** Writes the error for `resque <command>` and returns the exit code. */
export function reportError(command: string, error: unknown, json: boolean, io: CommandIO): number {
  const reported = describeError(error);
  const prefix = command ? `resque ${command}` : 'resque';
  if (!reported) {
    const message = error instanceof Error ? error.message : String(error);
    if (json) io.stderr.write(`${JSON.stringify({ error: { code: 'INTERNAL', message } })}\n`);
    else io.stderr.write(`${prefix}: ${error instanceof Error ? (error.stack ?? message) : message}\n`);
    return EXIT.failure;
  }
  if (json) {
    io.stderr.write(`${JSON.stringify({ error: { code: reported.code, message: reported.message } })}\n`);
  } else {
    const hint = reported.usage ? ` (see "resque ${command ? `${command} ` : ''}--help")` : '';
    io.stderr.write(`${prefix}: ${firstLine(reported.message)}${hint}\n`);
  }
  return reported.exit;
}

function usage(message: string): Reported {
  return { code: 'USAGE', message, exit: EXIT.usage, usage: true };
}

/** node:util parseArgs explains at length how to pass a positional starting with "-"; the option is what matters. */
function parseArgsMessage(message: string): string {
  const unknown = /^Unknown option '([^']+)'/.exec(message);
  if (unknown) return `unknown option ${unknown[1]}`;
  return firstLine(message).replace(/\.$/, '');
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.trim();
}
