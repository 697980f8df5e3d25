import { lastBeats, processesOnHost } from '../fleet/liveness.js';
import { parseResqueTime } from '../protocol/time.js';
import { type AdminContext, pipelineValues, redisNow } from './context.js';

/** Which workers `resque health` checks: one by id, or those registered from a host (one pid of it). */
export interface LivenessQuery {
  workerId?: string;
  host?: string;
  pid?: number;
}

/** One worker as its peers judge it (docs/architecture.md, "Dead workers"). */
export interface WorkerLiveness {
  id: string;
  /** `liveness`: resque-ts's beat, dead after `livenessTimeoutMs`; `heartbeat`: Ruby's, after `deadWorkerAfterMs`. */
  rule: 'liveness' | 'heartbeat' | 'none';
  /** Age of its last beat (or heartbeat) by the Redis clock; undefined when it has none. */
  ageMs: number | undefined;
  /** The age past which it counts as dead. */
  timeoutMs: number;
  alive: boolean;
}

/**
 * The liveness of the workers a query names, by the rules the reaper applies. A host's workers are its resque-ts
 * worker processes (their process records); an id may also be a Ruby worker's, judged by its heartbeat.
 */
export async function livenessOf(ctx: AdminContext, query: LivenessQuery): Promise<WorkerLiveness[]> {
  const { redis, keys, config } = ctx;
  let ids: string[];
  if (query.workerId !== undefined) ids = [query.workerId];
  else {
    const records = await processesOnHost(redis, keys, query.host ?? config.hostname, '');
    ids = records
      .filter((record) => query.pid === undefined || record.pid === query.pid)
      .map((record) => record.workerId)
      .sort();
  }
  if (ids.length === 0) return [];
  const [time, heartbeats] = pipelineValues(
    await redis
      .pipeline()
      .time()
      .hmget(keys.heartbeats, ...ids)
      .exec(),
  ) as [unknown, Array<string | null>];
  const now = redisNow(time);
  const beats = await lastBeats(redis, keys, ids);
  return ids.map((id, i) => {
    const beat = beats[i];
    if (beat !== undefined) return judged(id, 'liveness', now - beat, config.livenessTimeoutMs);
    const heartbeat = parseResqueTime(heartbeats[i]);
    if (heartbeat) return judged(id, 'heartbeat', now - heartbeat.getTime(), config.deadWorkerAfterMs);
    return { id, rule: 'none', ageMs: undefined, timeoutMs: config.livenessTimeoutMs, alive: false };
  });
}

function judged(id: string, rule: 'liveness' | 'heartbeat', age: number, timeoutMs: number): WorkerLiveness {
  const ageMs = Math.max(0, age);
  return { id, rule, ageMs, timeoutMs, alive: ageMs <= timeoutMs };
}
