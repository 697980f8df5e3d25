import type { Redis } from 'ioredis';
import { timeReplyMs } from './replies.js';

/** How long a measured offset between this machine's clock and Redis's is trusted before it is measured again. */
const RESYNC_MS = 10_000;

/**
 * The Redis server's clock without a round trip per reading: `TIME` is asked once every RESYNC_MS and the offset to
 * this machine's clock (taken at the middle of the round trip) is applied in between. Good to about half a round
 * trip, which is what a reading taken by `TIME` itself is worth by the time it is used.
 */
export class RedisClock {
  private offsetMs = 0;
  private syncedAt = Number.NEGATIVE_INFINITY;
  private syncing: Promise<void> | undefined;

  constructor(private readonly redis: Redis) {}

  async now(): Promise<number> {
    if (Date.now() - this.syncedAt > RESYNC_MS) {
      this.syncing ??= this.sync().finally(() => {
        this.syncing = undefined;
      });
      await this.syncing;
    }
    return Date.now() + this.offsetMs;
  }

  private async sync(): Promise<void> {
    const sent = Date.now();
    const serverMs = timeReplyMs(await this.redis.time());
    const received = Date.now();
    this.offsetMs = serverMs - (sent + received) / 2;
    this.syncedAt = received;
  }
}
