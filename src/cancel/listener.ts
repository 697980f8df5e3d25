// How a worker learns that one of its running jobs was cancelled: at once from the cancel channel (one subscriber
// connection per worker process, nothing per job), and, for a message missed while that connection was down, from
// `ts:cancel-running` at its next liveness beat while it runs jobs.
import type { Redis } from 'ioredis';
import type { ResolvedConfig } from '../config/resolve.js';
import type { Logger } from '../logging/logger.js';
import type { Keys } from '../protocol/keys.js';
import { openRedis } from '../redis/connection.js';

export interface CancelTarget {
  /** Cancels the running job with this id if this worker runs it; true when it does. */
  cancel(jobId: string): boolean;
  /** Jobs running now: the beat's check is skipped when there are none. */
  readonly busy: number;
}

export class CancelListener {
  private subscriber: Redis | undefined;
  private readonly slots: ReadonlySet<string>;
  /** Requests naming a slot of this worker that no longer ran their job at the last beat. */
  private stale = new Set<string>();

  constructor(
    private readonly config: ResolvedConfig,
    private readonly keys: Keys,
    slotIds: readonly string[],
    private readonly target: CancelTarget,
    private readonly logger: Logger,
  ) {
    this.slots = new Set(slotIds);
  }

  /** Opens the subscriber connection (ioredis subscribes again by itself after a reconnect). */
  async start(): Promise<void> {
    const subscriber = openRedis(this.config, 'subscriber');
    subscriber.on('error', (error) => this.logger.debug(`Cancel subscriber: ${error.message}`));
    subscriber.on('message', (_channel: string, jobId: string) => this.target.cancel(jobId));
    this.subscriber = subscriber;
    await subscriber.subscribe(this.keys.cancelChannel);
  }

  /**
   * The liveness beat's look at the recorded requests (one ZRANGE while the set has members). A request for one of
   * this worker's slots whose job is not running here at two beats in a row is removed: the job ended before the
   * request reached it (the job's own end removes the request otherwise).
   */
  async check(redis: Redis): Promise<void> {
    const requests = await redis.zrange(this.keys.cancelRunning, 0, -1);
    const stale = new Set<string>();
    const gone: string[] = [];
    for (const request of requests) {
      const cut = request.lastIndexOf('\n');
      const slot = request.slice(0, cut);
      if (!this.slots.has(slot)) continue;
      if (this.target.busy > 0 && this.target.cancel(request.slice(cut + 1))) continue;
      if (this.stale.has(request)) gone.push(request);
      else stale.add(request);
    }
    this.stale = stale;
    if (gone.length > 0) await redis.zrem(this.keys.cancelRunning, ...gone);
  }

  stop(): void {
    this.subscriber?.disconnect();
    this.subscriber = undefined;
  }
}
