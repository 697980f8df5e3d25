import type { Redis } from 'ioredis';
import type { ResolvedConfig } from '../config/resolve.js';
import { EXCEPTION } from '../errors/exception-names.js';
import { queueFailureWrite } from '../failure/save.js';
import { unregisterWorkers } from '../fleet/registration.js';
import { runFailureHooks } from '../jobs/perform.js';
import type { JobRegistry } from '../jobs/registry.js';
import type { Logger } from '../logging/logger.js';
import type { JsonValue } from '../protocol/json.js';
import type { Keys } from '../protocol/keys.js';
import type { JobPayload } from '../protocol/payload.js';
import { parseResqueTime } from '../protocol/time.js';
import { decodeWorkerStatus } from '../protocol/worker-status.js';
import { redisTime } from '../redis/replies.js';
import { failHeld, giveBackHeld, type HeldContext } from './fetch/held.js';
import { parseInflight } from './fetch/inflight.js';
import { Reservation } from './fetch/reservation.js';

export interface ReaperContext {
  readonly redis: Redis;
  readonly keys: Keys;
  readonly config: Pick<
    ResolvedConfig,
    'deadWorkerAfterMs' | 'maxReturns' | 'failureBackend' | 'heartbeatIntervalMs' | 'release'
  >;
  readonly logger: Logger;
  readonly jobs?: JobRegistry;
}

export interface ReapReport {
  /** False when another worker held Ruby's pruning lock, so this pass did nothing. */
  ran: boolean;
  reaped: string[];
  givenBack: number;
  failed: number;
}

/**
 * Prunes dead workers (docs/protocol.md, pruning) under Ruby's pruning lock, so Ruby and resque-ts workers never
 * prune the same worker twice. A worker is dead when its heartbeat is older than `deadWorkerAfterMs` by the Redis
 * clock. Jobs a dead resque-ts worker held are given back to the head of their queue; one already given back
 * `maxReturns` times is failed instead, so a job that kills its worker cannot loop. A dead Ruby worker's job is
 * failed as Ruby's pruner would (`Resque::PruneDeadWorkerDirtyExit`).
 */
export async function reapDeadWorkers(ctx: ReaperContext, selfId: string): Promise<ReapReport> {
  const report: ReapReport = { ran: false, reaped: [], givenBack: 0, failed: 0 };
  const lockSeconds = Math.max(1, Math.round(ctx.config.heartbeatIntervalMs / 1000));
  const locked = await ctx.redis.set(ctx.keys.pruningLock, selfId, 'EX', lockSeconds, 'NX');
  if (locked !== 'OK') return report;
  const now = (await redisTime(ctx.redis)).getTime();
  const beats = await ctx.redis.hgetall(ctx.keys.heartbeats);
  if (!heartbeatIsFresh(beats[selfId], now, ctx.config.heartbeatIntervalMs)) return report;
  report.ran = true;
  for (const [id, value] of Object.entries(beats)) {
    const beat = parseResqueTime(value);
    // Heartbeats are written to the whole second: one can look up to a second older than it is.
    if (beat && now - beat.getTime() <= ctx.config.deadWorkerAfterMs + 1000) continue;
    await reapOne(ctx, id, report);
  }
  return report;
}

/**
 * A reaper whose own heartbeat is late was cut off from Redis too (an outage, a frozen server, a stalled event loop):
 * everyone's heartbeats look old to it, live workers' included, so it judges no one until its own beat is current.
 */
function heartbeatIsFresh(value: string | undefined, now: number, heartbeatIntervalMs: number): boolean {
  const beat = parseResqueTime(value);
  return beat !== undefined && now - beat.getTime() <= 2 * heartbeatIntervalMs + 1000;
}

async function reapOne(ctx: ReaperContext, id: string, report: ReapReport): Promise<void> {
  const [inflight, status] = await ctx.redis.mget(ctx.keys.inflight(id), ctx.keys.worker(id));
  const held = parseInflight(inflight);
  if (held) await settleOrphan(ctx, new Reservation({ slotId: id, ...held }), report);
  else await failRubyJob(ctx, id, status ?? null, report);
  await unregisterWorkers(ctx.redis, ctx.keys, [id]);
  report.reaped.push(id);
}

/** A dead resque-ts slot's job: given back, or failed once it has been given back `maxReturns` times. */
async function settleOrphan(ctx: ReaperContext, reservation: Reservation, report: ReapReport) {
  const held: HeldContext = ctx;
  const { returns } = reservation;
  const { maxReturns } = ctx.config;
  const id = reservation.slotId;
  if (returns >= maxReturns) {
    const error = `Worker ${id} died while processing ${reservation.payload?.class ?? '<Unknown Job>'}; the job was already given back to its queue ${returns} times after its workers died (maxReturns is ${maxReturns}), so it is failed instead`;
    const failure = { exception: EXCEPTION.dirtyExit, error, backtrace: [] };
    if (await failHeld(held, reservation, reservation.failureRecord(failure))) {
      report.failed++;
      await failureHooks(ctx, reservation.payload, failure.exception, error);
    }
  } else if (await giveBackHeld(held, reservation, true)) {
    report.givenBack++;
  }
  const what = returns >= maxReturns ? 'failed' : 'given back to its queue';
  ctx.logger.warn(`Reaped dead worker ${id}: its ${reservation.queue} job is ${what}`);
}

/** A dead Ruby worker's job (its `worker:<id>` status), failed as Ruby's pruner fails it. */
async function failRubyJob(ctx: ReaperContext, id: string, status: string | null, report: ReapReport) {
  const job = decodeWorkerStatus(status);
  if (job) {
    const payload = job.payload as unknown as JobPayload | null;
    const className =
      payload && typeof payload === 'object' && typeof payload.class === 'string'
        ? payload.class
        : '<Unknown Job>';
    const failure = {
      rawPayload: undefined,
      payload: job.payload as JsonValue,
      exception: EXCEPTION.pruneDeadWorker,
      error: `Worker ${id} did not gracefully exit while processing ${className}`,
      backtrace: [],
      worker: id,
      queue: job.queue,
    };
    await queueFailureWrite(ctx.redis.pipeline(), ctx, failure).exec();
    report.failed++;
    await failureHooks(ctx, payload ?? undefined, failure.exception, failure.error);
  }
  ctx.logger.warn(`Reaped dead worker ${id}${job ? ` (its ${job.queue} job is failed)` : ''}`);
}

async function failureHooks(
  ctx: ReaperContext,
  payload: JobPayload | undefined,
  name: string,
  message: string,
) {
  const definition = payload && ctx.jobs?.resolve(payload.class);
  if (!definition || !payload) return;
  const error = new Error(message);
  error.name = name;
  try {
    await runFailureHooks(definition, error, payload.args);
  } catch (hookError) {
    ctx.logger.error(`on_failure hook failed for ${payload.class}: ${String(hookError)}`);
  }
}
