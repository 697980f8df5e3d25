import { Admin } from '../../api/admin.js';
import type { ResqueOptions } from '../../config/options.js';
import { RedisConnectionError, RedisNotInstalledError, ResqueError } from '../../errors/index.js';
import type { BulkProgress, ProgressCallback } from '../../failure/sweep.js';
import type { JsonValue } from '../../protocol/json.js';
import { parseQueueShards } from '../../protocol/shard-layout.js';
import { type Command, type CommandIO, EXIT, UsageError } from '../command.js';

/** What the admin commands share: an Admin on the command's connection options, closed afterwards. */
export type CommandValues = Record<string, unknown>;

/**
 * Runs an admin command: opens an Admin from `--redis`/`--namespace` and closes it afterwards. Errors go up to the
 * program, which reports each in one line (one JSON object with `--json`) with the exit code scripts rely on
 * (2 bad arguments, 1 not found, 3 Redis unreachable): src/cli/report.ts.
 */
export async function runAdmin(
  _command: Command,
  values: CommandValues,
  _io: CommandIO,
  body: (admin: Admin) => Promise<number>,
): Promise<number> {
  let admin: Admin | undefined;
  try {
    admin = new Admin(adminOptions(values));
    return await body(admin);
  } finally {
    await admin?.close().catch(() => {});
  }
}

/** The Admin's connection options from the command line: `--redis`, `--namespace`, `--shards`, `--queue-shards`. */
export function adminOptions(values: CommandValues): ResqueOptions {
  const shards = stringOption(values, 'shards');
  const queueShards = stringOption(values, 'queue-shards');
  if (shards !== undefined && !/^\d+$/.test(shards))
    throw new UsageError(`--shards must be a positive integer, got ${JSON.stringify(shards)}`);
  return {
    redis: stringOption(values, 'redis'),
    namespace: stringOption(values, 'namespace'),
    ...(shards === undefined ? {} : { shards: Number(shards) }),
    ...(queueShards === undefined ? {} : { queueShards: parseQueueShards(queueShards, '--queue-shards') }),
  };
}

/** The exit code of an error a command reports itself: 2 bad arguments, 3 Redis unreachable, 1 the rest. */
export function exitCodeOf(error: unknown): number | undefined {
  if (error instanceof UsageError) return EXIT.usage;
  if (error instanceof RedisConnectionError || error instanceof RedisNotInstalledError)
    return EXIT.unavailable;
  if (error instanceof ResqueError) {
    return error.code.startsWith('INVALID_') || error.code === 'CONFIG_INVALID' ? EXIT.usage : EXIT.failure;
  }
  return undefined;
}

export function stringOption(values: CommandValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

export function requiredString(values: CommandValues, name: string): string {
  const value = stringOption(values, name);
  if (value === undefined || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

export function positiveInteger(values: CommandValues, name: string, fallback: number): number {
  const text = stringOption(values, name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < 1) {
    throw new UsageError(`--${name} must be a positive integer, got ${JSON.stringify(text)}`);
  }
  return value;
}

export function nonNegativeInteger(values: CommandValues, name: string): number {
  const text = stringOption(values, name);
  if (text === undefined) return 0;
  if (!/^\d+$/.test(text))
    throw new UsageError(`--${name} must be an integer >= 0, got ${JSON.stringify(text)}`);
  return Number(text);
}

export function oneOf<T extends string>(
  values: CommandValues,
  name: string,
  allowed: readonly T[],
  fallback: T,
): T {
  const text = stringOption(values, name);
  if (text === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(text)) {
    throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got ${JSON.stringify(text)}`);
  }
  return text as T;
}

/** Job arguments given on the command line, each one JSON: `42`, `'"text"'`, `'{"a":1}'`. */
export function jsonArguments(texts: readonly string[]): JsonValue[] {
  return texts.map((text, i) => {
    try {
      return JSON.parse(text) as JsonValue;
    } catch {
      throw new UsageError(
        `argument ${i + 1} is not JSON: ${JSON.stringify(text)} (strings need JSON quotes, e.g. '"${text}"')`,
      );
    }
  });
}

/** One line of `--json` output. */
export function writeJson(io: CommandIO, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value)}\n`);
}

/** Progress of long bulk operations on stderr (one line per chunk; a JSON object per line with `--json`). */
export function progressTo(io: CommandIO, values: CommandValues, verb: string): ProgressCallback {
  return (progress: BulkProgress) => {
    if (progress.total <= 1000) return;
    io.stderr.write(
      values['json'] === true
        ? `${JSON.stringify({ progress })}\n`
        : `${verb} ${progress.done}, read ${progress.scanned} of ${progress.total} (${progress.list})\n`,
    );
  };
}

/** `2026-11-27 10:00:00Z`, or `-`. */
export function formatTime(date: Date | undefined): string {
  return date
    ? date
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, 'Z')
    : '-';
}

/** `45s`, `3m 20s`, `2h 5m`, `4d 3h`, or `-`. */
export function formatDuration(ms: number | undefined): string {
  if (ms === undefined) return '-';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h`;
}

export function truncate(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ');
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** Dates as ISO strings (or null) for `--json` output. */
export function iso(date: Date | undefined): string | null {
  return date ? date.toISOString() : null;
}
