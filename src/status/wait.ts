// `resque.waitFor(id)`: one subscriber connection per client, opened on the first wait and shared by all, listens on
// the channel of each job waited for. A wait subscribes first and reads the record second, so a change published
// between the two is never missed: either the read sees it or the message arrives.
import type { Redis } from 'ioredis';
import type { JsonValue } from '../protocol/json.js';
import { JobNotCompletedError, JobNotTrackedError, WaitTimeoutError } from './errors.js';
import { jobStatus, type LookupContext } from './lookup.js';
import type { JobStatus } from './record.js';

export interface WaitOptions {
  /** Give up after this long with a WaitTimeoutError. Default: wait as long as it takes. */
  readonly timeoutMs?: number;
  /** Called with each progress the job reports while it is waited for. */
  readonly onProgress?: (progress: JsonValue) => void;
}

interface Waiter {
  /** A message on the job's channel. */
  readonly message: (text: string) => void;
  /** The subscriber reconnected: messages may have been missed, read the record again. */
  readonly recheck: () => void;
}

export class JobWaiter {
  private subscriber: Redis | undefined;
  private readonly channels = new Map<string, { waiters: Set<Waiter>; subscribed: Promise<unknown> }>();

  constructor(
    private readonly ctx: LookupContext,
    /** Opens the subscriber connection (a patient one: it outlives a Redis restart). */
    private readonly open: () => Redis,
  ) {}

  /**
   * Resolves with the job's status once it is `completed` (its `result` in it); rejects with JobNotCompletedError
   * once it is `failed` or `cancelled`, with JobNotTrackedError when no status record will say (an untracked job, an
   * unknown id, an expired record), and with WaitTimeoutError after `timeoutMs`.
   */
  waitFor(id: string, options: WaitOptions = {}): Promise<JobStatus> {
    if (typeof id !== 'string' || id === '')
      throw new TypeError('waitFor expects a job id (a non-empty string)');
    const { timeoutMs, onProgress } = options;
    if (timeoutMs !== undefined && (!Number.isFinite(timeoutMs) || timeoutMs < 0))
      throw new TypeError(`waitFor: timeoutMs must be a number of 0 or more, got ${String(timeoutMs)}`);
    const channel = this.ctx.keys.jobEvents(id);
    return new Promise<JobStatus>((resolve, reject) => {
      let last: JobStatus = { id, state: 'unknown', source: 'none' };
      let done = false;
      let timer: NodeJS.Timeout | undefined;
      const finish = (settle: () => void) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.leave(channel, waiter);
        settle();
      };
      /** Settles on an end state; false while the job has not ended. */
      const decide = (status: JobStatus): boolean => {
        last = status;
        if (status.state === 'completed') finish(() => resolve(status));
        else if (status.state === 'failed' || status.state === 'cancelled')
          finish(() => reject(new JobNotCompletedError(status)));
        else return false;
        return true;
      };
      const read = () =>
        jobStatus(this.ctx, id).then(
          (status) => {
            if (!decide(status) && status.source !== 'record')
              finish(() => reject(new JobNotTrackedError(status)));
          },
          (error: unknown) => finish(() => reject(error)),
        );
      const waiter: Waiter = {
        message: (text) => {
          const event = parseEvent(text);
          if (!event) return;
          if (event['state'] === 'completed' || event['state'] === 'failed' || event['state'] === 'cancelled')
            void read();
          else if ('progress' in event && onProgress) onProgress(event['progress'] as JsonValue);
        },
        recheck: () => void read(),
      };
      if (timeoutMs !== undefined)
        timer = setTimeout(() => finish(() => reject(new WaitTimeoutError(last, timeoutMs))), timeoutMs);
      this.join(channel, waiter).then(read, (error: unknown) => finish(() => reject(error)));
    });
  }

  /** Jobs waited for right now. */
  get waiting(): number {
    let n = 0;
    for (const { waiters } of this.channels.values()) n += waiters.size;
    return n;
  }

  async close(): Promise<void> {
    const subscriber = this.subscriber;
    this.subscriber = undefined;
    if (!subscriber) return;
    try {
      await subscriber.quit();
    } catch {
      subscriber.disconnect();
    }
  }

  /** Resolves once the subscriber listens on `channel`. */
  private join(channel: string, waiter: Waiter): Promise<unknown> {
    const existing = this.channels.get(channel);
    if (existing) {
      existing.waiters.add(waiter);
      return existing.subscribed;
    }
    const subscribed = this.connection().subscribe(channel);
    this.channels.set(channel, { waiters: new Set([waiter]), subscribed });
    return subscribed;
  }

  private leave(channel: string, waiter: Waiter): void {
    const entry = this.channels.get(channel);
    if (!entry?.waiters.delete(waiter) || entry.waiters.size > 0) return;
    this.channels.delete(channel);
    this.subscriber?.unsubscribe(channel).catch(() => {});
  }

  private connection(): Redis {
    if (this.subscriber) return this.subscriber;
    const subscriber = this.open();
    subscriber.on('error', () => {
      // A lost connection reconnects by itself; the waits read their records again when it is back.
    });
    subscriber.on('message', (channel: string, text: string) => {
      for (const waiter of this.channels.get(channel)?.waiters ?? []) waiter.message(text);
    });
    let connectedBefore = false;
    subscriber.on('ready', () => {
      if (connectedBefore)
        for (const { waiters } of this.channels.values()) for (const w of waiters) w.recheck();
      connectedBefore = true;
    });
    this.subscriber = subscriber;
    return subscriber;
  }
}

function parseEvent(text: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    return value && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
