import type { Redis } from 'ioredis';
import type { Keys } from '../protocol/keys.js';

/**
 * Ruby's per-worker counters (`stat:processed:<slot>`, `stat:failed:<slot>`), added up in the worker and written with
 * its liveness beat rather than in every reservation call: resque-web reads them a couple of seconds late, and they
 * are deleted when the slot unregisters anyway. The global `stat:processed` and `stat:failed` stay exact, counted by
 * reserve.lua in the same step as each acknowledgement.
 */
export class SlotCounters {
  private counts = new Map<string, { processed: number; failed: number }>();

  add(slotId: string, failed: boolean): void {
    let count = this.counts.get(slotId);
    if (!count) {
      count = { processed: 0, failed: 0 };
      this.counts.set(slotId, count);
    }
    count.processed++;
    if (failed) count.failed++;
  }

  /** Writes what was added since the last write; kept for the next one if Redis refuses. */
  async write(redis: Redis, keys: Keys): Promise<void> {
    if (this.counts.size === 0) return;
    const counts = this.counts;
    this.counts = new Map();
    const pipeline = redis.pipeline();
    for (const [slot, { processed, failed }] of counts) {
      pipeline.incrby(keys.processedBy(slot), processed);
      if (failed > 0) pipeline.incrby(keys.failedBy(slot), failed);
    }
    try {
      const results = await pipeline.exec();
      if (results?.some(([error]) => error)) throw results.find(([error]) => error)![0];
    } catch (error) {
      for (const [slot, { processed, failed }] of counts) {
        for (let i = 0; i < processed; i++) this.add(slot, i < failed);
      }
      throw error;
    }
  }
}
