// How a worker learns that one of its running jobs was cancelled: at once from the cancel channel (one subscriber
// connection per worker process, nothing per job), and, for a message missed while that connection was down, from
// `ts:cancel-running` at its next liveness beat while it runs jobs.
import type { Redis } from 'ioredis';
import type { ResolvedConfig } from '../config/resolve.js';
import type { Logger } from '../logging/logger.js';
import type { Keys } from '../protocol/keys.js';
import { openRedis } from '../redis/connection.js';

export interface CancelTarget {
  /** Cancels the running job with this id if this worker holds it. */
  cancel(jobId: string): void;
  /** Jobs running now: the beat's check is skipped when there are none. */
  readonly busy: number;
}

export class CancelListener {
  private subscriber: Redis | undefined;

  constructor(
    private readonly config: ResolvedConfig,
    private readonly keys: Keys,
    private readonly target: CancelTarget,
    private readonly logger: Logger,
  ) {}

  /** Opens the subscriber connection (ioredis subscribes again by itself after a reconnect). */
  async start(): Promise<void> {
    const subscriber = openRedis(this.config, 'subscriber');
    subscriber.on('error', (error) => this.logger.debug(`Cancel subscriber: ${error.message}`));
    subscriber.on('message', (_channel: string, jobId: string) => this.target.cancel(jobId));
    this.subscriber = subscriber;
    await subscriber.subscribe(this.keys.cancelChannel);
  }

  /** The liveness beat's look at the recorded requests: one ZRANGE, only while jobs run. */
  async check(redis: Redis): Promise<void> {
    if (this.target.busy === 0) return;
    for (const jobId of await redis.zrange(this.keys.cancelRunning, 0, -1)) this.target.cancel(jobId);
  }

  stop(): void {
    this.subscriber?.disconnect();
    this.subscriber = undefined;
  }
}
