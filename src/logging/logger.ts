import type { LogLevel } from '../config/options.js';

export interface Logger {
  error(message: string): void;
  warn(message: string): void;
  info(message: string): void;
  debug(message: string): void;
}

const RANK: Record<LogLevel, number> = { silent: 0, error: 1, warn: 2, info: 3, debug: 4 };
const pad = (n: number) => String(n).padStart(2, '0');

/**
 * Resque's log formats: `*** message` (VERBOSE) and `** [HH:MM:SS YYYY-MM-DD] pid: message` (VVERBOSE), on stderr.
 */
export function createLogger(level: LogLevel, out: NodeJS.WritableStream = process.stderr): Logger {
  const write = (at: LogLevel, message: string) => {
    if (RANK[at] > RANK[level]) return;
    if (level === 'debug') {
      const d = new Date();
      const stamp = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
      out.write(`** [${stamp}] ${process.pid}: ${message}\n`);
    } else {
      out.write(`*** ${message}\n`);
    }
  };
  return {
    error: (m) => write('error', m),
    warn: (m) => write('warn', m),
    info: (m) => write('info', m),
    debug: (m) => write('debug', m),
  };
}
