import type { Redis } from 'ioredis';
import type { ResolvedConfig } from '../config/resolve.js';
import type { Logger } from '../logging/logger.js';
import type { Keys } from '../protocol/keys.js';
import { openRedis } from '../redis/connection.js';

/**
 * Instant wake-up: every resque-ts enqueue PUBLISHes the queue name on `<ns>:ts:wake` in the same round trip as
 * the RPUSH; idle workers subscribe and reserve at once. Foreign clients don't publish; the poll interval finds
 * their jobs.
 */
export class WakeListener {
  private subscriber: Redis | undefined;

  constructor(
    private readonly config: ResolvedConfig,
    private readonly keys: Keys,
    private readonly logger: Logger,
    private readonly onWake: (queue: string) => void,
  ) {}

  async start(): Promise<void> {
    const subscriber = openRedis(this.config, 'subscriber');
    subscriber.on('error', (error) => this.logger.debug(`Wake subscriber: ${error.message}`));
    subscriber.on('message', (_channel: string, queue: string) => this.onWake(queue));
    await subscriber.subscribe(this.keys.wakeChannel);
    this.subscriber = subscriber;
  }

  /** Drops the subscription at once, without waiting for Redis. */
  disconnect(): void {
    this.subscriber?.disconnect();
    this.subscriber = undefined;
  }

  async stop(): Promise<void> {
    const subscriber = this.subscriber;
    this.subscriber = undefined;
    if (!subscriber) return;
    try {
      await subscriber.quit();
    } catch {
      subscriber.disconnect();
    }
  }
}
