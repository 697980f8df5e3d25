import type { Redis } from 'ioredis';
import { decodeFailureRecord } from '../../src/protocol/failure-record.js';

const KILLED = new Set(['Resque::DirtyExit', 'Resque::TermException']);

export interface LedgerReport {
  jobs: number;
  performed: number;
  /** Jobs that were neither performed nor in the failed list: must be 0. */
  lost: number[];
  /** Jobs performed more than once. */
  duplicated: number[];
  /** Duplicates that were not in flight during a kill, signal or outage: must be 0. */
  unexplainedDuplicates: number[];
  /** Pids that ran each duplicated job. */
  executions: Record<number, string[]>;
  /** Failure records by exception name (job failures, malformed items, reaped jobs …). */
  failedByReason: Record<string, number>;
  /**
   * Jobs that ran to their end and yet were failed as killed with their process (`Resque::DirtyExit`,
   * `Resque::TermException`): a finished job taken for a dead one. (A job that timed out while Redis was frozen can
   * show in the ledger too: its last write was buffered in the frozen server and applied after its child was killed.)
   */
  performedAndFailed: Array<{ job: number; exception: string }>;
  /** `Resque::DirtyExit` records of jobs that record their start (Slow, Abortable) and never started. */
  dirtyExitNeverStarted: number[];
}

/**
 * Every job carries its number as its first argument; performing it adds a fresh execution id to
 * `<ns>:test:ledger:<n>` (see test/fixtures/jobs.mjs), so a resent command can never count twice.
 */
export async function checkLedger(
  redis: Redis,
  namespace: string,
  jobs: ReadonlySet<number>,
  atRisk: ReadonlySet<number>,
  killedPids: ReadonlySet<string> = new Set(),
): Promise<LedgerReport> {
  const ids = [...jobs].sort((a, b) => a - b);
  const counts = new Map<number, number>();
  for (let i = 0; i < ids.length; i += 1000) {
    const pipeline = redis.pipeline();
    const chunk = ids.slice(i, i + 1000);
    for (const id of chunk) pipeline.hlen(`${namespace}:test:ledger:${id}`);
    const results = (await pipeline.exec()) ?? [];
    chunk.forEach((id, k) => {
      counts.set(id, Number(results[k]?.[1] ?? 0));
    });
  }
  const failedIds = new Set<number>();
  const dirtyExits: number[] = [];
  const failures: Array<{ job: number; exception: string; className: string }> = [];
  const failedByReason: Record<string, number> = {};
  const total = await redis.llen(`${namespace}:failed`);
  for (let start = 0; start < total; start += 1000) {
    for (const raw of await redis.lrange(`${namespace}:failed`, start, start + 999)) {
      const record = decodeFailureRecord(raw);
      if (!record) {
        failedByReason['(unreadable record)'] = (failedByReason['(unreadable record)'] ?? 0) + 1;
        continue;
      }
      failedByReason[record.exception] = (failedByReason[record.exception] ?? 0) + 1;
      const payload = record.payload as { args?: unknown[] } | null;
      const first = Array.isArray(payload?.args) ? payload.args[0] : undefined;
      if (typeof first !== 'number') continue;
      failedIds.add(first);
      const className = String((payload as { class?: unknown } | null)?.class ?? '');
      failures.push({ job: first, exception: record.exception, className });
      if (record.exception === 'Resque::DirtyExit' && (className === 'Slow' || className === 'Abortable'))
        dirtyExits.push(first);
    }
  }
  const lost = ids.filter((id) => (counts.get(id) ?? 0) === 0 && !failedIds.has(id));
  const duplicated = ids.filter((id) => (counts.get(id) ?? 0) > 1);
  const unexplainedDuplicates: number[] = [];
  const executions: Record<number, string[]> = {};
  for (const id of duplicated) {
    executions[id] = Object.values(await redis.hgetall(`${namespace}:test:ledger:${id}`));
    if (atRisk.has(id)) continue;
    // Each execution records the pid that ran it: a run on a process we killed (or a child killed for a timeout)
    // may have finished its work without being acknowledged.
    const pids = Object.values(await redis.hgetall(`${namespace}:test:ledger:${id}`));
    if (!pids.some((pid) => killedPids.has(pid))) unexplainedDuplicates.push(id);
  }
  const started = new Set(Object.keys(await redis.hgetall(`${namespace}:test:started`)).map(Number));
  return {
    performedAndFailed: failures
      .filter((f) => KILLED.has(f.exception) && (counts.get(f.job) ?? 0) > 0)
      .map(({ job, exception }) => ({ job, exception })),
    dirtyExitNeverStarted: dirtyExits.filter((job) => !started.has(job)),
    jobs: ids.length,
    performed: ids.filter((id) => (counts.get(id) ?? 0) > 0).length,
    lost,
    duplicated,
    unexplainedDuplicates,
    executions,
    failedByReason,
  };
}
