import { type Logger as PinoLogger, pino } from 'pino';
import type { LogFormat, LogLevel } from '../config/options.js';
import { formatTextLine } from './text-format.js';

type PinoLogFn = (fieldsOrMessage: object | string, message?: string) => void;

/** What resque-ts needs of a pino logger (the application's own, or the one createLogger builds). */
export interface PinoLike {
  error: PinoLogFn;
  warn: PinoLogFn;
  info: PinoLogFn;
  debug: PinoLogFn;
  isLevelEnabled(level: string): boolean;
  child(bindings: Record<string, unknown>): unknown;
  readonly levels: { readonly values: Readonly<Record<string, number>> };
}

/** A pino logger, not a plain `{ error, warn, info, debug }` (whose methods take the message first). */
export function isPinoLike(value: object): value is PinoLike {
  const candidate = value as Partial<PinoLike>;
  return (
    typeof candidate.isLevelEnabled === 'function' &&
    typeof candidate.child === 'function' &&
    typeof candidate.levels?.values === 'object'
  );
}

/** A pino logger writing JSON lines to `out`, or text when `format` says so (`auto`: when `out` is a terminal). */
export function pinoLogger(level: LogLevel, format: LogFormat, out: NodeJS.WritableStream): PinoLogger {
  const text = format === 'text' || (format === 'auto' && (out as { isTTY?: boolean }).isTTY === true);
  return pino(
    {
      level,
      formatters: { level: (label) => ({ level: label }) },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    text ? textDestination(out, level === 'debug') : out,
  );
}

/** Rewrites each JSON line pino writes into Resque's text formats. */
function textDestination(out: NodeJS.WritableStream, timestamped: boolean): { write(line: string): void } {
  return {
    write(line: string) {
      out.write(formatTextLine(JSON.parse(line) as Record<string, unknown>, timestamped));
    },
  };
}
