import type { Failures } from '../failure/store.js';
import { delayedBacklog } from '../scheduler/overdue.js';
import type { AdminContext } from './context.js';
import { queueSummaries } from './queues.js';
import { readCounters } from './stats.js';

/** The figures of the whole namespace a metrics scrape shows (docs/operations.md, "Metrics"). */
export interface ClusterSnapshot {
  /** Every queue with its size and, when its head says when it was enqueued, how long that job has waited. */
  queues: Array<{ name: string; size: number; oldestAgeMs: number | undefined }>;
  /** Registered worker ids (every slot of a resque-ts worker is one, as Ruby counts them) and those running a job. */
  workers: number;
  working: number;
  /** Resque's counters, `stat:processed` and `stat:failed`. */
  processed: number;
  failed: number;
  /** Failure records kept in the failure lists. */
  failures: number;
  /** Delayed jobs filed by resque-ts (`ts:delayed:due`), and seconds holding delayed jobs of anyone's. */
  delayedJobs: number;
  delayedSeconds: number;
  /** How late the earliest delayed job is (0 when none is due). */
  delayedLateMs: number;
}

/**
 * Read at each scrape: one pipeline for the queues, one MGET of the working statuses (O(workers)), LLEN per failure
 * list, and O(1) reads for counters and delayed jobs. Counting every delayed job would walk the whole schedule, so
 * Ruby-filed ones are counted by their seconds only.
 */
export async function clusterSnapshot(ctx: AdminContext, failures: Failures): Promise<ClusterSnapshot> {
  const { redis, keys } = ctx;
  const [queues, counters, workerIds, failureCount, delayedJobs, delayedSeconds, backlog] = await Promise.all(
    [
      queueSummaries(ctx),
      readCounters(ctx),
      redis.smembers(keys.workers),
      failures.count(),
      redis.zcard(keys.delayedDue),
      redis.zcard(keys.delayedSchedule),
      delayedBacklog(redis, keys),
    ],
  );
  const statuses = workerIds.length > 0 ? await redis.mget(workerIds.map((id) => keys.worker(id))) : [];
  return {
    queues: queues.map((q) => ({ name: q.name, size: q.size, oldestAgeMs: q.latencyMs })),
    workers: workerIds.length,
    working: statuses.filter((status) => status !== null && status !== '').length,
    processed: counters.processed,
    failed: counters.failed,
    failures: failureCount,
    delayedJobs,
    delayedSeconds,
    delayedLateMs: backlog.lateMs,
  };
}
