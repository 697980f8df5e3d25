// A worker of a sharded namespace (docs/cluster.md, Shards): one whole Worker per shard its queue list touches, each
// on that shard's own namespace (registration, heartbeat, reaper, reservations, wake lists, cancels, statuses,
// promotion), held together here so that the application still holds one worker.
import { EventEmitter } from 'node:events';
import type { ResolvedConfig } from '../config/resolve.js';
import { shardConfig } from '../config/shards.js';
import { ConfigError, TermException } from '../errors/index.js';
import type { WorkerStats } from '../fleet/worker-stats.js';
import type { Keys } from '../protocol/keys.js';
import type { ShardLayout } from '../protocol/shard-layout.js';
import type { StopMode } from './launcher.js';
import type { WorkerEvents } from './worker-events.js';

/** A worker's part on one shard of its namespace (a worker of a namespace not sharded has one, shard 0). */
export interface WorkerShard {
  readonly shard: number;
  readonly namespace: string;
  readonly queues: readonly string[];
  readonly id: string;
  readonly slotIds: readonly string[];
}

/** What the parts are: Workers of one shard each (worker.ts makes them). */
export interface WorkerPart extends EventEmitter<WorkerEvents> {
  readonly id: string;
  readonly slotIds: readonly string[];
  readonly keys: Keys;
  readonly finished: Promise<void>;
  readonly shards: readonly WorkerShard[];
  readonly paused: boolean;
  readonly busySlots: number;
  start(): Promise<void>;
  stop(mode: StopMode): Promise<void>;
  pause(): Promise<void>;
  resume(): Promise<void>;
  abortRunning(reason?: Error): void;
  stats(): WorkerStats;
}

/** Events passed on as they come from any shard's part. */
const FORWARDED = ['job:start', 'job:finish', 'beat'] as const;

export class ShardedWorker extends EventEmitter<WorkerEvents> {
  readonly config: ResolvedConfig;
  /** One Worker per shard the queue list touches, in the order of `layout.split(queues)`. */
  readonly parts: readonly WorkerPart[];
  readonly shards: readonly WorkerShard[];
  readonly finished: Promise<void>;
  private readonly idleParts = new Set<WorkerPart>();

  /**
   * `makePart` makes the Worker of one shard from its configuration; `first` is the part that serves the process's
   * ports and metrics registry. `ownExecutor`: the application gave an executor, which only one part can use.
   */
  constructor(
    config: ResolvedConfig,
    layout: ShardLayout,
    ownExecutor: boolean,
    makePart: (config: ResolvedConfig, first: boolean) => WorkerPart,
  ) {
    super();
    this.config = config;
    const split = layout.split(config.queues);
    if (split.length === 0)
      throw new ConfigError('queues', `no queue to work: ${JSON.stringify(config.queues.join(','))}`);
    if (ownExecutor && split.length > 1)
      throw new ConfigError(
        'executor',
        `the queues ${config.queues.join(',')} lie on shards ${split.map((p) => p.shard).join(', ')}, and a sharded worker runs one executor per shard: leave executor unset, or give it the queues of one shard`,
      );
    const parts: WorkerPart[] = [];
    try {
      for (const [index, part] of split.entries())
        parts.push(
          makePart(
            shardConfig(
              index === 0 ? config : { ...config, metricsPort: 0, healthPort: 0 },
              part.namespace,
              part.queues,
            ),
            index === 0,
          ),
        );
    } catch (error) {
      // The parts already made have opened their connections: closed, as a worker never started closes them.
      for (const made of parts) void made.stop('term').catch(() => {});
      throw error;
    }
    this.parts = parts;
    this.shards = this.parts.map((worker, index) => ({ ...worker.shards[0]!, shard: split[index]!.shard }));
    for (const part of this.parts) this.listenTo(part);
    this.finished = Promise.all(this.parts.map((part) => part.finished)).then(() => {
      this.emit('stopped');
    });
  }

  /** The first shard's part's id (each part has its own, see `shards`). */
  get id(): string {
    return this.parts[0]!.id;
  }

  /** The first shard's part's slots. */
  get slotIds(): readonly string[] {
    return this.parts[0]!.slotIds;
  }

  /** The first shard's part's keys. */
  get keys(): Keys {
    return this.parts[0]!.keys;
  }

  /** Starts every part; if one cannot start, the others are stopped and the error is thrown. */
  async start(): Promise<void> {
    const started = await Promise.allSettled(this.parts.map((part) => part.start()));
    const failed = started.find((result) => result.status === 'rejected');
    if (!failed) return;
    await this.stop('term');
    throw failed.reason;
  }

  async stop(mode: StopMode = 'graceful'): Promise<void> {
    await Promise.all(this.parts.map((part) => part.stop(mode)));
    return this.finished;
  }

  async pause(): Promise<void> {
    await Promise.all(this.parts.map((part) => part.pause()));
  }

  async resume(): Promise<void> {
    await Promise.all(this.parts.map((part) => part.resume()));
  }

  abortRunning(reason: Error = new TermException('SIGUSR1')): void {
    for (const part of this.parts) part.abortRunning(reason);
  }

  get paused(): boolean {
    return this.parts.every((part) => part.paused);
  }

  get busySlots(): number {
    return this.parts.reduce((sum, part) => sum + part.busySlots, 0);
  }

  /** The first part's stats with the counters, slots and children of every part added up. */
  stats(): WorkerStats {
    const [first, ...others] = this.parts.map((part) => part.stats());
    const total = { ...first! };
    for (const stats of others) {
      total.slots += stats.slots;
      total.processed += stats.processed;
      total.failed += stats.failed;
      total.givenBack += stats.givenBack;
      total.restarts += stats.restarts;
      total.children = [...total.children, ...stats.children];
      total.recentRestarts = [...total.recentRestarts, ...stats.recentRestarts];
      const reasons = { ...total.restartReasons };
      for (const [reason, count] of Object.entries(stats.restartReasons))
        reasons[reason as keyof typeof reasons] =
          (reasons[reason as keyof typeof reasons] ?? 0) + (count ?? 0);
      total.restartReasons = reasons;
    }
    return total;
  }

  private listenTo(part: WorkerPart): void {
    for (const event of FORWARDED)
      part.on(event, (...args: unknown[]) =>
        (this.emit as (e: string, ...a: unknown[]) => boolean)(event, ...args),
      );
    part.on('job:start', () => this.idleParts.delete(part));
    // Idle once every part is: the worker as a whole found nothing to do.
    part.on('idle', () => {
      this.idleParts.add(part);
      if (this.idleParts.size === this.parts.length) this.emit('idle');
    });
    // As a Worker does: an 'error' nobody listens to is not thrown (the part logs it and retries).
    part.on('error', (error) => {
      if (this.listenerCount('error') > 0) this.emit('error', error);
    });
  }
}
