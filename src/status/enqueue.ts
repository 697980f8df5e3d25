import type { ChainableCommander, Redis } from 'ioredis';
import type { Keys } from '../protocol/keys.js';
import { queueStatusChange, type ScriptSend } from './write.js';

/** A tracked job being enqueued or filed for later: its first status record, written with the push. */
export interface TrackedEnqueue {
  readonly id: string;
  readonly ttlMs: number;
  readonly className: string;
  readonly queue: string;
  /** Epoch ms. */
  readonly enqueuedAt: number;
  /** When a delayed job is due (epoch ms); undefined for a job pushed onto its queue. */
  readonly dueAt?: number;
}

/** Queues a push's commands; its scripts by SHA when `call` is `evalsha`. */
export type QueuePush = (multi: ChainableCommander, call: ScriptSend) => void;

/**
 * Runs a push and the first status records of its tracked jobs in one MULTI (one round trip): `push` queues the
 * push's commands, the records follow, all scripts by SHA. Should a command of the push fail in Redis, the records
 * just written are deleted again: after NOSCRIPT (a restarted or flushed Redis) the whole is sent once more with the
 * scripts' sources; after any other error (a key of the wrong type) the push's error is thrown. No record says
 * `queued` of a job that is not there. Returns the replies of the push's commands.
 */
export async function pushWithStatus(
  redis: Redis,
  keys: Keys,
  tracked: readonly TrackedEnqueue[],
  push: QueuePush,
): Promise<unknown[]> {
  for (const call of ['evalsha', 'eval'] as const) {
    const multi = redis.multi();
    const before = multi.length;
    push(multi, call);
    const pushCommands = multi.length - before;
    for (const job of tracked) queueStatusChange(multi, keys, job.id, job.ttlMs, firstChange(job), call);
    const results = await multi.exec();
    if (!results) throw new Error('Redis discarded the enqueue transaction');
    const pushed = results.slice(0, pushCommands);
    const failed = pushed.find(([error]) => error)?.[0];
    if (failed) {
      await redis.del(...tracked.map((job) => keys.jobStatus(job.id)));
      if (call === 'evalsha' && failed.message.startsWith('NOSCRIPT')) continue;
      throw failed;
    }
    const unwritten = tracked.filter((_, i) => results[pushCommands + i]?.[0]);
    if (unwritten.length > 0) {
      // The jobs are on their queue: their records are written now, with the script's source.
      const pipeline = redis.pipeline();
      for (const job of unwritten)
        queueStatusChange(pipeline, keys, job.id, job.ttlMs, firstChange(job), 'eval');
      const retried = await pipeline.exec();
      const error = retried?.find(([e]) => e)?.[0];
      if (error) throw error;
    }
    return pushed.map(([, value]) => value);
  }
  throw new Error('unreachable');
}

function firstChange(job: TrackedEnqueue) {
  return {
    state: job.dueAt === undefined ? ('queued' as const) : ('delayed' as const),
    at: job.enqueuedAt,
    className: job.className,
    queue: job.queue,
    enqueuedAt: job.enqueuedAt,
    ...(job.dueAt === undefined ? {} : { nextAt: job.dueAt }),
  };
}
