/**
 * Every Redis key resque-ts touches (docs/protocol.md, Keys). No other module and no Lua script spells a key: scripts
 * receive theirs in KEYS, built here. Keys shared with Ruby Resque keep Ruby's names; keys only resque-ts uses live
 * under `<ns>:ts:`.
 */
export class Keys {
  readonly prefix: string;
  /** The specs handed to scripts with every call, built once: the namespace never changes. */
  private readonly specs: { announce?: string; limitSpec?: string; rateSpec?: string } = {};

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

  // resque-scheduler's keys (docs/scheduling.md, Redis keys).
  /** Due timestamps (ZSET): member and score both the integer epoch second of a `delayed:<second>` list. */
  get delayedSchedule(): string {
    return `${this.prefix}delayed_queue_schedule`;
  }
  /** The delayed items due at one epoch second (LIST of `{"class","args","queue"}`). */
  delayedAt(second: number): string {
    return `${this.prefix}delayed:${second}`;
  }
  /** The value a `timestamps:` set holds for one second: the logical name of its list, without the namespace. */
  delayedMember(second: number): string {
    return `delayed:${second}`;
  }
  /** Which seconds hold an item (SET of `delayed:<second>`), the key embedding the item's exact JSON. */
  timestamps(item: string): string {
    return `${this.prefix}timestamps:${item}`;
  }
  /** When each recurring schedule last enqueued (HASH name → Ruby `Time#to_s`). */
  get lastEnqueuedAt(): string {
    return `${this.prefix}delayed:last_enqueued_at`;
  }
  /** Schedules shared through Redis (HASH name → JSON config without `persist`). */
  get persistentSchedules(): string {
    return `${this.prefix}persistent_schedules`;
  }
  /** Names of schedules changed since the master last looked (SET). */
  get schedulesChanged(): string {
    return `${this.prefix}schedules_changed`;
  }
  /**
   * The scheduler master lock (STRING `host:pid`, with a TTL). resque-scheduler builds
   * `<ns>:[<prefix>:]resque_scheduler_master_lock` and sends it through its namespaced client, which prefixes it
   * again: the key in Redis is `<ns>:<ns>:[<prefix>:]resque_scheduler_master_lock`.
   */
  schedulerMasterLock(lockPrefix = ''): string {
    return `${this.prefix}${this.prefix}${lockPrefix ? `${lockPrefix}:` : ''}resque_scheduler_master_lock`;
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
  /** Taken (`SET NX PX reaperIntervalMs`) by the one worker of a host that checks the host's processes this period. */
  hostCheckTurn(hostname: string): string {
    return `${this.prefix}ts:host-check:${hostname}`;
  }
  /**
   * Taken (`SET NX PX`) by the one worker that runs the pass of Ruby's heartbeat rule this period, so the fleet runs
   * one such pass per period, not one per worker.
   */
  get rubyPruneTurn(): string {
    return `${this.prefix}ts:ruby-prune-turn`;
  }
  /**
   * resque-ts's delayed jobs by due time (ZSET): member = `<filing sequence, 15 digits>-<job id>`, score = due time in
   * epoch ms. Ruby's `delayed_queue_schedule` only knows whole seconds; this index lets promotion run a job at its
   * millisecond. Jobs due at the same millisecond sort in filing order, which is their order in `delayed:<second>`,
   * so promotion finds each at the head of its list.
   */
  get delayedDue(): string {
    return `${this.prefix}ts:delayed:due`;
  }
  /** The filing sequence of resque-ts's delayed jobs (STRING counter, `INCR`). */
  get delayedSequence(): string {
    return `${this.prefix}ts:delayed:seq`;
  }
  /**
   * What resque-ts keeps about each of its delayed jobs and Ruby ignores (HASH index member → JSON record, see
   * scheduler/delayed-record.ts): its second, its Ruby item, and the payload to push when it comes due.
   */
  get delayedRecords(): string {
    return `${this.prefix}ts:delayed:records`;
  }
  /**
   * resque-ts's copies of one item at one second (HASH `<second>:<sha1 of item>` → their `ts:delayed:due` members,
   * space-separated, in filing order): promotion of a whole second reads items from the head of its list and finds
   * their records here; the item's `timestamps:` entry goes when the last of them leaves.
   */
  get delayedByItem(): string {
    return `${this.prefix}ts:delayed:by-item`;
  }
  /** Delayed items that cannot be enqueued (not JSON, no class, no queue), set aside with the reason (LIST). */
  get delayedUnpromotable(): string {
    return `${this.prefix}ts:delayed:unpromotable`;
  }
  /**
   * One recurring tick's claim (STRING, `SET NX PX`), `claim` = `<schedule name>:<tick epoch ms>`: the scheduler that
   * takes it enqueues that tick, so two schedulers, a leader change or a restart never enqueue the same tick twice.
   */
  scheduleTick(claim: string): string {
    return `${this.prefix}ts:schedule:tick:${claim}`;
  }
  /** The last tick each recurring schedule fired (HASH name → epoch ms), for missed-run catch-up. */
  get scheduleLastTick(): string {
    return `${this.prefix}ts:schedule:last-tick`;
  }
  /** Options resque-ts adds to persistent schedules (HASH name → JSON, e.g. the missed-run policy); Ruby ignores it. */
  get scheduleOptions(): string {
    return `${this.prefix}ts:schedule:options`;
  }
  /**
   * Persistent schedules switched off from the dashboard or CLI (HASH name → the config taken out of
   * `persistent_schedules`), so that no master, Ruby's or ours, fires them until they are switched on again.
   */
  get schedulesDisabled(): string {
    return `${this.prefix}ts:schedule:disabled`;
  }
  /**
   * Jobs waiting to be retried (ZSET): member = `<token>\n<queue>\n<item>` (the in-flight format: the token of the
   * reservation whose attempt failed keeps identical jobs apart), score = when the next attempt is due (epoch ms).
   * Promoters move due members to their queue. Not in `delayed:*`, whose items Ruby's master rewrites to
   * `{"class","args"}`: a retry carries its attempt and errors.
   */
  get retrySet(): string {
    return `${this.prefix}ts:retry`;
  }
  /** Which process wakes at every due time to promote delayed jobs and retries (STRING = its id, with a TTL). */
  get promoterLease(): string {
    return `${this.prefix}ts:delayed:promoter`;
  }
  /** Pub/Sub channel on which delayed enqueues and retries announce their earliest due ms, so promoters wake in time. */
  get delayedWakeChannel(): string {
    return `${this.prefix}ts:delayed:wake`;
  }
  /**
   * A tracked job's status record (HASH, docs/status.md): `state`, `class`, `queue`, `enqueued_at`, `updated_at`,
   * `worker`, `started_at`, `attempt`, `returns`, `progress` (JSON), `result` (JSON), `error` (JSON `{"class",
   * "message"}`), `next_at`, `cancelled_at`; times in epoch ms. Expires its TTL (default a day) after its last change.
   */
  jobStatus(id: string): string {
    return `${this.prefix}ts:status:${id}`;
  }
  /** Pub/Sub channel of one tracked job: each change of its status record, as JSON `{"state",…}`. */
  jobEvents(id: string): string {
    return `${this.prefix}ts:job-events:${id}`;
  }
  /** The prefix every `queue:<name>` key shares: scripts that find queues in the index below append the name. */
  get queuePrefix(): string {
    return this.queue('');
  }
  /**
   * The queues that hold jobs (ZSET, all scores 0, so members sort bytewise as Ruby sorts queue names): kept by the
   * scripts that push and pop, so a worker on a glob finds its first non-empty queue without walking empty ones.
   */
  get nonEmptyQueues(): string {
    return `${this.prefix}ts:queues:non-empty`;
  }
  /**
   * A worker's queue list as reserve.lua reads it (LIST, queue-patterns.ts `storedList`), by the sha1 digest of its
   * contents: stored by the script the first time a worker names it and again whenever it has gone (expiry, a Redis
   * restart, FLUSHALL), so reservation calls carry the digest instead of the list.
   */
  queueList(digest: string): string {
    return `${this.prefix}ts:queue-list:${digest}`;
  }
  /**
   * A key that is never written: in one-slot cluster mode every script call declares it too (OneSlotCluster), so
   * while the namespace's slot is being moved Redis refuses the call (TRYAGAIN, ASK) before it runs, instead of letting
   * it start and stop at a key already moved ("non local key"). Scripts that count their keys leave it out
   * (declared_keys.lua).
   */
  get slotGuard(): string {
    return `${this.prefix}ts:slot-guard`;
  }
  /** A queue's wake list: at most one token, which Redis hands to one worker blocked on it. */
  queueWake(queue: string): string {
    return `${this.prefix}ts:wake:${queue}`;
  }
  /** The wake list shared by the workers listening with one glob pattern (`*`, `mail_*`…). */
  globWake(glob: string): string {
    return `${this.prefix}ts:wake-glob:${glob}`;
  }
  /** The glob patterns idle workers listen with (HASH glob → match rule, queue-patterns.ts), read by every push. */
  get wakeGlobs(): string {
    return `${this.prefix}ts:wake-globs`;
  }
  /**
   * When each glob listener was last registered (ZSET list → Redis time, epoch ms): workers register theirs every
   * minute; listeners nobody has registered for 10 minutes are dropped with their wake lists (upkeep.ts).
   */
  get wakeGlobsSeen(): string {
    return `${this.prefix}ts:wake-globs-seen`;
  }
  /** Queues no resque-ts worker takes jobs from until resumed (HASH queue name → when it was paused, epoch ms). */
  get pausedQueues(): string {
    return `${this.prefix}ts:paused-queues`;
  }
  /**
   * Concurrency limits (HASH, docs/flow-control.md): `class:<Class>` → N (at most N jobs of that class at once),
   * `key:<Class>` → N (at most N per concurrency key of that class), `queue:<name>` → N. Class limits are written by
   * workers at start-up from their job definitions, queue limits by `limitQueue`; read by `reserve.lua`.
   */
  get limits(): string {
    return `${this.prefix}ts:limits`;
  }
  /**
   * The slots holding one limit's tokens (SET of slot ids): `limit` is `class:<Class>`, `queue:<name>` or
   * `key:<Class> <key>`. A slot enters it in the step that reserves the job and leaves it in the step that ends the
   * reservation (see `limitHolds`).
   */
  limitHolders(limit: string): string {
    return `${this.prefix}ts:limit:${limit}`;
  }
  /**
   * Which limits each slot's reservation counts against (HASH slot id → limit names, one per line): the scripts that
   * end a reservation read it, once they have checked the slot's in-flight key still holds that reservation, to free
   * exactly those tokens. A slot refilled with a job of the same limits keeps its entry as it is.
   */
  get limitHolds(): string {
    return `${this.prefix}ts:limit-holds`;
  }
  /**
   * Jobs set aside because a limit was full when they reached the head of their queue (LIST of `queue + "\n" +
   * item`, oldest first): one goes back to the head of its queue each time a token of that limit is freed.
   */
  parked(limit: string): string {
    return `${this.prefix}ts:parked:${limit}`;
  }
  /** The limits that have parked jobs (SET of limit names), for the sweep that returns jobs a limit no longer holds. */
  get parkedLimits(): string {
    return `${this.prefix}ts:parked-limits`;
  }
  /**
   * What a script that reserves or ends a reservation needs for limits (redis/lua/limits.lua), one per line: the
   * limit definitions, the holds, the holder-set prefix, the parked-list prefix, the queue-key prefix, `queues`, the
   * in-flight key prefix (a slot's id is its in-flight key less that prefix), the parked index, the unique-lock
   * prefix and the dropped-duplicates count (redis/lua/unique.lua: the same scripts take and release unique jobs'
   * locks). Passed as one ARGV.
   */
  get limitSpec(): string {
    this.specs.limitSpec ??= [
      this.limits,
      this.limitHolds,
      this.limitHolders(''),
      this.parked(''),
      this.queuePrefix,
      this.queues,
      this.inflight(''),
      this.parkedLimits,
      this.uniqueLock(''),
      this.uniqueDropped,
    ].join('\n');
    return this.specs.limitSpec;
  }
  /**
   * A unique job's lock (STRING = the id of the job holding it, with a TTL; docs/unique-jobs.md), `key` =
   * `<Class>:<unique key>`. Taken by the enqueue (or, for `while-running`, the reservation) in the script that pushes
   * (reserves) the job; deleted only by the job whose id it holds, in the script that ends it.
   */
  uniqueLock(key: string): string {
    return `${this.prefix}ts:unique:${key}`;
  }
  /** How many `while-running` jobs were dropped at reservation as duplicates of a running one (HASH class → count). */
  get uniqueDropped(): string {
    return `${this.prefix}ts:unique-dropped`;
  }
  /**
   * Rate limits (HASH, docs/flow-control.md): `class:<Class>`, `key:<Class>` (per rate key), `queue:<name>` →
   * `"<N> <windowMs>"`: at most N starts in any window of that many ms. Class limits are written by workers at
   * start-up from their job definitions, queue limits by `limitQueueRate`; read by `reserve.lua`.
   */
  get rateLimits(): string {
    return `${this.prefix}ts:rate-limits`;
  }
  /**
   * One rate limit's recent starts (ZSET, expiring once its newest entry leaves the window): member = the token of
   * the reservation that started, score = when (epoch ms, Redis clock); member `blocked` = until when a job said the
   * limit is used up (`RateLimited`). `limit` is `class:<Class>`, `queue:<name>` or `key:<Class> <key>`.
   */
  rateLog(limit: string): string {
    return `${this.prefix}ts:rate:${limit}`;
  }
  /** Jobs set aside because their rate limit was used up (LIST, as `parked`): the limits are named as in `rateLog`. */
  rateParked(limit: string): string {
    return this.parked(`rate:${limit}`);
  }
  /**
   * The rate limits that have parked jobs (ZSET): member = limit, score = when it may next have room (epoch ms,
   * Redis clock). Promoters let parked jobs back from that time on.
   */
  get rateParkedDue(): string {
    return `${this.prefix}ts:rate-parked`;
  }
  /**
   * What a script that checks or records rate limits needs (src/limits/rate.lua), one per line: the definitions, the
   * log-key prefix, the due index, the parked-list prefix and the channel promoters listen on for due times. Passed as
   * one ARGV.
   */
  get rateSpec(): string {
    this.specs.rateSpec ??= [
      this.rateLimits,
      this.rateLog(''),
      this.rateParkedDue,
      this.rateParked(''),
      this.delayedWakeChannel,
    ].join('\n');
    return this.specs.rateSpec;
  }
  /**
   * Queues whose tenants share them fairly (HASH queue name → when it was made fair, epoch ms): an enqueue of a job
   * with a tenant onto one of them goes to the tenant's list instead of `queue:<name>` (docs/flow-control.md).
   */
  get fairQueues(): string {
    return `${this.prefix}ts:fair-queues`;
  }
  /**
   * A fair queue's rotation (LIST of tenant names): the tenants whose lists hold jobs, each once, in the order they
   * are next served. Holds a tenant exactly while its list is not empty.
   */
  fairRotation(queue: string): string {
    return `${this.prefix}ts:fair-rotation:${queue}`;
  }
  /** The prefix every rotation key shares: scripts append the queue name. */
  get fairRotationPrefix(): string {
    return this.fairRotation('');
  }
  /**
   * One tenant's jobs on a fair queue (LIST of items, oldest first), `ts:fair:<queue>:<tenant>`. Queue names hold no
   * ":", so the queue part ends at the first one.
   */
  fairTenant(queue: string, tenant: string): string {
    return `${this.fairTenantPrefix}${queue}:${tenant}`;
  }
  /**
   * A fair queue's tenant weights (HASH tenant → N, a whole number of 2 or more): such a tenant is served N jobs in a
   * row per turn of the rotation; a tenant without an entry, one.
   */
  fairWeights(queue: string): string {
    return `${this.prefix}ts:fair-weights:${queue}`;
  }
  /**
   * How many jobs the tenant at the front of a fair queue's rotation has been served in its current turn (STRING
   * counter), kept only while that tenant has a weight.
   */
  fairTurn(queue: string): string {
    return `${this.prefix}ts:fair-turn:${queue}`;
  }
  /** The prefix every tenant list shares: scripts append `<queue>:<tenant>`. */
  get fairTenantPrefix(): string {
    return `${this.prefix}ts:fair:`;
  }
  /**
   * Tombstones of cancelled jobs that may still wait on a queue (ZSET): member = job id, score = when it was cancelled
   * (epoch ms). reserve.lua drops a popped job whose id is here instead of running it, and removes the tombstone;
   * tombstones older than a week (ids that never came up) are trimmed by the same script.
   */
  get cancelledQueued(): string {
    return `${this.prefix}ts:cancelled-queued`;
  }
  /**
   * Cancel requests for running jobs (ZSET): member = `<slot id>\n<job id>`, score = when asked (epoch ms). The worker
   * holding the job learns of it from `cancelChannel` at once, or from this set at its next liveness beat if it missed
   * the message, and removes the entry once the job has ended (or, seen twice by its beat, when its slot no longer
   * runs that job). Entries older than a week are trimmed.
   */
  get cancelRunning(): string {
    return `${this.prefix}ts:cancel-running`;
  }
  /** Pub/Sub channel every worker process listens on for cancel requests of running jobs (message = job id). */
  get cancelChannel(): string {
    return `${this.prefix}ts:cancel`;
  }
  /** Jobs cancelled (STRING counter): dropped at reservation or stopped while running. Not in `stat:processed`. */
  get cancelledCount(): string {
    return `${this.prefix}ts:stat:cancelled`;
  }
  /** Whose turn it is to add queues filled by other clients (Ruby, plain RPUSH) to the non-empty index. */
  get queueIndexTurn(): string {
    return `${this.prefix}ts:queues:index-turn`;
  }
  /**
   * What a script that puts jobs on a queue needs to announce them (redis/lua/announce.lua): the non-empty index, the
   * glob registry, the two wake-list prefixes, the paused queues, the prefixes of fair queues' keys (rotation,
   * tenant list, weights, turn) and the fair queues, one per line. Passed as one ARGV value.
   */
  get announce(): string {
    this.specs.announce ??= [
      this.nonEmptyQueues,
      this.wakeGlobs,
      this.queueWake(''),
      this.globWake(''),
      this.pausedQueues,
      this.fairRotationPrefix,
      this.fairTenantPrefix,
      this.fairWeights(''),
      this.fairTurn(''),
      this.fairQueues,
    ].join('\n');
    return this.specs.announce;
  }
}
