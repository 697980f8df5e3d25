import type { LogFormat, LogLevel } from '../config/options.js';
import { isPinoLike, type PinoLike, pinoLogger } from './pino.js';

/** Structured fields of one log line: `class`, `queue`, `durationMs`… */
export type LogFields = Readonly<Record<string, unknown>>;

/** A level a line is written at. */
export type LineLevel = Exclude<LogLevel, 'silent'>;

/**
 * Where resque-ts writes what it has to say. A plain `{ error, warn, info, debug }` of the application's will do (the
 * fields come as a second argument); `createLogger` builds one on pino, and `toLogger` adapts a pino logger.
 */
export interface Logger {
  error(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
  /** Whether lines at `level` are written; callers ask before building fields. Without it every level is. */
  isLevelEnabled?(level: LineLevel): boolean;
}

/**
 * A logger on pino, writing to `out` (stderr): JSON lines, or Resque's formats with the fields appended: `*** message
 * key=value` and at debug level `** [HH:MM:SS YYYY-MM-DD] pid: message key=value`. `auto` picks text for a terminal.
 */
export function createLogger(
  level: LogLevel,
  out: NodeJS.WritableStream = process.stderr,
  format: LogFormat = 'auto',
): Logger {
  return pinoAdapter(pinoLogger(level, format, out));
}

/** The Worker's `logger` option: a Logger as it is, a pino logger (anything pino-like) adapted. */
export function toLogger(logger: Logger | PinoLike): Logger {
  return isPinoLike(logger) ? pinoAdapter(logger) : logger;
}

/** A pino logger (or one that takes `(fields, message)` as pino does) as a Logger. */
export function pinoAdapter(pino: PinoLike): Logger {
  const line =
    (level: LineLevel) =>
    (message: string, fields?: LogFields): void => {
      if (fields) pino[level](fields, message);
      else pino[level](message);
    };
  return {
    error: line('error'),
    warn: line('warn'),
    info: line('info'),
    debug: line('debug'),
    isLevelEnabled: (level) => pino.isLevelEnabled(level),
  };
}

/** True when `level` is written: a logger without `isLevelEnabled` writes every level. */
export function enabled(logger: Logger, level: LineLevel): boolean {
  return logger.isLevelEnabled?.(level) ?? true;
}
