import type { WorkerSummary } from './workers.js';

/**
 * How a worker is doing, for the dashboard's flags:
 * - `dead`: its heartbeat is older than `deadWorkerAfterMs`; the reaper (or Ruby's pruning) will remove it and
 *   return or fail its job.
 * - `stuck`: its job has run longer than `stuckJobMs`, or its heartbeat is late (older than `lateHeartbeatMs`).
 * - `ok`: neither; `unknown` for a worker that writes no heartbeat and runs nothing too long.
 */
export type WorkerHealth = 'ok' | 'stuck' | 'dead' | 'unknown';

export interface HealthThresholds {
  /** A job running longer than this flags its worker as stuck. */
  stuckJobMs: number;
  /** A heartbeat older than this flags its worker as stuck (it is dead past `deadWorkerAfterMs`). */
  lateHeartbeatMs: number;
}

export interface WorkerCondition {
  health: WorkerHealth;
  /** Why, in words, when not ok. */
  reason: string | undefined;
}

export function workerCondition(worker: WorkerSummary, thresholds: HealthThresholds): WorkerCondition {
  if (worker.stale) {
    return { health: 'dead', reason: `no heartbeat for ${seconds(worker.heartbeatAgeMs)}` };
  }
  if (worker.runningForMs !== undefined && worker.runningForMs > thresholds.stuckJobMs) {
    return { health: 'stuck', reason: `job running for ${seconds(worker.runningForMs)}` };
  }
  if (worker.heartbeatAgeMs !== undefined && worker.heartbeatAgeMs > thresholds.lateHeartbeatMs) {
    return { health: 'stuck', reason: `heartbeat late by ${seconds(worker.heartbeatAgeMs)}` };
  }
  if (worker.heartbeatAgeMs === undefined) return { health: 'unknown', reason: 'writes no heartbeat' };
  return { health: 'ok', reason: undefined };
}

function seconds(ms: number | undefined): string {
  return `${Math.round((ms ?? 0) / 1000)} s`;
}
