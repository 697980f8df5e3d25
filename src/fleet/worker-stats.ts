import type { Redis } from 'ioredis';
import type { Isolation } from '../config/options.js';
import type { Keys } from '../protocol/keys.js';

/** Why a supervised worker replaced a child. */
export type RestartReason =
  /** A job ran past its time limit and did not stop within the grace period. */
  | 'timeout'
  /** Resident memory passed the soft limit: replaced after its jobs finished. */
  | 'memory-soft'
  /** Resident memory passed the hard limit: killed. */
  | 'memory-hard'
  /** It had been given `maxJobsPerChild` jobs. */
  | 'max-jobs'
  /** It exited on its own (process.exit, an uncaught exception). */
  | 'exit'
  /** A signal killed it that the supervisor did not send (OOM killer, `kill -9`). */
  | 'signal'
  /** The worker got USR1 and killed its busy children. */
  | 'usr1'
  /** A job it ran was cancelled (`resque.cancel`) and did not stop within `cancelGraceMs`: killed. */
  | 'cancel'
  /** It died before it was ready (its job modules failed to load). */
  | 'start-failed';

export interface RestartRecord {
  /** Epoch ms. */
  at: number;
  /** Position of the replaced child among the worker's children; null for a spare. */
  index: number | null;
  pid: number;
  reason: RestartReason;
  /** The numbers: exit code or signal, memory and limit, timeout, job counts. */
  detail: string;
}

/** One child of a supervised worker. */
export interface ChildStats {
  /** Position among the worker's children (0-based); null for a spare. */
  index: number | null;
  pid: number;
  state: 'starting' | 'ready' | 'spare' | 'draining';
  /** Epoch ms. */
  startedAt: number;
  /** Jobs it performed (or skipped) and jobs that failed in it, since it started. */
  jobsDone: number;
  jobsFailed: number;
  /** Jobs it is running now. */
  running: number;
  /** Resident memory at the last sample; null when unknown. */
  rssBytes: number | null;
  /** Times a child at this position was replaced since the worker started, and the latest. */
  restarts: number;
  lastRestart: RestartRecord | null;
}

/** Where an executor runs jobs, for the stats hash. */
export interface ExecutorStats {
  children: ChildStats[];
  restarts: number;
  restartReasons: Partial<Record<RestartReason, number>>;
  /** The latest restarts, newest last (at most 20). */
  recentRestarts: RestartRecord[];
}

/** What a dashboard shows about one worker: `<ns>:ts:worker-stats:<worker id>`, rewritten with every heartbeat. */
export interface WorkerStats extends ExecutorStats {
  id: string;
  pid: number;
  isolation: Isolation;
  /** Slots (jobs at once), and for a supervised worker its children and the jobs each runs at once. */
  slots: number;
  count: number;
  concurrency: number;
  spare: number;
  version: string;
  /** Epoch ms. */
  startedAt: number;
  updatedAt: number;
  /** Jobs finished since the worker started (failed ones count in both, as in Resque's stats). */
  processed: number;
  failed: number;
  /** Jobs given back to their queue unfinished (shutdown, a child that died running another job). */
  givenBack: number;
  /** The worker's own resident memory (the supervisor, or the only process with `isolation: 'none'`). */
  rssBytes: number;
}

const WORKER_FIELD = 'worker';
const CHILD_FIELD = 'child:';

/**
 * Replaces a worker's stats hash in one transaction: field `worker` holds the worker's JSON, one field
 * `child:<index>` (`child:spare-<pid>` for spares) per child. It expires after `ttlMs` unless rewritten, so the
 * stats of a worker that died without unregistering go away with its heartbeat.
 */
export async function writeWorkerStats(redis: Redis, keys: Keys, stats: WorkerStats, ttlMs: number) {
  const { children, ...worker } = stats;
  const fields: string[] = [WORKER_FIELD, JSON.stringify(worker)];
  for (const child of children) {
    fields.push(`${CHILD_FIELD}${child.index ?? `spare-${child.pid}`}`, JSON.stringify(child));
  }
  const key = keys.workerStats(stats.id);
  await redis
    .multi()
    .del(key)
    .hset(key, ...fields)
    .pexpire(key, Math.max(1, Math.round(ttlMs)))
    .exec();
}

/** Decodes a stats hash (HGETALL); undefined when the worker has none or it is unreadable. */
export function parseWorkerStats(hash: Record<string, string> | null | undefined): WorkerStats | undefined {
  const head = hash?.[WORKER_FIELD];
  if (!head) return undefined;
  try {
    const worker = JSON.parse(head) as Omit<WorkerStats, 'children'> & { returned?: number };
    // Workers of earlier releases wrote `returned` for `givenBack`.
    worker.givenBack ??= worker.returned ?? 0;
    delete worker.returned;
    const children = Object.entries(hash)
      .filter(([field]) => field.startsWith(CHILD_FIELD))
      .map(([, value]) => JSON.parse(value) as ChildStats)
      .sort((a, b) => (a.index ?? Number.MAX_SAFE_INTEGER) - (b.index ?? Number.MAX_SAFE_INTEGER));
    return { ...worker, children };
  } catch {
    return undefined;
  }
}
