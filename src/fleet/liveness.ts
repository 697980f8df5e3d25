// resque-ts's own liveness rule, beside Ruby's heartbeat hash: every worker beats every `livenessIntervalMs` for
// all its slots into one sorted set, and a slot whose beat is older than `livenessTimeoutMs` is dead. Finding the dead
// costs a range query on that set, O(log n + dead), however large the fleet.
import type { ChainableCommander, Redis } from 'ioredis';
import type { Keys } from '../protocol/keys.js';
import { parseWorkerId } from '../protocol/worker-id.js';
import { pipelineValues } from '../redis/replies.js';
import { defineScript, runScript } from '../redis/scripts.js';
import type { HostIdentity } from './host-identity.js';

const BEAT = defineScript(new URL('./beat.lua', import.meta.url));
const EXPIRED = defineScript(new URL('./expired.lua', import.meta.url));

/** Epoch ms to use instead of the Redis clock (tests), or undefined for the Redis clock. */
export type Clock = () => number | undefined;
export const redisClock: Clock = () => undefined;

/** Beats for every slot; says whether the worker is still registered (a peer may have reaped it while it stalled). */
export async function beat(redis: Redis, keys: Keys, slotIds: readonly string[], clock: Clock = redisClock) {
  const [now, registered] = await runScript<[number, number]>(
    redis,
    BEAT,
    [keys.liveness, keys.workers],
    [String(clock() ?? ''), ...slotIds],
  );
  return { now: Number(now), registered: registered === 1 };
}

/**
 * Slots whose beat is older than `timeoutMs`, oldest first, at most `limit`; the time they were judged at; and the
 * asker's own last beat (undefined if it has none).
 */
export async function expiredSlots(
  redis: Redis,
  keys: Keys,
  query: { timeoutMs: number; limit: number; selfId: string },
  clock: Clock,
) {
  const [now, own, ...slots] = await runScript<[number, number, ...string[]]>(
    redis,
    EXPIRED,
    [keys.liveness],
    [String(clock() ?? ''), query.timeoutMs, query.limit, query.selfId],
  );
  const ownBeat = Number(own);
  return { now: Number(now), ownBeat: ownBeat < 0 ? undefined : ownBeat, slots: slots.map(String) };
}

/** Each slot's last beat (epoch ms), or undefined for ids resque-ts's liveness rule does not judge. */
export async function lastBeats(redis: Redis, keys: Keys, ids: readonly string[]) {
  if (ids.length === 0) return [];
  const scores = (await redis.zmscore(keys.liveness, ...ids)) as Array<string | null>;
  return scores.map((score) => (score === null ? undefined : Number(score)));
}

/** One worker process, as its registration describes it. */
export interface ProcessRecord {
  readonly workerId: string;
  readonly host: string;
  readonly pid: number;
  readonly slots: readonly string[];
  readonly identity: HostIdentity | undefined;
}

export function writeProcessRecord(pipeline: ChainableCommander, keys: Keys, record: ProcessRecord) {
  const fields: Record<string, string> = {
    host: record.host,
    pid: String(record.pid),
    slots: JSON.stringify(record.slots),
  };
  if (record.identity) {
    fields['bootId'] = record.identity.bootId;
    fields['pidNamespace'] = record.identity.pidNamespace;
  }
  return pipeline
    .hset(keys.process(record.workerId), fields)
    .sadd(keys.hostWorkers(record.host), record.workerId);
}

/** Forgets the processes of these ids (worker ids; slot ids of other slots are ignored) and their liveness. */
export function deleteLiveness(pipeline: ChainableCommander, keys: Keys, ids: readonly string[]) {
  if (ids.length === 0) return pipeline;
  pipeline.zrem(keys.liveness, ...ids);
  for (const id of ids) {
    const parts = parseWorkerId(id);
    if (parts?.slot !== 0) continue;
    pipeline.del(keys.process(id)).srem(keys.hostWorkers(parts.host), id);
  }
  return pipeline;
}

/** The process records of the workers registered from `host`, other than `selfId`. */
export async function processesOnHost(redis: Redis, keys: Keys, host: string, selfId: string) {
  const ids = (await redis.smembers(keys.hostWorkers(host))).filter((id) => id !== selfId);
  if (ids.length === 0) return [];
  const pipeline = redis.pipeline();
  for (const id of ids) pipeline.hgetall(keys.process(id));
  const hashes = pipelineValues(await pipeline.exec()) as Array<Record<string, string>>;
  return ids.map((workerId, i) => parseProcessRecord(workerId, hashes[i]));
}

function parseProcessRecord(workerId: string, hash: Record<string, string> | undefined): ProcessRecord {
  let slots: string[] = [workerId];
  try {
    const parsed: unknown = JSON.parse(hash?.['slots'] ?? '');
    if (Array.isArray(parsed) && parsed.every((s) => typeof s === 'string')) slots = parsed;
  } catch {
    // an unreadable record still names its worker
  }
  const bootId = hash?.['bootId'];
  const pidNamespace = hash?.['pidNamespace'];
  return {
    workerId,
    host: hash?.['host'] ?? parseWorkerId(workerId)?.host ?? '',
    pid: Number(hash?.['pid'] ?? parseWorkerId(workerId)?.pid),
    slots,
    identity: bootId && pidNamespace ? { bootId, pidNamespace } : undefined,
  };
}
