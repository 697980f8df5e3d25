import type { Redis } from 'ioredis';
import type { Keys } from '../protocol/keys.js';
import { isoOffset, rubyTimeToS } from '../protocol/time.js';
import { redisTime } from '../redis/replies.js';

/**
 * A worker's Ruby-visible registry entries (docs/protocol.md, workers), one per slot id: the `workers` set,
 * `worker:<id>:started`, and the `workers:heartbeat` field.
 */
export class Registration {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    readonly slotIds: readonly string[],
  ) {}

  /** Ruby clears its own heartbeat field first, then beats, then registers. */
  async clearHeartbeats(): Promise<void> {
    await this.redis.hdel(this.keys.heartbeats, ...this.slotIds);
  }

  async heartbeat(): Promise<void> {
    const now = isoOffset(await redisTime(this.redis));
    const fields = this.slotIds.flatMap((id) => [id, now]);
    await this.redis.hset(this.keys.heartbeats, ...fields);
  }

  async register(started: Date = new Date()): Promise<void> {
    const pipeline = this.redis.pipeline().sadd(this.keys.workers, ...this.slotIds);
    for (const id of this.slotIds) pipeline.set(this.keys.workerStarted(id), rubyTimeToS(started), 'NX');
    await pipeline.exec();
  }

  async isRegistered(): Promise<boolean> {
    return (await this.redis.sismember(this.keys.workers, this.slotIds[0]!)) === 1;
  }

  async unregister(): Promise<void> {
    await unregisterWorkers(this.redis, this.keys, this.slotIds);
  }
}

/** The six deletes of Ruby's unregister_worker, for any worker ids, plus our stats hash. */
export async function unregisterWorkers(redis: Redis, keys: Keys, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  const pipeline = redis
    .pipeline()
    .srem(keys.workers, ...ids)
    .hdel(keys.heartbeats, ...ids);
  for (const id of ids) {
    pipeline.del(
      keys.worker(id),
      keys.workerStarted(id),
      keys.processedBy(id),
      keys.failedBy(id),
      keys.workerStats(id),
    );
  }
  await pipeline.exec();
}
