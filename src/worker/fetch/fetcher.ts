// The fetch side of a worker (the seam Sidekiq calls fetch): reserve.lua takes jobs into the worker's slots and
// acknowledges finished ones in the same round trip; each job comes out as a Reservation owned by this fetcher,
// which settles it in Redis when the processor says how it ended.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { ResolvedConfig } from '../../config/resolve.js';
import { queueFailureWrite } from '../../failure/save.js';
import type { Logger } from '../../logging/logger.js';
import type { Keys } from '../../protocol/keys.js';
import { isoUtc } from '../../protocol/time.js';
import { retryForever } from '../../redis/retry.js';
import { defineScript, runScript } from '../../redis/scripts.js';
import { isFailure, type Outcome } from '../outcome.js';
import { giveBackHeld, type HeldContext } from './held.js';
import { parseInflight, TOKEN_LENGTH } from './inflight.js';
import { Reservation, type ReservationOwner } from './reservation.js';

const RESERVE = defineScript(new URL('./reserve.lua', import.meta.url));

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
  private readonly queueJson = new Map<string, string>();
  /** Finished jobs to acknowledge in the next reserve call, by slot. */
  private readonly acks = new Map<string, PendingAck>();
  private readonly held: HeldContext;
  /**
   * Finished jobs whose acknowledgement Redis refused: their slot no longer held them, because a peer's reaper took
   * this worker for dead (stalled past the liveness timeout) and gave them back. They may run a second time.
   */
  refusedAcks = 0;

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly config: Pick<ResolvedConfig, 'failureBackend' | 'release' | 'onTermTimeout'>,
    private readonly logger: Logger,
    /** Called when an acknowledgement waits to be sent. */
    private readonly onAck: () => void,
  ) {
    this.held = { redis, keys, config };
  }

  get hasAcks(): boolean {
    return this.acks.size > 0;
  }

  /** Acknowledges what is finished and fills `freeSlots` from `queues` (priority order), in one round trip. */
  async reserve(freeSlots: readonly string[], queues: readonly string[]): Promise<FetchReply> {
    const refill = new Set(queues.length > 0 ? freeSlots : []);
    const acks = new Map(this.acks);
    this.acks.clear();
    const slots = [...new Set([...acks.keys(), ...refill])];
    const keys = [this.keys.pauseAll, this.keys.processed, this.keys.failedCount];
    const args: string[] = [isoUtc(new Date()), String(slots.length)];
    for (const slot of slots) {
      keys.push(
        this.keys.inflight(slot),
        this.keys.worker(slot),
        this.keys.processedBy(slot),
        this.keys.failedBy(slot),
        this.keys.givenBack(slot),
      );
      const ack = acks.get(slot);
      args.push(ack?.token ?? '', ack?.failed ? '1' : '0', refill.has(slot) ? this.nextToken() : '');
    }
    for (const queue of queues) {
      keys.push(this.keys.queue(queue));
      args.push(queue, this.jsonName(queue));
    }
    let reply: Array<number | string>;
    try {
      reply = await runScript<Array<number | string>>(this.redis, RESERVE, keys, args);
    } catch (error) {
      for (const [slot, ack] of acks) if (!this.acks.has(slot)) this.acks.set(slot, ack);
      throw error;
    }
    const refusedCount = Number(reply[1]);
    for (let r = 0; r < refusedCount; r++) this.refused(slots[Number(reply[2 + r]) - 1], acks);
    const reservations: Reservation[] = [];
    for (let i = 2 + refusedCount; i + 1 < reply.length; i += 2) {
      const slotId = slots[Number(reply[i]) - 1];
      const held = parseInflight(String(reply[i + 1]));
      if (slotId !== undefined && held) reservations.push(new Reservation({ slotId, ...held }, this));
    }
    return { paused: reply[0] === 1, reservations };
  }

  async settle(reservation: Reservation, outcome: Outcome): Promise<void> {
    if (outcome.kind === 'given-back') {
      await this.giveBack(reservation, { countReturn: outcome.countReturn });
      return;
    }
    if (outcome.kind === 'interrupted' && this.config.onTermTimeout === 'requeue') {
      await this.giveBack(reservation, { countReturn: false });
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

  private refused(slotId: string | undefined, acks: Map<string, PendingAck>): void {
    const ack = slotId === undefined ? undefined : acks.get(slotId);
    if (!ack) return;
    this.refusedAcks++;
    this.logger.warn(
      `${ack.className} on ${ack.queue} finished in slot ${slotId} after its reservation had been given back ` +
        '(this worker was taken for dead: it stalled past the liveness timeout); it may run again elsewhere',
    );
  }

  async giveBack(reservation: Reservation, options: { countReturn: boolean }): Promise<boolean> {
    let done = false;
    await retryForever(async () => {
      done = await giveBackHeld(this.held, reservation, options.countReturn);
    }, this.logger);
    return done;
  }

  /** A token no other reservation of this worker uses. */
  private nextToken(): string {
    this.tokenCounter = (this.tokenCounter + 1) % 0xffffffff;
    return (this.tokenPrefix + this.tokenCounter.toString(16).padStart(8, '0')).slice(0, TOKEN_LENGTH);
  }

  private jsonName(queue: string): string {
    let json = this.queueJson.get(queue);
    if (json === undefined) {
      json = JSON.stringify(queue);
      this.queueJson.set(queue, json);
    }
    return json;
  }
}
