// The worker's side of status tracking: the record of each tracked job it runs, from `running` to how it ended, and
// the job's progress. Only jobs whose payload carries `"status"` are tracked; any other costs one substring test.
import type { ChainableCommander, Redis } from 'ioredis';
import type { Logger } from '../logging/logger.js';
import { attemptOf } from '../protocol/attempts.js';
import type { JsonValue } from '../protocol/json.js';
import type { Keys } from '../protocol/keys.js';
import { retryForever } from '../redis/retry.js';
import type { Reservation } from '../worker/fetch/reservation.js';
import { isFailure, type Outcome } from '../worker/outcome.js';
import { trackedTtl } from './options.js';
import { CHANGE_SCRIPT, queueProgress, queueStatusChange, type StatusChange } from './write.js';

/** The TTL of a reservation's status record, or undefined when its job is not tracked. */
export function trackedTtlOf(reservation: Pick<Reservation, 'raw' | 'payload'>): number | undefined {
  // A JSON.parse per job would cost untracked jobs in a supervisor, which otherwise never decodes their payloads.
  if (!reservation.raw.includes('"status":')) return undefined;
  return trackedTtl(reservation.payload?.status);
}

/** How a reservation's end reads in its status record, `at` epoch ms. */
export function endChange(reservation: Reservation, outcome: Outcome, at: number): StatusChange {
  const attempt = reservation.payload ? attemptOf(reservation.payload) : 1;
  switch (outcome.kind) {
    case 'performed':
    case 'skipped':
      return {
        state: 'completed',
        at,
        ...(outcome.result === undefined ? {} : { result: outcome.result }),
        clear: ['next_at'],
      };
    case 'given-back':
      return {
        state: 'queued',
        at,
        returns: reservation.returns + (outcome.countReturn ? 1 : 0),
        clear: ['worker', 'started_at'],
      };
    case 'retrying':
      return {
        state: 'retrying',
        at,
        attempt: outcome.attempt,
        nextAt: at + outcome.delayMs,
        error: { class: outcome.failure.exception, message: outcome.failure.error },
      };
    case 'cancelled':
      return { state: 'cancelled', at };
    default:
      return {
        state: 'failed',
        at,
        attempt,
        error: isFailure(outcome)
          ? { class: outcome.failure.exception, message: outcome.failure.error }
          : { class: 'Error', message: 'failed' },
        clear: ['next_at'],
      };
  }
}

/** Writes one change of a tracked job's record (retried through Redis outages, as the job's own bookkeeping is). */
export async function writeStatus(
  redis: Redis,
  keys: Keys,
  id: string,
  ttlMs: number,
  change: StatusChange,
  logger: Logger,
): Promise<void> {
  await retryForever(() => queueStatusChange(redis.pipeline(), keys, id, ttlMs, change).exec(), logger);
}

interface ProgressState {
  readonly token: string;
  writing: boolean;
  /** The latest value that came while a write was on its way. */
  next: { value: JsonValue } | undefined;
}

/**
 * The writes of one turn of the event loop, sent as one pipeline of EVALSHA calls: jobs that start or end together (a
 * reservation hands over a batch) cost one round trip, and their acknowledgements still go together. After a Redis
 * restart (NOSCRIPT) the script is loaded and the batch sent again (a change written twice is the same change).
 */
class WriteBatch {
  private writes: Array<(pipeline: ChainableCommander) => void> | undefined;
  private sent: Promise<void> | undefined;

  constructor(private readonly redis: Redis) {}

  add(write: (pipeline: ChainableCommander) => void): Promise<void> {
    if (!this.writes) {
      const writes: Array<(pipeline: ChainableCommander) => void> = [];
      this.writes = writes;
      this.sent = new Promise<void>((resolve, reject) => {
        setImmediate(() => {
          this.writes = undefined;
          this.send(writes).then(resolve, reject);
        });
      });
    }
    this.writes.push(write);
    return this.sent!;
  }

  private async send(writes: ReadonlyArray<(pipeline: ChainableCommander) => void>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const pipeline = this.redis.pipeline();
      for (const write of writes) write(pipeline);
      const results = (await pipeline.exec()) ?? [];
      const failed = results.find(([error]) => error)?.[0];
      if (!failed) return;
      if (attempt > 1 || !failed.message.startsWith('NOSCRIPT')) throw failed;
      await this.redis.script('LOAD', CHANGE_SCRIPT.source);
    }
  }
}

/** The JobStatus member each clearable field is set from, for merging a change into the one before it. */
const MEMBER_OF_FIELD = {
  worker: 'worker',
  started_at: 'startedAt',
  next_at: 'nextAt',
  error: 'error',
  progress: undefined,
  result: 'result',
} as const;

