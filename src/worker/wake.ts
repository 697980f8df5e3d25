import type { Redis } from 'ioredis';
import type { ResolvedConfig } from '../config/resolve.js';
import type { Logger } from '../logging/logger.js';
import type { Keys } from '../protocol/keys.js';
import { openRedis } from '../redis/connection.js';
import type { ReserveCall } from './fetch/fetcher.js';
import { registerGlobListener } from './glob-listeners.js';
import type { QueuePatterns } from './queue-patterns.js';

/** What a wait with a reservation behind it ends with (Waker.waitThenReserve). */
export interface WaitAnswer {
  /** The queue of the wake-up received; undefined when the poll interval passed. */
  queue: string | undefined;
  answer: { reply: unknown } | { error: Error };
}

export interface WakeHandlers {
  /** A wake-up for `queue` reached this worker. */
  onWake(queue: string): void;
  /** The poll interval passed without one: look anyway, for jobs pushed by clients that do not announce them. */
  onPoll(): void;
}

/**
 * How an idle worker waits: blocked (BLPOP, on a connection of its own) on the wake lists of the queues it names and
 * of its glob listener (redis/lua/announce.lua). Every push announces its queue with one token per list, and Redis
 * hands a token to one blocked client, so one job wakes one idle worker, not the whole fleet. The block times out
 * after the poll interval.
 */
export class Waker {
  private connection: Redis | undefined;
  private connectionId: number | undefined;
  private waiting: Promise<void> | undefined;
  /** A `listen` wait is blocked in Redis: its wake-up or poll has not come back yet. */
  private blocked = false;
  private stopped = false;
  private readonly listKeys: string[];

  constructor(
    private readonly config: ResolvedConfig,
    private readonly keys: Keys,
    private readonly patterns: QueuePatterns,
    private readonly logger: Logger,
    private readonly handlers: WakeHandlers,
  ) {
    this.listKeys = patterns.named.map((queue) => keys.queueWake(queue));
    const listener = patterns.globListener;
    if (listener) this.listKeys.push(keys.globWake(listener.name));
  }

  /** Registers the glob listener (so pushes reach its list) and opens the blocking connection. */
  async start(redis: Redis): Promise<void> {
    await this.register(redis);
    const connection = openRedis(this.config, 'waker');
    connection.on('error', (error) => this.logger.debug(`Wake connection: ${error.message}`));
    this.connectionId = Number(await connection.client('ID'));
    connection.on('ready', () => {
      // Answered only after a BLPOP sent ahead of it ends, so until then UNBLOCK may name the old connection.
      connection.client('ID').then(
        (id) => {
          this.connectionId = Number(id);
        },
        () => {},
      );
    });
    this.connection = connection;
  }

  /**
   * Puts the glob listener in `ts:wake-globs`, which announcements read to find the lists to wake. At start-up, again
   * after each reconnect (a Redis restarted without its data has lost it, and pushes would wake nobody here), and every
   * minute, so that the listener is not taken for one nobody uses (glob-listeners.ts).
   */
  async register(redis: Redis): Promise<void> {
    const listener = this.patterns.globListener;
    if (listener) await registerGlobListener(redis, this.keys, listener);
  }

  /** Waits for a wake-up or the poll interval, unless already waiting. */
  listen(): void {
    if (this.waiting || !this.connection || this.stopped) return;
    this.waiting = this.block().finally(() => {
      this.waiting = undefined;
    });
  }

  /**
   * Whether a `listen` wait is blocked on the wake lists now; false from the moment it ends, before its wake-up or
   * poll is handled. A second wait sent meanwhile would queue behind it on the same connection.
   */
  get listening(): boolean {
    return this.blocked;
  }

  /** Whether `waitThenReserve` can be used: the list names wake lists to wait on. */
  get canReserveBehindWait(): boolean {
    return this.listKeys.length > 0 && this.connection !== undefined && !this.stopped;
  }

