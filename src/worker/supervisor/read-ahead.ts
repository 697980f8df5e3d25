/**
 * Jobs reserved ahead wait in their child about this long at most: a child holds as many jobs ahead as it gets through
 * in this time at its recent pace, running `concurrency` at once (none once not even one fits), up to its slots. For short jobs the
 * reservation round trip and the hand-over to the child are a large share of a job; long ones are reserved only when
 * a child can start them, so they never keep jobs from an idle worker.
 */
export const AHEAD_WAIT_MS = 50;
/**
 * Slots for jobs reserved ahead, per child: its concurrency, and at least this many. A child at concurrency 1 that
 * holds one job ahead still idles whenever its next batch is on its way; with several it rarely does, and the
 * supervisor's reservations and hand-overs carry several jobs each.
 */
const MIN_AHEAD = 8;
/** Weight of the newest job's duration in the running average. */
const DURATION_WEIGHT = 0.2;

/**
 * How many jobs a supervised worker keeps in each child: those it runs (`concurrency`) and, while jobs are short,
 * jobs reserved ahead that wait in it and start the moment a running one ends (docs/architecture.md, Jobs reserved
 * ahead). Decided from a running average of how long jobs take in the children.
 */
export class ReadAhead {
  /** Slots per child for jobs reserved ahead: each such job is held in a worker slot of its own. */
  readonly slots: number;
  private averageJobMs: number | undefined;

  constructor(private readonly concurrency: number) {
    this.slots = Math.max(concurrency, MIN_AHEAD);
  }

  /** A job ran this long (ms) in its child, from the child's report that it starts to its result. */
  timed(ms: number): void {
    const average = this.averageJobMs;
    this.averageJobMs = average === undefined ? ms : average + DURATION_WEIGHT * (ms - average);
  }

  /** Jobs a child may hold now: those it runs, and those waiting behind them. Nothing ahead until a job has ended. */
  get depth(): number {
    const average = this.averageJobMs;
    if (average === undefined) return this.concurrency;
    const fit = Math.floor((AHEAD_WAIT_MS * this.concurrency) / Math.max(average, 0.01));
    return this.concurrency + Math.min(this.slots, fit);
  }
}
