import { Cron } from 'croner';
import { InvalidScheduleError } from '../errors/index.js';
import { parseDurationMs } from './every.js';

/** When a recurring schedule fires: a cron expression in a time zone, or a fixed interval anchored at the epoch. */
export type Timing =
  | { kind: 'cron'; expression: string; timezone: string | undefined; cron: Cron }
  | { kind: 'every'; intervalMs: number; text: string };

export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/**
 * A rufus-scheduler cron string: 5 fields (minute first) or 6 (second first), optionally followed by a time zone
 * (`0 5 * * * America/New_York`). Day-of-month and day-of-week combine with OR, as in rufus and Vixie cron.
 */
export function parseCron(name: string, text: string): Timing {
  if (typeof text !== 'string' || text.trim() === '')
    throw new InvalidScheduleError(name, 'cron must be a non-empty string');
  const fields = text.trim().split(/\s+/);
  let timezone: string | undefined;
  const last = fields.at(-1)!;
  if (fields.length >= 6 && /[A-Za-z]/.test(last) && (last.includes('/') || isTimeZone(last))) {
    if (!isTimeZone(last)) throw new InvalidScheduleError(name, `unknown time zone ${JSON.stringify(last)}`);
    timezone = last;
    fields.pop();
  } else if (fields.length === 7) {
    throw new InvalidScheduleError(
      name,
      `unknown time zone ${JSON.stringify(last)} in cron ${JSON.stringify(text)}`,
    );
  }
  if (fields.length !== 5 && fields.length !== 6) {
    throw new InvalidScheduleError(
      name,
      `cron ${JSON.stringify(text)} has ${fields.length} fields; expected 5 (minute hour day month weekday) or 6 (second first)`,
    );
  }
  const expression = fields.join(' ');
  try {
    const cron = new Cron(expression, { paused: true, timezone, mode: '5-or-6-parts', domAndDow: false });
    if (cron.nextRun(new Date(0)) === null) throw new Error('it never fires');
    return { kind: 'cron', expression, timezone, cron };
  } catch (error) {
    throw new InvalidScheduleError(name, `invalid cron ${JSON.stringify(text)}: ${(error as Error).message}`);
  }
}

export function parseEvery(name: string, text: string): Timing {
  const intervalMs = typeof text === 'string' ? parseDurationMs(text) : undefined;
  if (intervalMs === undefined) {
    throw new InvalidScheduleError(
      name,
      `invalid every ${JSON.stringify(text)} (expected a duration like "30s", "5m", "1h30m")`,
    );
  }
  return { kind: 'every', intervalMs, text };
}

/** The first tick strictly after `afterMs`. */
export function nextTick(timing: Timing, afterMs: number): number | undefined {
  if (timing.kind === 'every') return (Math.floor(afterMs / timing.intervalMs) + 1) * timing.intervalMs;
  return timing.cron.nextRun(new Date(afterMs))?.getTime();
}

/** Ticks in (`afterMs`, `untilMs`], the latest `limit` of them, oldest first. */
export function ticksBetween(timing: Timing, afterMs: number, untilMs: number, limit: number): number[] {
  if (limit <= 0 || untilMs <= afterMs) return [];
  if (timing.kind === 'every') {
    const last = Math.floor(untilMs / timing.intervalMs);
    const first = Math.floor(afterMs / timing.intervalMs) + 1;
    const ticks: number[] = [];
    for (let k = Math.max(first, last - limit + 1); k <= last; k++) ticks.push(k * timing.intervalMs);
    return ticks;
  }
  // previousRuns looks back from just past `untilMs`, so a tick exactly at `untilMs` counts.
  return timing.cron
    .previousRuns(limit, new Date(untilMs + 1))
    .map((date) => date.getTime())
    .filter((tick) => tick > afterMs && tick <= untilMs)
    .sort((a, b) => a - b);
}
