// Every worker looks for dead peers and gives their jobs back. Two rules, by who wrote the registration:
// - resque-ts's own (`pass`): a slot whose liveness beat (fleet/liveness.ts) is older than `livenessTimeoutMs`, or
//   whose process on this host is gone, is dead. A pass costs a range query on the expired beats, O(dead).
// - Ruby's (`rubyPass`): an id without a liveness beat (a Ruby worker, an older release) is dead when its
//   `workers:heartbeat` entry is older than `deadWorkerAfterMs`. That needs the whole heartbeat hash, so one worker of
//   the fleet runs it per `heartbeatIntervalMs`, holding Ruby's pruning lock for the pass only.
import type { Redis } from 'ioredis';
import type { ResolvedConfig } from '../config/resolve.js';
import { EXCEPTION } from '../errors/exception-names.js';
import { queueFailureWrite } from '../failure/save.js';
import { hostIdentity, processAlive } from '../fleet/host-identity.js';
import {
  type Clock,
  expiredSlots,
  lastBeats,
  type ProcessRecord,
  processesOnHost,
  redisClock,
} from '../fleet/liveness.js';
import { releaseLock } from '../fleet/lock.js';
import { unregisterWorkers } from '../fleet/registration.js';
import { runExhaustedHooks, runFailureHooks } from '../jobs/perform.js';
import type { JobRegistry } from '../jobs/registry.js';
import type { Logger } from '../logging/logger.js';
import type { JsonValue } from '../protocol/json.js';
import type { Keys } from '../protocol/keys.js';
import type { JobPayload } from '../protocol/payload.js';
import { parseResqueTime } from '../protocol/time.js';
import { decodeWorkerStatus } from '../protocol/worker-status.js';
import { pipelineValues, redisTime } from '../redis/replies.js';
import { endChange, trackedTtlOf, writeStatus } from '../status/tracker.js';
import { dropHeld, failHeld, giveBackHeld, type HeldContext } from './fetch/held.js';
import { parseInflight } from './fetch/inflight.js';
import { Reservation } from './fetch/reservation.js';
import type { Outcome } from './outcome.js';

/** The most expired slots one pass takes on (the next pass takes the rest). */
const PASS_LIMIT = 100;

export interface ReaperContext {
  readonly redis: Redis;
  readonly keys: Keys;
  readonly config: Pick<
    ResolvedConfig,
    | 'deadWorkerAfterMs'
    | 'maxReturns'
    | 'failureBackend'
    | 'heartbeatIntervalMs'
    | 'release'
    | 'livenessIntervalMs'
    | 'livenessTimeoutMs'
    | 'reaperIntervalMs'
  >;
  readonly logger: Logger;
  readonly jobs?: JobRegistry;
  /** Tests pass a clock of their own; by default the Redis clock. */
  readonly clock?: Clock;
}

export interface ReapReport {
  /** False when this pass judged no one: its own beat was late, or another worker had the turn or the lock. */
  ran: boolean;
  reaped: string[];
  givenBack: number;
  failed: number;
  /** In-flight keys of slots Ruby had already pruned (it recorded their jobs as failed): deleted. */
  dropped: number;
}

const emptyReport = (): ReapReport => ({ ran: false, reaped: [], givenBack: 0, failed: 0, dropped: 0 });

export class Reaper {
  constructor(
    private readonly ctx: ReaperContext,
    private readonly self: Pick<ProcessRecord, 'workerId' | 'host'>,
  ) {}

