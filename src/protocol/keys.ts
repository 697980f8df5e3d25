/**
 * Every Redis key resque-ts touches (docs/protocol.md, Keys). No other module and no Lua script spells a key: scripts
 * receive theirs in KEYS, built here. Keys shared with Ruby Resque keep Ruby's names; keys only resque-ts uses live
 * under `<ns>:ts:`.
 */
export class Keys {
  readonly prefix: string;

  constructor(readonly namespace: string) {
    this.prefix = `${namespace}:`;
  }

  /** A key of any logical name under the namespace: the dashboard's key browser, which shows whatever is there. */
  named(logical: string): string {
    return `${this.prefix}${logical}`;
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
  /**
   * The job a worker slot has reserved and not finished (STRING, format in worker/fetch/inflight.ts). Written with
   * `worker:<slot>` in one script; the reaper gives it back to its queue if the worker dies.
   */
  inflight(slotId: string): string {
    return `${this.prefix}ts:inflight:${slotId}`;
  }
  /**
   * Left by the reaper when it gives back or fails a dead slot's job (STRING, the reservation's token, expiring after
   * an hour): if the worker was only stalled and later finishes that job, reserve.lua refuses the acknowledgement and
   * says so, rather than dropping it silently.
   */
  givenBack(slotId: string): string {
    return `${this.prefix}ts:given-back:${slotId}`;
  }
  /**
   * What a dashboard shows about one worker (HASH): field `worker` = JSON counters, memory, restarts; one field
   * `child:<n>` per child of a supervised worker. Rewritten with each heartbeat, expires with it; see worker-stats.ts.
   */
  workerStats(workerId: string): string {
    return `${this.prefix}ts:worker-stats:${workerId}`;
  }
  /** Error groups by recency: ZSET member = group id, score = last seen (epoch ms). Bounded; oldest evicted. */
  get failureGroups(): string {
    return `${this.prefix}ts:failure-groups`;
  }
  /** Error groups' details: HASH group id → JSON (count, first/last seen, first release, queues, classes). */
  get failureGroupDetails(): string {
    return `${this.prefix}ts:failure-group-details`;
  }
  /**
   * The dashboard's time series: ZSET, score = sample time (epoch ms, a multiple of the sample period), member = JSON
   * `{"t","p","f","pend","lat","g"}` (stat:processed, stat:failed, pending jobs, oldest wait, error-group growth).
   * Capped by rank; written at most once per period whichever dashboard samples first.
   */
  get statsSamples(): string {
    return `${this.prefix}ts:stats:samples`;
  }
  /** One sample period's claim (STRING, `SET NX PX`): the first dashboard to take it writes that period's sample. */
  statsSampleClaim(periodStartMs: number): string {
    return `${this.prefix}ts:stats:claim:${periodStartMs}`;
  }
  /** Error-group counts at the previous sample (HASH group id → count), so samples store growth only. */
  get statsGroupCounts(): string {
    return `${this.prefix}ts:stats:group-counts`;
  }
  /**
   * resque-ts's own liveness record (ZSET): member = slot id, score = the worker's last liveness beat (epoch ms, Redis
   * clock), every few seconds. A slot whose beat is older than `livenessTimeoutMs` is dead; ids without a score here
   * (Ruby's, an older release's) are judged by Ruby's heartbeat rule instead.
   */
  get liveness(): string {
    return `${this.prefix}ts:liveness`;
  }
  /**
   * One resque-ts worker process (HASH, by its worker id): `host`, `pid`, `bootId`, `pidNamespace`, `slots` (JSON
   * array of its slot ids). Written at registration, deleted with it; the reaper reads it to find every slot of a dead
   * process and to tell a process on this host that is gone.
   */
  process(workerId: string): string {
    return `${this.prefix}ts:process:${workerId}`;
  }
  /** The resque-ts worker ids registered from one hostname (SET), for the same-host check of the reaper. */
  hostWorkers(hostname: string): string {
    return `${this.prefix}ts:host:${hostname}`;
  }
  /**
   * Taken (`SET NX PX`) by the one worker that runs the pass of Ruby's heartbeat rule this period, so the fleet runs
   * one such pass per period, not one per worker.
   */
  get rubyPruneTurn(): string {
    return `${this.prefix}ts:ruby-prune-turn`;
  }
  /** Pub/Sub channel on which enqueues announce the queue name, waking idle workers. */
  get wakeChannel(): string {
    return `${this.prefix}ts:wake`;
  }
}
