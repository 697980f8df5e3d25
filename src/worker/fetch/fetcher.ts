// The fetch side of a worker (the seam Sidekiq calls fetch): reserve.lua takes jobs into the worker's slots and
// acknowledges finished ones in the same round trip; each job comes out as a Reservation owned by this fetcher,
// which settles it in Redis when the processor says how it ended.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { CANCEL_SCRIPTS } from '../../cancel/scripts.js';
import type { ResolvedConfig } from '../../config/resolve.js';
import { queueFailureWrite } from '../../failure/save.js';
import { SlotCounters } from '../../fleet/slot-counters.js';
import type { Logger } from '../../logging/logger.js';
import type { Keys } from '../../protocol/keys.js';
import { decodePayload } from '../../protocol/payload.js';
import { isoUtc } from '../../protocol/time.js';
import { RedisClock } from '../../redis/clock.js';
import { retryForever } from '../../redis/retry.js';
import { type LuaScript, runScript, SCRIPTS } from '../../redis/scripts.js';
import { trackedTtl } from '../../status/options.js';
import { queueStatusChange } from '../../status/write.js';
import { isFailure, type Outcome } from '../outcome.js';
import type { QueuePatterns } from '../queue-patterns.js';
import { giveBackHeld, type HeldContext, retryHeld } from './held.js';
import { parseInflight, TOKEN_LENGTH } from './inflight.js';
import { rateLimitHeld } from './rate-limited.js';
import { Reservation, type ReservationOwner } from './reservation.js';
import { reserveScript, type SlotTemplate, slotReference, slotTemplate } from './reserve-script.js';

/** reserve.lua's answer when the queue list it was pointed to is not in Redis: nothing was done. */
const LIST_MISSING = -1;

/** A reservation call, prepared: what it sends, and what its answer is read against. */
export interface ReserveCall {
  readonly script: LuaScript;
  readonly keys: string[];
  /** Its arguments without the queue list (runReserve appends it when needed). */
  readonly args: Array<string | Buffer>;
  /** What another connection sends: the arguments, and the queue list while Redis may not hold it. */
  readonly sent: ReadonlyArray<string | Buffer>;
  readonly slots: readonly string[];
  readonly acks: Map<string, PendingAck>;
}

export interface FetchReply {
  /** `pause-all-workers` is set: nothing was reserved. */
  paused: boolean;
  reservations: Reservation[];
}

interface PendingAck {
  token: string;
  failed: boolean;
  /** For the warning if it is refused. */
  className: string;
  queue: string;
}