  /**
   * resque-ts's rule: expired liveness beats, and workers of this host whose process is gone. The host is scanned by
   * one worker of the host per `reaperIntervalMs` (the scan reads every process record of the host), and by every
   * worker once at start-up, so a restarted worker gives back its predecessor's jobs before it takes any.
   */
  async pass(options: { startingUp?: boolean } = {}): Promise<ReapReport> {
    const { redis, keys, config } = this.ctx;
    const report = emptyReport();
    const query = { timeoutMs: config.livenessTimeoutMs, limit: PASS_LIMIT, selfId: this.self.workerId };
    const { now, ownBeat, slots } = await expiredSlots(redis, keys, query, this.ctx.clock ?? redisClock);
    // A reaper whose own beat is late was cut off too (an outage, a frozen server, a stalled event loop): everyone's
    // beats look old to it, so it judges no one until its own is current.
    if (ownBeat === undefined || now - ownBeat > 2 * config.livenessIntervalMs + 1000) return report;
    report.ran = true;
    const dead = new Map(slots.map((slot) => [slot, `no liveness beat for ${config.livenessTimeoutMs} ms`]));
    for (const gone of await this.goneOnThisHost(options.startingUp ?? false)) {
      for (const slot of gone.slots) dead.set(slot, `its process ${gone.pid} on this host is gone`);
    }
    for (const [slot, why] of dead) await this.reapSlot(slot, why, report);
    return report;
  }

  /** Ruby's heartbeat rule for ids resque-ts's liveness does not judge; one worker per period runs it. */
  async rubyPass(): Promise<ReapReport> {
    const { redis, keys, config } = this.ctx;
    const report = emptyReport();
    const selfId = this.self.workerId;
    const turn = await redis.set(keys.rubyPruneTurn, selfId, 'PX', config.heartbeatIntervalMs, 'NX');
    if (turn !== 'OK') return report;
    const lockSeconds = Math.max(1, Math.round(config.heartbeatIntervalMs / 1000));
    if ((await redis.set(keys.pruningLock, selfId, 'EX', lockSeconds, 'NX')) !== 'OK') return report;
    try {
      const now = (await redisTime(redis)).getTime();
      const beats = await redis.hgetall(keys.heartbeats);
      const own = parseResqueTime(beats[selfId]);
      // As in `pass`: a worker whose own heartbeat is late was cut off and judges no one.
      if (!own || now - own.getTime() > 2 * config.heartbeatIntervalMs + 1000) return report;
      const old = Object.entries(beats)
        .filter(([, value]) => {
          const beat = parseResqueTime(value);
          // Heartbeats are written to the whole second: one can look up to a second older than it is.
          return !beat || now - beat.getTime() > config.deadWorkerAfterMs + 1000;
        })
        .map(([id]) => id);
      const liveness = await lastBeats(redis, keys, old);
      report.ran = true;
      for (const [i, id] of old.entries()) {
        if (liveness[i] !== undefined) continue;
        await this.reapSlot(id, `no heartbeat for ${config.deadWorkerAfterMs} ms`, report);
      }
    } finally {
      // Held for the pass only: a Ruby worker starting now may prune too.
      await releaseLock(redis, keys.pruningLock, selfId);
    }
    return report;
  }

  /** Processes registered from this host, in this pid namespace of this boot, that no longer exist. */
  private async goneOnThisHost(startingUp: boolean): Promise<ProcessRecord[]> {
    const mine = hostIdentity();
    if (!mine) return [];
    const { redis, keys, config } = this.ctx;
    if (!startingUp) {
      const turn = await redis.set(
        keys.hostCheckTurn(this.self.host),
        this.self.workerId,
        'PX',
        config.reaperIntervalMs,
        'NX',
      );
      if (turn !== 'OK') return [];
    }
    const records = await processesOnHost(redis, keys, this.self.host, this.self.workerId);
    return records.filter(
      (record) =>
        record.identity?.bootId === mine.bootId &&
        record.identity.pidNamespace === mine.pidNamespace &&
        !processAlive(record.pid),
    );
  }

  private async reapSlot(id: string, why: string, report: ReapReport): Promise<void> {
    const { redis, keys, logger } = this.ctx;
    const [inflight, status, registered] = pipelineValues(
      await redis.pipeline().get(keys.inflight(id)).get(keys.worker(id)).sismember(keys.workers, id).exec(),
    ) as [string | null, string | null, number];
    const held = parseInflight(inflight);
    if (held && status === null && registered === 0) {
      // Our scripts write and delete `worker:<slot>` with the in-flight key: without it, and unregistered, the slot
      // was pruned by Ruby, which has already recorded its job as failed.
      if (await dropHeld(this.ctx, new Reservation({ slotId: id, ...held }))) report.dropped++;
      logger.warn(
        `Dead worker ${id} (${why}) was pruned by a Ruby worker, which failed its job; in-flight entry dropped`,
      );
    } else if (held) {
      await this.settleOrphan(new Reservation({ slotId: id, ...held }), why, report);
    } else {
      await this.failRubyJob(id, status, why, report);
    }
    await unregisterWorkers(redis, keys, [id]);
    report.reaped.push(id);
  }

