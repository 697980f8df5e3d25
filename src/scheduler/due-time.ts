import { InvalidTimeError } from '../errors/index.js';

/** When a job is due: a Date or epoch milliseconds, checked. */
export type DueAt = Date | number;

/** The due time in epoch ms; throws InvalidTimeError naming the value when it is not a real instant. */
export function dueTimeMs(at: DueAt): number {
  if (at instanceof Date) {
    const ms = at.getTime();
    if (!Number.isFinite(ms)) throw new InvalidTimeError(at, 'date');
    return ms;
  }
  if (typeof at !== 'number' || !Number.isFinite(at))
    throw new InvalidTimeError(at, 'date (expected a Date or epoch milliseconds)');
  return at;
}

/** `nowMs + delayMs`; throws InvalidTimeError when the delay is negative, not a number or not finite. */
export function dueAfterMs(delayMs: number, nowMs: number): number {
  if (typeof delayMs !== 'number' || !Number.isFinite(delayMs))
    throw new InvalidTimeError(delayMs, 'delay (expected a finite number of milliseconds)');
  if (delayMs < 0) throw new InvalidTimeError(delayMs, 'delay (must not be negative)');
  return nowMs + delayMs;
}
