import type { Redis } from 'ioredis';
import type { ResolvedConfig } from '../config/resolve.js';
import { queueFailureWrite } from '../failure/save.js';
import { runFailureHooks } from '../jobs/perform.js';
import type { JobRegistry } from '../jobs/registry.js';
import type { Keys } from '../protocol/keys.js';
import { decodePayload, type JobPayload } from '../protocol/payload.js';
import { parseResqueTime } from '../protocol/time.js';
import { decodeWorkerStatus } from '../protocol/worker-status.js';
import type { Logger } from '../worker/logger.js';
import { failInflight, returnsOf, returnToQueue } from './give-back.js';
import { parseInflight } from './inflight.js';
import { redisTime, unregisterWorkers } from './registration.js';

export interface ReaperContext {
  readonly redis: Redis;
  readonly keys: Keys;
  readonly config: Pick<
    ResolvedConfig,
    'deadWorkerAfterMs' | 'maxReturns' | 'failureBackend' | 'heartbeatIntervalMs'
  >;
  readonly logger: Logger;
  readonly jobs?: JobRegistry;
}

export interface ReapReport {
  /** False when another worker held Ruby's pruning lock, so this pass did nothing. */
  ran: boolean;
  reaped: string[];
  returned: number;
  failed: number;
}

/**
 * Prunes dead workers (resque-protocol.md §1.5, heartbeat rule) under Ruby's pruning lock, so Ruby and resque-ts
 * workers never prune the same worker twice. A worker is dead when its heartbeat is older than `deadWorkerAfterMs`
 * by the Redis clock. Jobs a dead resque-ts worker held go back to the head of their queue; one that has already
 * been returned `maxReturns` times goes to the failed list instead, so a job that kills its worker cannot loop.
 * A dead Ruby worker's job is failed as Ruby's pruner would (`Resque::PruneDeadWorkerDirtyExit`).
 */
export async function reapDeadWorkers(ctx: ReaperContext, selfId: string): Promise<ReapReport> {
  const report: ReapReport = { ran: false, reaped: [], returned: 0, failed: 0 };
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
  const [held, status] = await ctx.redis.mget(ctx.keys.inflight(id), ctx.keys.worker(id));
  const inflight = parseInflight(held ?? null);
  if (inflight) {
    const returns = returnsOf(inflight.raw);
    if (returns >= ctx.config.maxReturns) {
      const payload = tryDecode(inflight.raw);
      const failure = {
        rawPayload: payload ? inflight.raw : undefined,
        payload: (payload ?? null) as never,
        exception: 'Resque::DirtyExit',
        error: `Worker ${id} died while processing ${payload?.class ?? '<Unknown Job>'}; the job was already returned to its queue ${returns} times after its workers died (maxReturns is ${ctx.config.maxReturns}), so it is failed instead`,
        backtrace: [],
        worker: id,
        queue: inflight.queue,
        ...(payload ? {} : { extra: { raw: inflight.raw } }),
      };
      if (await failInflight(ctx, id, inflight, failure)) {
        report.failed++;
        await hooks(ctx, payload, failure.exception, failure.error);
      }
    } else if (await returnToQueue(ctx, id, inflight, true)) {
      report.returned++;
    }
    ctx.logger.warn(
      `Reaped dead worker ${id}: its ${inflight.queue} job ${returns >= ctx.config.maxReturns ? 'failed' : 'returned to the queue'}`,
    );
  } else {
    const job = decodeWorkerStatus(status);
    if (job) {
      const payload = job.payload as unknown as JobPayload | null;
      const className =
        payload && typeof payload === 'object' && typeof payload.class === 'string'
          ? payload.class
          : '<Unknown Job>';
      const failure = {
        rawPayload: undefined,
        payload: job.payload,
        exception: 'Resque::PruneDeadWorkerDirtyExit',
        error: `Worker ${id} did not gracefully exit while processing ${className}`,
        backtrace: [],
        worker: id,
        queue: job.queue,
      };
      await queueFailureWrite(ctx.redis.pipeline(), ctx, failure).exec();
      report.failed++;
      await hooks(ctx, payload ?? undefined, failure.exception, failure.error);
    }
    ctx.logger.warn(`Reaped dead worker ${id}${job ? ` (its ${job.queue} job is failed)` : ''}`);
  }
  await unregisterWorkers(ctx.redis, ctx.keys, [id]);
  report.reaped.push(id);
}

function tryDecode(raw: string): JobPayload | undefined {
  try {
    return decodePayload(raw);
  } catch {
    return undefined;
  }
}

async function hooks(
  ctx: ReaperContext,
  payload: JobPayload | undefined,
  name: string,
  message: string,
): Promise<void> {
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
