import { parseWorkerStats, type WorkerStats } from '../fleet/worker-stats.js';
import type { JsonValue } from '../protocol/json.js';
import { parseResqueTime } from '../protocol/time.js';
import { parseWorkerId } from '../protocol/worker-id.js';
import { decodeWorkerStatus } from '../protocol/worker-status.js';
import { type AdminContext, pipelineValues, redisNow } from './context.js';
import { isWrongTypeError } from './key-types.js';

/** The job a worker is running, from `worker:<id>`. */
export interface WorkerJob {
  queue: string;
  className: string | undefined;
  args: JsonValue[] | undefined;
  /** The resque-ts job id; undefined for jobs pushed by Ruby. */
  id: string | undefined;
  runAt: Date | undefined;
  /** The `worker:<id>` status as stored: its arguments' own text (Ruby's `1.0`, integers past 2^53) is in here. */
  raw: string;
}

/** One registered worker: who it is, what it does and since when, and whether it is still alive. */
export interface WorkerSummary {
  id: string;
  /** The shard it is registered on, on a sharded namespace (a worker of queues on several shards is on each). */
  shard?: number;
  host: string;
  pid: string;
  queues: string[];
  state: 'working' | 'idle';
  job: WorkerJob | undefined;
  /** `worker:<id>:started`. */
  startedAt: Date | undefined;
  /** Last `workers:heartbeat` entry. */
  heartbeatAt: Date | undefined;
  /** Heartbeat older than `deadWorkerAfterMs` by the Redis clock: a dead worker the reaper (or Ruby's pruning) will remove. */
  stale: boolean;
  /** How old the last heartbeat is, by the Redis clock (undefined without one: Ruby < 1.26, node-resque). */
  heartbeatAgeMs: number | undefined;
  /** How long the current job has been running, by the Redis clock. */
  runningForMs: number | undefined;
  processed: number;
  failed: number;
}

/** Every worker in the `workers` set, sorted by id: two round trips whatever the number of workers (MGET/HMGET). */
export async function workerSummaries(ctx: AdminContext): Promise<WorkerSummary[]> {
  return describeWorkers(ctx, (await ctx.redis.smembers(ctx.keys.workers)).sort());
}

/** One registered worker, or undefined when `id` is not in the `workers` set. */
export async function workerSummary(ctx: AdminContext, id: string): Promise<WorkerSummary | undefined> {
  if ((await ctx.redis.sismember(ctx.keys.workers, id)) !== 1) return undefined;
  return (await describeWorkers(ctx, [id]))[0];
}

async function describeWorkers(ctx: AdminContext, ids: string[]): Promise<WorkerSummary[]> {
  if (ids.length === 0) return [];
  const { keys } = ctx;
  const [time, statuses, started, heartbeats, processed, failed] = pipelineValues(
    await ctx.redis
      .pipeline()
      .time()
      .mget(ids.map((id) => keys.worker(id)))
      .mget(ids.map((id) => keys.workerStarted(id)))
      .hmget(keys.heartbeats, ...ids)
      .mget(ids.map((id) => keys.processedBy(id)))
      .mget(ids.map((id) => keys.failedBy(id)))
      .exec(),
  ) as [unknown, ...Array<Array<string | null>>];
  const now = redisNow(time);
  return ids.map((id, i) => {
    const parts = parseWorkerId(id);
    const job = jobOf(statuses![i]);
    const heartbeatAt = parseResqueTime(heartbeats![i]);
    const age = (date: Date | undefined) => (date ? Math.max(0, now - date.getTime()) : undefined);
    return {
      id,
      host: parts?.host ?? id,
      pid: parts?.pid ?? '',
      queues: parts?.queues ?? [],
      state: job ? 'working' : 'idle',
      job,
      startedAt: parseResqueTime(started![i]),
      heartbeatAt,
      stale: heartbeatAt !== undefined && now - heartbeatAt.getTime() > ctx.config.deadWorkerAfterMs,
      heartbeatAgeMs: age(heartbeatAt),
      runningForMs: age(job?.runAt),
      processed: counter(processed![i]),
      failed: counter(failed![i]),
    };
  });
}

/** A counter's stored text as a number; anything but a whole number (someone else's data) counts as 0. */
function counter(text: string | null | undefined): number {
  return text && /^\d{1,15}$/.test(text) ? Number(text) : 0;
}

function jobOf(raw: string | null | undefined): WorkerJob | undefined {
  const status = decodeWorkerStatus(raw);
  if (!status) return undefined;
  const payload = status.payload;
  const object =
    payload !== null && typeof payload === 'object' && !Array.isArray(payload) ? payload : undefined;
  return {
    queue: status.queue,
    className: typeof object?.['class'] === 'string' ? object['class'] : undefined,
    args: Array.isArray(object?.['args']) ? object['args'] : undefined,
    id: typeof object?.['id'] === 'string' ? object['id'] : undefined,
    runAt: parseResqueTime(status.run_at),
    raw: raw ?? '',
  };
}

/**
 * What resque-ts workers report about themselves (`ts:worker-stats:<id>`, rewritten with each heartbeat): counters
 * since start, memory, and for a supervised worker each child (pid, state, jobs done and failed, memory) and the
 * restarts with their reasons. One pipeline of HGETALLs over the given worker ids, or over the registered ones (a
 * worker's first slot id is its id); workers without stats (Ruby's, stopped ones) are left out.
 */
export async function workerStats(ctx: AdminContext, ids?: readonly string[]): Promise<WorkerStats[]> {
  const candidates =
    ids ?? (await ctx.redis.smembers(ctx.keys.workers)).filter((id) => parseWorkerId(id)?.slot === 0).sort();
  if (candidates.length === 0) return [];
  const pipeline = ctx.redis.pipeline();
  for (const id of candidates) pipeline.hgetall(ctx.keys.workerStats(id));
  // A stats key of another type (not written by a worker) is left out like a missing one.
  const results = (await pipeline.exec()) ?? [];
  const other = results.find(([error]) => error && !isWrongTypeError(error));
  if (other) throw other[0];
  return results.flatMap(([error, hash]) =>
    error ? [] : (parseWorkerStats(hash as Record<string, string>) ?? []),
  );
}