export class Fetcher implements ReservationOwner {
  private readonly tokenPrefix = randomBytes(4).toString('hex');
  private tokenCounter = 0;
  /** Whether a reservation call has stored the queue list in Redis (`ts:queue-list:<digest>`). */
  private listStored = false;
  /** What each slot is named by in a reservation call (slotReference). */
  private readonly slotReferences = new Map<string, string>();
  private readonly slotTemplate: SlotTemplate;
  /** reserve.lua with this namespace's keys in its text. */
  private readonly reserveScript: LuaScript;
  /** Finished jobs to acknowledge in the next reserve call, by slot. */
  private acks = new Map<string, PendingAck>();
  /** Redis's clock for retry due times, read through an offset (one TIME every few seconds, not per retry). */
  private readonly redisClock: RedisClock;
  private readonly held: HeldContext;
  /**
   * Finished jobs whose acknowledgement Redis refused: their slot no longer held them, because a peer's reaper took
   * this worker for dead (stalled past the liveness timeout) and gave them back. They may run a second time.
   */
  refusedAcks = 0;
  /** `while-running` unique jobs dropped at reservation because a job with the same key was running. */
  droppedDuplicates = 0;
  /** Acknowledgements that applied, per slot, for Ruby's per-worker counters (written with the liveness beat). */
  readonly slotCounters = new SlotCounters();

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly queueList: QueuePatterns,
    config: Pick<ResolvedConfig, 'failureBackend' | 'release'>,
    private readonly logger: Logger,
    /** Called when an acknowledgement waits to be sent. */
    private readonly onAck: () => void,
    /**
     * The clock retries are scheduled and rate limits decided by (epoch ms). Default: Redis `TIME`, the promoters'
     * clock, which the reservation script reads itself (no extra round trip).
     */
    private readonly clock?: () => Promise<number>,
    /** The worker's slot ids, so a call names each slot by the part that differs (reserve-script.ts). */
    slotIds: readonly string[] = [],
  ) {
    this.held = { redis, keys, config };
    this.slotTemplate = slotTemplate(slotIds);
    this.reserveScript = reserveScript(keys);
    this.redisClock = new RedisClock(redis);
  }

  /** The time to decide by, for a script that reads the Redis clock itself when given ''. */
  private async scriptNow(): Promise<string> {
    return this.clock ? String(await this.clock()) : '';
  }

  private async now(): Promise<number> {
    return this.clock ? this.clock() : this.redisClock.now();
  }

  get hasAcks(): boolean {
    return this.acks.size > 0;
  }

  isAcked(slot: string): boolean {
    return this.acks.has(slot);
  }

  /** The slots whose finished job the next call acknowledges. */
  ackedSlots(): IterableIterator<string> {
    return this.acks.keys();
  }

  /**
   * Acknowledges what is finished and fills `freeSlots` from the worker's queue list (priority order), in one round
   * trip. `woken` names the queues of the wake-ups that led here: announced again if they still hold jobs.
   */
  async reserve(freeSlots: readonly string[], woken: readonly string[] = []): Promise<FetchReply> {
    const call = await this.prepare(freeSlots, woken);
    let reply: Array<number | string>;
    try {
      reply = await this.runReserve(call.keys, call.args);
    } catch (error) {
      this.abandon(call);
      throw error;
    }
    return this.read(call, reply);
  }

  /**
   * The reservation call `reserve` would send, for another connection to send it (the waker, behind its wait): its
   * acknowledgements are taken from those waiting. Its answer goes to `complete`, or the call to `abandon` if it
   * never ran.
   */
  async prepare(freeSlots: readonly string[], woken: readonly string[] = []): Promise<ReserveCall> {
    const acks = this.acks;
    this.acks = new Map();
    const slots = [...acks.keys()];
    for (const slot of freeSlots) if (!acks.has(slot)) slots.push(slot);
    const refilled = new Set(freeSlots);
    const list = this.queueList.storedList;
    const keys = [this.keys.queueList(list.digest)];
    const args: Array<string | Buffer> = [
      isoUtc(new Date()),
      String(slots.length),
      woken.join('\n'),
      await this.scriptNow(),
      this.slotTemplate.head,
      this.slotTemplate.tail,
    ];
    for (const slot of slots) {
      const ack = acks.get(slot);
      args.push(
        this.referenceOf(slot),
        ack?.token ?? '',
        ack?.failed ? '1' : '0',
        refilled.has(slot) ? this.nextToken() : '',
      );
    }
    const turn = this.queueList.nextTurn();
    args.push(turn === undefined ? '' : String(turn + 1));
    // Sent by another connection, the call carries the list while Redis may not hold it yet.
    const sent = this.listStored ? args : [...args, ...list.values];
    return { keys, args, sent, slots, acks, script: this.reserveScript };
  }

  /**
   * The answer to a prepared call another connection sent: a call that did not run (the script was not cached, or
   * Redis no longer held the queue list) is sent again here, which is safe, as it did nothing.
   */
  async complete(call: ReserveCall, answer: { reply: unknown } | { error: Error }): Promise<FetchReply> {
    let reply: Array<number | string>;
    try {
      if ('error' in answer) {
        if (!answer.error.message.startsWith('NOSCRIPT')) throw answer.error;
        reply = await this.runReserve(call.keys, call.args);
      } else {
        reply = answer.reply as Array<number | string>;
        if (reply[0] === LIST_MISSING) {
          this.listStored = false;
          reply = await this.runReserve(call.keys, call.args);
        } else this.listStored = true;
      }
    } catch (error) {
      this.abandon(call);
      throw error;
    }
    return this.read(call, reply);
  }

  /** A call that failed: its acknowledgements wait for the next one. */
  abandon(call: ReserveCall): void {
    for (const [slot, ack] of call.acks) if (!this.acks.has(slot)) this.acks.set(slot, ack);
  }

  private read(call: ReserveCall, reply: Array<number | string>): FetchReply {
    const { slots, acks } = call;
    const unmatched = Number(reply[1]);
    for (let u = 0; u < unmatched; u++) {
      const slot = slots[Number(reply[2 + u]) - 1];
      const ack = slot === undefined ? undefined : acks.get(slot);
      if (slot === undefined || !ack) continue;
      acks.delete(slot);
      void this.checkRefused(slot, ack);
    }
    for (const [slot, ack] of acks) this.slotCounters.add(slot, ack.failed);
    const reservations: Reservation[] = [];
    for (let i = 2 + unmatched; i + 1 < reply.length; i += 2) {
      if (Number(reply[i]) === 0) {
        this.droppedDuplicate(String(reply[i + 1]));
        continue;
      }
      const slotId = slots[Number(reply[i]) - 1];
      const held = parseInflight(String(reply[i + 1]));
      if (slotId !== undefined && held)
        reservations.push(
          new Reservation({ slotId, token: held.token, queue: held.queue, raw: held.raw }, this),
        );
    }
    return { paused: reply[0] === 1, reservations };
  }

  /**
   * The reservation call, with the queue list appended when Redis may not hold it: the first call, and again when
   * the script answers that it is gone (it expired, Redis restarted without it, FLUSHALL), having done nothing.
   */
  private async runReserve(
    keys: readonly string[],
    args: readonly (string | Buffer)[],
  ): Promise<Array<number | string>> {
    if (this.listStored) {
      const reply = await runScript<Array<number | string>>(this.redis, this.reserveScript, keys, args);
      if (reply[0] !== LIST_MISSING) return reply;
      this.listStored = false;
    }
    const list = this.queueList.storedList.values;
    const reply = await runScript<Array<number | string>>(this.redis, this.reserveScript, keys, [
      ...args,
      ...list,
    ]);
    this.listStored = true;
    return reply;
  }

  async settle(reservation: Reservation, outcome: Outcome): Promise<void> {
    if (outcome.kind === 'cancelled') {
      await this.finishCancelled(reservation);
      return;
    }
    if (reservation.cancelRequested) void this.forgetCancel(reservation);
    if (outcome.kind === 'given-back' && outcome.rateLimitedMs !== undefined) {
      await this.parkRateLimited(reservation, outcome.rateLimitedMs);
      return;
    }
    if (outcome.kind === 'given-back') {
      await this.giveBack(reservation, { countReturn: outcome.countReturn });
      return;
    }
    if (outcome.kind === 'retrying') {
      await this.fileRetry(reservation, outcome);
      return;
    }
    if (isFailure(outcome)) {
      const failure = reservation.failureRecord(outcome.failure);
      await retryForever(
        () => queueFailureWrite(this.redis.pipeline(), this.held, failure).exec(),
        this.logger,
      );
    }
    this.acks.set(reservation.slotId, {
      token: reservation.token,
      failed: isFailure(outcome),
      className: reservation.className,
      queue: reservation.queue,
    });
    this.onAck();
  }

  /**
   * A failed attempt's next one is filed at once (not with the next reserve call), in the step that frees the slot. A
   * job `resque.cancel` reached after its attempt failed (too late for its signal) ends as cancelled instead.
   */
  private async fileRetry(
    reservation: Reservation,
    outcome: Extract<Outcome, { kind: 'retrying' }>,
  ): Promise<void> {
    let done = 'gone' as 'filed' | 'gone' | 'cancelled';
    await retryForever(async () => {
      done = await retryHeld(
        this.held,
        reservation,
        outcome.failure,
        outcome.delayMs,
        await this.now(),
        outcome.attempts,
      );
    }, this.logger);
    if (done === 'filed') this.slotCounters.add(reservation.slotId, true);
    else if (done === 'cancelled') {
      this.logger.info(
        `Cancelled ${reservation.className} ${reservation.jobId} in slot ${reservation.slotId} instead of retrying it: its cancel came as its attempt failed`,
      );
      await this.finishCancelled(reservation);
    } else
      this.logger.warn(
        `${reservation.className} on ${reservation.queue} failed in slot ${reservation.slotId}, which no longer held it when its retry was filed (a reaper gave it back, or a resent call had filed it)`,
      );
  }

  /**
   * An acknowledgement that did not apply: a resent call (already applied), or a job a peer's reaper gave back while
   * this worker seemed dead, which the reaper marked with its token (`ts:given-back:<slot>`). Only the latter is said.
   */
  private async checkRefused(slotId: string, ack: PendingAck): Promise<void> {
    try {
      if ((await this.redis.getdel(this.keys.givenBack(slotId))) !== ack.token) return;
    } catch (error) {
      this.logger.debug(`Checking an unapplied acknowledgement failed: ${(error as Error).message}`);
      return;
    }
    this.refusedAcks++;
    this.logger.warn(
      `${ack.className} on ${ack.queue} finished in slot ${slotId} after its reservation had been given back ` +
        '(this worker was taken for dead: it stalled past the liveness timeout); it may run again elsewhere',
    );
  }

  /**
   * A `while-running` unique job reserve.lua dropped because a job with its key runs now (`queue \n item`): counted
   * and logged, as nothing else will see it.
   */
  private droppedDuplicate(entry: string): void {
    this.droppedDuplicates++;
    const cut = entry.indexOf('\n');
    const queue = entry.slice(0, cut);
    const job = describeItem(entry.slice(cut + 1));
    this.logger.info(
      `Dropped ${job.className} (id ${job.id ?? 'none'}) from ${queue}: a job with its unique key is running (unique: while-running)`,
    );
    // A tracked one ends as cancelled, so its record (and whoever waits for it) does not say queued until it expires.
    if (job.id !== undefined && job.statusTtlMs !== undefined) {
      const at = Date.now();
      const change = { state: 'cancelled' as const, at, cancelledAt: at, clear: ['next_at' as const] };
      queueStatusChange(this.redis.pipeline(), this.keys, job.id, job.statusTtlMs, change)
        .exec()
        .catch((error: Error) =>
          this.logger.warn(
            `Could not mark dropped job ${job.id} cancelled in its status record: ${error.message}`,
          ),
        );
    }
  }

  /** How the reserve call names a slot, worked out once. */
  private referenceOf(slot: string): string {
    let reference = this.slotReferences.get(slot);
    if (reference === undefined) {
      reference = slotReference(this.slotTemplate, slot);
      this.slotReferences.set(slot, reference);
    }
    return reference;
  }

  async giveBack(reservation: Reservation, options: { countReturn: boolean }): Promise<boolean> {
    let done = false;
    await retryForever(async () => {
      done = await giveBackHeld(this.held, reservation, options.countReturn);
    }, this.logger);
    return done;
  }

  /** A job that said its rate limit is used up (`RateLimited`): parked, and its limit held shut, for `ms`. */
  private async parkRateLimited(reservation: Reservation, ms: number): Promise<void> {
    let done = false;
    await retryForever(async () => {
      done = await rateLimitHeld(this.held, reservation, ms, await this.scriptNow());
    }, this.logger);
    if (!done)
      this.logger.warn(
        `${reservation.className} on ${reservation.queue} was rate limited in slot ${reservation.slotId}, which no longer held it (a reaper gave it back)`,
      );
  }

  /** A cancelled job leaves its slot at once (finish_cancelled.lua): counted as cancelled, not processed. */
  private async finishCancelled(reservation: Reservation): Promise<void> {
    const { keys } = this;
    const id = reservation.jobId ?? '';
    let done = false;
    await retryForever(async () => {
      const scriptKeys = [
        keys.inflight(reservation.slotId),
        keys.worker(reservation.slotId),
        keys.cancelRunning,
        keys.cancelledQueued,
        keys.cancelledCount,
        keys.jobStatus(id),
      ];
      const args = [
        reservation.header,
        id,
        await this.scriptNow(),
        keys.jobEvents(id),
        keys.limitSpec,
        keys.announce,
        reservation.slotId,
      ];
      done = (await runScript<number>(this.redis, CANCEL_SCRIPTS.finish, scriptKeys, args)) === 1;
    }, this.logger);
    if (!done)
      this.logger.warn(
        `${reservation.className} on ${reservation.queue} was cancelled in slot ${reservation.slotId}, which no longer held it (a reaper gave it back)`,
      );
  }

  /** A cancelled job that ended anyway (it succeeded first): its request and tombstone are no longer needed. */
  private async forgetCancel(reservation: Reservation): Promise<void> {
    const id = reservation.jobId;
    if (id === undefined) return;
    try {
      await this.redis
        .multi()
        .zrem(this.keys.cancelRunning, `${reservation.slotId}\n${id}`)
        .zrem(this.keys.cancelledQueued, id)
        .exec();
    } catch (error) {
      this.logger.debug(`Clearing the cancel request of ${id} failed: ${(error as Error).message}`);
    }
  }

  /** A token no other reservation of this worker uses. */
  private nextToken(): string {
    this.tokenCounter = (this.tokenCounter + 1) % 0xffffffff;
    return (this.tokenPrefix + this.tokenCounter.toString(16).padStart(8, '0')).slice(0, TOKEN_LENGTH);
  }

  /** Passes on wake-ups this worker cannot use (it is full, paused or stopping): the queues are announced again. */
  async passOn(queues: readonly string[]): Promise<void> {
    if (queues.length === 0) return;
    await runScript(
      this.redis,
      SCRIPTS.announce,
      [this.keys.nonEmptyQueues],
      [this.keys.announce, this.keys.queuePrefix, ...queues],
    );
  }
}

function describeItem(item: string): {
  className: string;
  id: string | undefined;
  statusTtlMs: number | undefined;
} {
  try {
    const payload = decodePayload(item);
    return {
      className: payload.class,
      id: typeof payload.id === 'string' ? payload.id : undefined,
      statusTtlMs: trackedTtl(payload.status),
    };
  } catch {
    return { className: '(malformed payload)', id: undefined, statusTtlMs: undefined };
  }
}