  /**
   * Waits as `listen` does, with a reservation call pipelined behind the wait on the same connection: Redis runs it
   * the moment the wait ends (a wake-up, or the poll interval), so a woken worker's reservation costs no round trip
   * of its own. Resolves with the wake-up's queue (undefined when the interval passed) and the call's answer.
   */
  waitThenReserve(call: ReserveCall): Promise<WaitAnswer> {
    const connection = this.connection!;
    const seconds = Math.max(this.config.intervalMs, 10) / 1000;
    // Sent back to back without waiting in between: Redis reads the call while the wait blocks and runs it after.
    const woken = connection.blpop(...this.listKeys, seconds);
    const reply = connection.evalsha(call.script.sha, call.keys.length, ...call.keys, ...call.sent);
    const answer = Promise.allSettled([woken, reply]).then(([wait, result]): WaitAnswer => {
      const queue = wait.status === 'fulfilled' && wait.value ? wait.value[1] : undefined;
      if (result.status === 'rejected') return { queue, answer: { error: result.reason as Error } };
      return { queue, answer: { reply: result.value } };
    });
    this.waiting = answer
      .then(() => {})
      .finally(() => {
        this.waiting = undefined;
      });
    return answer;
  }

  /**
   * Ends a wait at once (CLIENT UNBLOCK, from `redis`): what is pipelined behind it runs now. With `drop` (a stop), a
   * wait still blocked a second later (after a reconnect the id can be stale, or Redis is away) is dropped with its
   * connection: a call behind a wait that never ended never ran.
   */
  async interrupt(redis: Redis, drop: boolean): Promise<void> {
    const waiting = this.waiting;
    if (!waiting) return;
    let ended = false;
    void waiting.then(() => {
      ended = true;
    });
    // The wait may not have reached Redis yet (it was sent a moment ago, on another connection): asked again until
    // it is there to end.
    const deadline = Date.now() + 1000;
    while (!ended && Date.now() < deadline) {
      let unblocked = 0;
      try {
        if (this.connectionId !== undefined)
          unblocked = Number(await redis.client('UNBLOCK', this.connectionId));
      } catch {
        // Redis is away: the connection is dropped below.
      }
      await Promise.race([
        waiting,
        new Promise((resolve) => setTimeout(resolve, unblocked ? 1000 : 20).unref()),
      ]);
    }
    if (!ended && drop) this.disconnect();
  }

  private async block(): Promise<void> {
    const connection = this.connection!;
    const seconds = Math.max(this.config.intervalMs, 10) / 1000;
    let reply: [string, string] | null;
    try {
      // A list that names no queue it can take from (`a,!a`) has nothing to wait on but the poll interval.
      if (this.listKeys.length === 0) {
        await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
        reply = null;
      } else {
        this.blocked = true;
        try {
          reply = await connection.blpop(...this.listKeys, seconds);
        } finally {
          this.blocked = false;
        }
      }
    } catch (error) {
      if (this.stopped) return;
      this.logger.debug(`Waiting for a wake-up failed: ${(error as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, Math.min(this.config.intervalMs, 1000)));
      reply = null;
    }
    if (reply) this.handlers.onWake(reply[1]);
    else if (!this.stopped) this.handlers.onPoll();
  }

  /**
   * Ends the wait: Redis unblocks the connection (CLIENT UNBLOCK, from `redis`), so a token it handed over on the way
   * still reaches onWake, which passes it on, instead of being lost with the connection.
   */
  async stop(redis: Redis): Promise<void> {
    this.stopped = true;
    const waiting = this.waiting;
    if (waiting && this.connectionId !== undefined) {
      try {
        await redis.client('UNBLOCK', this.connectionId);
        await Promise.race([waiting, new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
      } catch {
        // Redis is away: the token, if any, is lost and the poll interval covers it.
      }
    }
    const connection = this.connection;
    this.connection = undefined;
    if (!connection) return;
    // Still blocked (the id was stale after a reconnect, or Redis is away): QUIT would wait behind the BLPOP for the
    // whole poll interval, so the connection is dropped; a token handed over on the way is left to the poll interval.
    if (this.waiting) {
      connection.disconnect();
      return;
    }
    try {
      await connection.quit();
    } catch {
      connection.disconnect();
    }
  }

  /** Drops the connection at once, without waiting for Redis. */
  disconnect(): void {
    this.stopped = true;
    this.connection?.disconnect();
    this.connection = undefined;
  }
}