/** One change following another not yet sent: the fields of both, the later winning, as if written in turn. */
export function mergeChanges(earlier: StatusChange, later: StatusChange): StatusChange {
  const merged: Record<string, unknown> = { ...earlier, ...later };
  for (const field of later.clear ?? []) {
    const member = MEMBER_OF_FIELD[field];
    if (member && !(member in later)) delete merged[member];
  }
  return merged as unknown as StatusChange;
}

/** A `running` change waiting in the current batch: a job that ends before it is sent has it merged into its end. */
interface UnsentStart {
  readonly change: StatusChange;
  /** Queued on a pipeline already: too late to merge. */
  sent: boolean;
  /** Merged into the job's end, which writes it. */
  merged: boolean;
}

export class StatusTracker {
  private readonly progressByJob = new Map<string, ProgressState>();
  private readonly batch: WriteBatch;
  private readonly unsentStarts = new WeakMap<Reservation, UnsentStart>();

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly logger: Logger,
    /** Epoch ms; tests pass their own. */
    private readonly clock: () => number = Date.now,
  ) {
    this.batch = new WriteBatch(redis);
  }

  /** A tracked job starts: `running`, in this slot, since now. Not waited for: the job does not wait on its record. */
  started(reservation: Reservation): void {
    const ttl = trackedTtlOf(reservation);
    const id = reservation.jobId;
    if (ttl === undefined || id === undefined) return;
    const at = this.clock();
    const payload = reservation.payload;
    const change: StatusChange = {
      state: 'running',
      at,
      className: reservation.className,
      queue: reservation.queue,
      worker: reservation.slotId,
      startedAt: at,
      attempt: payload ? attemptOf(payload) : 1,
      returns: reservation.returns,
      clear: ['next_at'],
    };
    const start: UnsentStart = { change, sent: false, merged: false };
    this.unsentStarts.set(reservation, start);
    this.batch
      .add((pipeline) => {
        start.sent = true;
        if (!start.merged) queueStatusChange(pipeline, this.keys, id, ttl, change, 'evalsha');
      })
      .catch((error: unknown) =>
        this.logger.warn(`Writing the status of job ${id} failed: ${String(error)}`),
      );
  }

  /** A tracked job ended: its record says how, before the worker records the end itself. */
  async finished(reservation: Reservation, outcome: Outcome): Promise<void> {
    const ttl = trackedTtlOf(reservation);
    const id = reservation.jobId;
    if (ttl === undefined || id === undefined) return;
    this.progressByJob.delete(reservation.slotId);
    const start = this.unsentStarts.get(reservation);
    this.unsentStarts.delete(reservation);
    if (outcome.kind === 'cancelled') {
      // Cancellation writes its own record (docs/cancel.md); a start not yet sent would land after it.
      if (start && !start.sent) start.merged = true;
      return;
    }
    let change = endChange(reservation, outcome, this.clock());
    // A job that ends in the turn it started (a quick one) writes its start and its end as one change.
    if (start && !start.sent) {
      start.merged = true;
      change = mergeChanges(start.change, change);
    }
    try {
      await this.batch.add((pipeline) => queueStatusChange(pipeline, this.keys, id, ttl, change, 'evalsha'));
    } catch {
      // Written alone then, retried through an outage as the job's own bookkeeping is.
      await writeStatus(this.redis, this.keys, id, ttl, change, this.logger);
    }
  }

  /**
   * A running job's progress (already checked to be JSON): written at once when no write of it is on its way, else
   * kept as the next one to write, so a job reporting in a tight loop costs one write in flight at a time.
   */
  progress(reservation: Reservation, value: JsonValue): void {
    const ttl = trackedTtlOf(reservation);
    const id = reservation.jobId;
    if (ttl === undefined || id === undefined) return;
    let state = this.progressByJob.get(reservation.slotId);
    if (state?.token !== reservation.token) {
      state = { token: reservation.token, writing: false, next: undefined };
      this.progressByJob.set(reservation.slotId, state);
    }
    if (state.writing) {
      state.next = { value };
      return;
    }
    this.writeProgress(reservation.slotId, state, id, ttl, value);
  }

  private writeProgress(
    slotId: string,
    state: ProgressState,
    id: string,
    ttl: number,
    value: JsonValue,
  ): void {
    state.writing = true;
    const at = this.clock();
    this.batch
      .add((pipeline) => queueProgress(pipeline, this.keys, id, ttl, value, at, 'evalsha'))
      .catch((error: unknown) =>
        this.logger.warn(`Writing the progress of job ${id} failed: ${String(error)}`),
      )
      .finally(() => {
        state.writing = false;
        const next = state.next;
        state.next = undefined;
        // A job that ended meanwhile is no longer in the map: its last progress is not written after its end.
        if (next && this.progressByJob.get(slotId) === state)
          this.writeProgress(slotId, state, id, ttl, next.value);
      });
  }
}
