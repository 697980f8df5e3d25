import type { Redis } from 'ioredis';
import type { Keys } from '../protocol/keys.js';
import { isoOffset, rubyTimeToS } from '../protocol/time.js';
import { redisTime } from '../redis/replies.js';
import {
  beat,
  type Clock,
  deleteLiveness,
  type ProcessRecord,
  redisClock,
  writeProcessRecord,
} from './liveness.js';

/**
 * A worker's entries in the registry, one per slot id: Ruby's (the `workers` set, `worker:<id>:started`, the
 * `workers:heartbeat` field; docs/protocol.md, Registration, heartbeat, unregistration) and resque-ts's own (its
 * process record and the liveness beat, fleet/liveness.ts).
 */
export class Registration {
  readonly slotIds: readonly string[];

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    readonly process: ProcessRecord,
    private readonly clock: Clock = redisClock,
  ) {
    this.slotIds = process.slots;
  }

  /** Ruby clears its own heartbeat field first, then beats, then registers. */
  async clearHeartbeats(): Promise<void> {
    await this.redis.hdel(this.keys.heartbeats, ...this.slotIds);
  }

  /** Ruby's heartbeat (every `heartbeatIntervalMs`, by the Redis clock, as Ruby writes it). */
  async heartbeat(): Promise<void> {
    const now = isoOffset(await redisTime(this.redis));
    const fields = this.slotIds.flatMap((id) => [id, now]);
    await this.redis.hset(this.keys.heartbeats, ...fields);
  }

  /** resque-ts's liveness beat (every `livenessIntervalMs`); false when the worker is no longer registered. */
  async beat(): Promise<boolean> {
    return (await beat(this.redis, this.keys, this.slotIds, this.clock)).registered;
  }

  async register(started: Date = new Date()): Promise<void> {
    const pipeline = this.redis.pipeline().sadd(this.keys.workers, ...this.slotIds);
    for (const id of this.slotIds) pipeline.set(this.keys.workerStarted(id), rubyTimeToS(started), 'NX');
    writeProcessRecord(pipeline, this.keys, this.process);
    await pipeline.exec();
    await this.beat();
  }

  async unregister(): Promise<void> {
    await unregisterWorkers(this.redis, this.keys, this.slotIds);
  }
}

/** The six deletes of Ruby's unregister_worker, for any worker ids, plus our stats, liveness and process records. */
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
  deleteLiveness(pipeline, keys, ids);
  await pipeline.exec();
}
