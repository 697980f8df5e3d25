import { type ClientOptions, Resque } from '../client/resque.js';
import type { ResolvedConfig } from '../config/resolve.js';
import { Failures } from '../failure/store.js';
import { type AdminContext, guarded } from './context.js';
import { clearQueue, type QueueSummary, queueExists, queueSummaries } from './queues.js';
import { type WorkerSummary, workerSummaries } from './workers.js';

/**
 * The admin read model: what the dashboard and the CLI show and do, in one place; neither issues Redis commands
 * itself. Queues and workers are read here (one pipeline each, O(queues)/O(workers)); failures through the failure
 * store; enqueue/dequeue/info through the queue client, which shares the connection.
 */
export class Admin {
  readonly resque: Resque;
  readonly failures: Failures;
  private readonly ctx: AdminContext;

  constructor(options: ClientOptions = {}) {
    this.resque = new Resque(options);
    this.ctx = { redis: this.resque.redis, keys: this.resque.keys, config: this.resque.config };
    this.failures = new Failures(this.ctx.redis, this.ctx.keys, this.ctx.config);
  }

  get config(): ResolvedConfig {
    return this.ctx.config;
  }

  /** Queues, sorted, with size and the latency of their next job. */
  queues(): Promise<QueueSummary[]> {
    return guarded(this.ctx, () => queueSummaries(this.ctx));
  }

  hasQueue(name: string): Promise<boolean> {
    return guarded(this.ctx, () => queueExists(this.ctx, name));
  }

  /** Drops every job of a queue (it stays listed); throws QueueNotFoundError for an unknown queue. */
  clearQueue(name: string): Promise<number> {
    return guarded(this.ctx, () => clearQueue(this.ctx, name));
  }

  /** Registered workers: what each is doing, since when, last heartbeat, counters. */
  workers(): Promise<WorkerSummary[]> {
    return guarded(this.ctx, () => workerSummaries(this.ctx));
  }

  info() {
    return this.resque.info();
  }

  close(): Promise<void> {
    return this.resque.close();
  }
}
