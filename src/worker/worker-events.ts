import type { Reservation } from './fetch/reservation.js';
import type { Outcome } from './outcome.js';

/** What a Worker emits. */
export interface WorkerEvents {
  'job:start': [reservation: Reservation];
  'job:finish': [reservation: Reservation, outcome: Outcome];
  /** The liveness beat reached Redis (every `livenessIntervalMs`). */
  beat: [];
  idle: [];
  stopped: [];
  error: [error: Error];
}
