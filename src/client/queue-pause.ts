import { assertQueueName } from '../protocol/names.js';
import { runScript, SCRIPTS } from '../redis/scripts.js';
import type { ClientContext } from './context.js';

type PauseContext = Pick<ClientContext, 'redis' | 'keys'>;

/**
 * Pauses one queue: no resque-ts worker takes a job from it (reserve.lua skips it) from its next reservation on,
 * until it is resumed; running jobs finish. Ruby workers do not know the key and keep taking from it. Returns false
 * when it was paused already.
 */
export async function pauseQueue(ctx: PauseContext, queue: string, now = Date.now()): Promise<boolean> {
  assertQueueName(queue);
  return (await ctx.redis.hsetnx(ctx.keys.pausedQueues, queue, String(now))) === 1;
}

/** Resumes a paused queue and wakes a worker for it if it holds jobs. Returns false when it was not paused. */
export async function resumeQueue(ctx: PauseContext, queue: string): Promise<boolean> {
  assertQueueName(queue);
  const resumed = (await ctx.redis.hdel(ctx.keys.pausedQueues, queue)) === 1;
  if (resumed)
    await runScript(
      ctx.redis,
      SCRIPTS.announce,
      [ctx.keys.nonEmptyQueues],
      [ctx.keys.announce, ctx.keys.queuePrefix, queue],
    );
  return resumed;
}

/** The paused queues, with when each was paused. */
export async function pausedQueues(ctx: PauseContext): Promise<Map<string, Date>> {
  const entries = await ctx.redis.hgetall(ctx.keys.pausedQueues);
  return new Map(Object.entries(entries).map(([queue, at]) => [queue, new Date(Number(at))]));
}

/** Ruby's `pause-all-workers`: every worker, Ruby's and resque-ts's, stops taking jobs until it is cleared. */
export async function pauseAllWorkers(ctx: PauseContext): Promise<void> {
  await ctx.redis.set(ctx.keys.pauseAll, 'true');
}

export async function resumeAllWorkers(ctx: PauseContext): Promise<void> {
  await ctx.redis.del(ctx.keys.pauseAll);
}