  /** A dead resque-ts slot's job: given back, or failed once it has been given back `maxReturns` times. */
  private async settleOrphan(reservation: Reservation, why: string, report: ReapReport) {
    const held: HeldContext = this.ctx;
    const { returns, slotId, queue } = reservation;
    const { maxReturns } = this.ctx.config;
    if (returns >= maxReturns) {
      const error = `Worker ${slotId} died while processing ${reservation.payload?.class ?? '<Unknown Job>'} (${why}); the job was already given back to its queue ${returns} times after its workers died (maxReturns is ${maxReturns}), so it is failed instead`;
      const failure = { exception: EXCEPTION.dirtyExit, error, backtrace: [] };
      if (await failHeld(held, reservation, reservation.failureRecord(failure))) {
        report.failed++;
        await this.recordStatus(reservation, { kind: 'dirty-exit', failure });
        await this.failureHooks(reservation.payload, failure.exception, error);
      }
      this.ctx.logger.warn(`Reaped dead worker ${slotId} (${why}): its ${queue} job is failed`);
    } else if (await giveBackHeld(held, reservation, true, 'reaper')) {
      report.givenBack++;
      await this.recordStatus(reservation, { kind: 'given-back', reason: why, countReturn: true });
      this.ctx.logger.warn(
        `Reaped dead worker ${slotId} (${why}): its ${queue} job is given back to its queue`,
      );
    }
  }

  /** A tracked job's record says what became of it: back on its queue, or failed (docs/status.md). */
  private async recordStatus(reservation: Reservation, outcome: Outcome): Promise<void> {
    const ttl = trackedTtlOf(reservation);
    const id = reservation.jobId;
    if (ttl === undefined || id === undefined) return;
    const { redis, keys, logger } = this.ctx;
    await writeStatus(redis, keys, id, ttl, endChange(reservation, outcome, Date.now()), logger);
  }

  /** A dead Ruby worker's job (its `worker:<id>` status), failed as Ruby's pruner fails it. */
  private async failRubyJob(id: string, status: string | null, why: string, report: ReapReport) {
    const job = decodeWorkerStatus(status);
    if (job) {
      const payload = job.payload as unknown as JobPayload | null;
      const className =
        payload && typeof payload === 'object' && typeof payload.class === 'string'
          ? payload.class
          : '<Unknown Job>';
      const failure = {
        rawPayload: undefined,
        payload: job.payload as JsonValue,
        exception: EXCEPTION.pruneDeadWorker,
        error: `Worker ${id} did not gracefully exit while processing ${className}`,
        backtrace: [],
        worker: id,
        queue: job.queue,
      };
      await queueFailureWrite(this.ctx.redis.pipeline(), this.ctx, failure).exec();
      report.failed++;
      await this.failureHooks(payload ?? undefined, failure.exception, failure.error);
    }
    this.ctx.logger.warn(`Reaped dead worker ${id} (${why})${job ? `; its ${job.queue} job is failed` : ''}`);
  }

  private async failureHooks(payload: JobPayload | undefined, name: string, message: string) {
    const definition = payload && this.ctx.jobs?.resolve(payload.class);
    if (!definition || !payload) return;
    const error = new Error(message);
    error.name = name;
    try {
      await runFailureHooks(definition, error, payload.args);
    } catch (hookError) {
      this.ctx.logger.error(`on_failure hook failed for ${payload.class}: ${String(hookError)}`);
    }
    try {
      await runExhaustedHooks(definition, error, payload.args);
    } catch (hookError) {
      this.ctx.logger.error(`retries_exhausted hook failed for ${payload.class}: ${String(hookError)}`);
    }
  }
}
