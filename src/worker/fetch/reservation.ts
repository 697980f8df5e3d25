import type { MalformedPayloadError } from '../../errors/index.js';
import type { NewFailure } from '../../failure/save.js';
import type { JsonValue } from '../../protocol/json.js';
import { decodePayload, type JobPayload } from '../../protocol/payload.js';
import type { JobFailure, Outcome } from '../outcome.js';
import { type HeldJob, inflightHeader } from './inflight.js';

/** A reservation as it crosses the process boundary to a supervised child: what its in-flight key holds, and where. */
export interface ReservationData extends HeldJob {
  /** The worker slot holding it (also the `worker:<slot>` id Ruby sees). */
  readonly slotId: string;
}

/**
 * Who records a live reservation's end in Redis: the fetcher of the worker holding it. (The reaper ends a dead
 * worker's reservations with held.ts directly: nobody will acknowledge them.)
 */
export interface ReservationOwner {
  /** Records how it ended: finished, failed (with its record) or given back. */
  settle(reservation: Reservation, outcome: Outcome): Promise<void>;
  /** Back to the head of its queue if its slot still holds it; false when it no longer did. */
  giveBack(reservation: Reservation, options: { countReturn: boolean }): Promise<boolean>;
}

const MALFORMED_CLASS = '(malformed payload)';

/**
 * A unit of work: one job held by one worker slot, from the moment reserve.lua hands it over until it is acknowledged,
 * failed or given back. The payload is decoded once, when first needed, and everything about the job (class, id,
 * times returned, the failure record) is read from here.
 */
export class Reservation implements ReservationData {
  readonly slotId: string;
  readonly token: string;
  readonly queue: string;
  readonly raw: string;
  /** `resque.cancel` asked for this job while it ran: its end is recorded as cancelled unless it succeeded. */
  cancelRequested = false;
  private decoded = false;
  private decodedPayload: JobPayload | undefined;
  private decodeFailure: MalformedPayloadError | undefined;

  constructor(
    data: ReservationData,
    private readonly owner?: ReservationOwner,
  ) {
    this.slotId = data.slotId;
    this.token = data.token;
    this.queue = data.queue;
    this.raw = data.raw;
  }

  /** The decoded job, or undefined when its bytes are not a Resque job (see `decodeError`). */
  get payload(): JobPayload | undefined {
    if (!this.decoded) this.decode();
    return this.decodedPayload;
  }

  get decodeError(): MalformedPayloadError | undefined {
    if (!this.decoded) this.decode();
    return this.decodeFailure;
  }

  get className(): string {
    return this.payload?.class ?? MALFORMED_CLASS;
  }

  /** resque-ts job id; undefined for jobs pushed by Ruby or in strict mode. */
  get jobId(): string | undefined {
    const id = this.payload?.id;
    return typeof id === 'string' ? id : undefined;
  }

  /** Times it was given back after its worker or child died (`"returns":n`). */
  get returns(): number {
    const returns = this.payload?.returns;
    return typeof returns === 'number' && Number.isInteger(returns) && returns > 0 ? returns : 0;
  }

  /** What the scripts compare to know a slot still holds this reservation. */
  get header(): string {
    return inflightHeader(this.token, this.queue);
  }

  /** The serialisable form, for a child process. */
  data(): ReservationData {
    return { slotId: this.slotId, token: this.token, queue: this.queue, raw: this.raw };
  }

  /** The failure record of this job: its own bytes spliced in when they are a JSON object, else kept as `raw`. */
  failureRecord(failure: JobFailure): NewFailure {
    const payload = this.payload;
    return {
      ...failure,
      rawPayload: payload ? this.raw : undefined,
      payload: (payload ?? null) as JsonValue,
      worker: this.slotId,
      queue: this.queue,
      ...(payload ? {} : { extra: { raw: this.raw } }),
    };
  }

  ack(outcome: Outcome): Promise<void> {
    return this.ownedBy().settle(this, outcome);
  }

  giveBack(options: { countReturn: boolean }): Promise<boolean> {
    return this.ownedBy().giveBack(this, options);
  }

  fail(failure: JobFailure): Promise<void> {
    return this.ownedBy().settle(this, { kind: 'failed', failure });
  }

  private ownedBy(): ReservationOwner {
    if (!this.owner) throw new Error(`The reservation of ${this.slotId} was copied without its owner`);
    return this.owner;
  }

  private decode(): void {
    this.decoded = true;
    try {
      this.decodedPayload = decodePayload(this.raw);
    } catch (error) {
      this.decodeFailure = error as MalformedPayloadError;
    }
  }
}
