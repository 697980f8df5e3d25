/**
 * Every Redis key resque-ts touches, named as in resque-protocol.md §1.1. No other module spells a key.
 * Keys shared with Ruby Resque keep Ruby's names; keys only resque-ts uses live under `<ns>:ts:`.
 */
export class Keys {
  readonly prefix: string;

  constructor(readonly namespace: string) {
    this.prefix = `${namespace}:`;
  }

  /** Strips the namespace prefix from a full key name. */
  logical(fullKey: string): string {
    return fullKey.startsWith(this.prefix) ? fullKey.slice(this.prefix.length) : fullKey;
  }

  // Ruby Resque's keys.
  get queues(): string {
    return `${this.prefix}queues`;
  }
  queue(name: string): string {
    return `${this.prefix}queue:${name}`;
  }
  get workers(): string {
    return `${this.prefix}workers`;
  }
  worker(id: string): string {
    return `${this.prefix}worker:${id}`;
  }
  workerStarted(id: string): string {
    return `${this.prefix}worker:${id}:started`;
  }
  get heartbeats(): string {
    return `${this.prefix}workers:heartbeat`;
  }
  get pruningLock(): string {
    return `${this.prefix}pruning_dead_workers_in_progress`;
  }
  stat(name: string): string {
    return `${this.prefix}stat:${name}`;
  }
  get processed(): string {
    return this.stat('processed');
  }
  get failedCount(): string {
    return this.stat('failed');
  }
  processedBy(workerId: string): string {
    return this.stat(`processed:${workerId}`);
  }
  failedBy(workerId: string): string {
    return this.stat(`failed:${workerId}`);
  }
  get failed(): string {
    return `${this.prefix}failed`;
  }
  get failedQueues(): string {
    return `${this.prefix}failed_queues`;
  }
  /** RedisMultiQueue backend: the failure list of job queue `queue`, as a logical name and as a key. */
  failedQueueName(queue: string): string {
    return `${queue}_failed`;
  }
  failedList(listName: string): string {
    return `${this.prefix}${listName}`;
  }
  get pauseAll(): string {
    return `${this.prefix}pause-all-workers`;
  }

  // resque-ts's own keys: invisible to Ruby, which never reads them.
  /** Jobs a worker has reserved and not finished: the exact queue bytes, one per in-flight job (LIST). */
  inflight(workerId: string): string {
    return `${this.prefix}ts:inflight:${workerId}`;
  }
  /** HASH field = worker slot id → queue the in-flight job came from (so the reaper knows where to return it). */
  inflightQueues(workerId: string): string {
    return `${this.prefix}ts:inflight-queues:${workerId}`;
  }
  /** HASH payload-hash → times the reaper returned it to its queue (bounded by `maxReturns`). */
  get returns(): string {
    return `${this.prefix}ts:returns`;
  }
  /** Pub/Sub channel on which enqueues announce the queue name, waking idle workers. */
  get wakeChannel(): string {
    return `${this.prefix}ts:wake`;
  }
}
