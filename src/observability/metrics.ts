// A worker process's Prometheus metrics (docs/operations.md lists them): jobs by outcome, job durations, queue waits,
// slots, children. Loaded only when metrics are asked for, so a worker without them never loads prom-client.
import { Counter, collectDefaultMetrics, Gauge, type Metric, Registry } from 'prom-client';
import type { ExecutorStats, RestartReason } from '../fleet/worker-stats.js';
import type { Reservation } from '../worker/fetch/reservation.js';
import type { JobEnd, JobWatcher } from './job-observer.js';
import { registerTallied, TalliedCounter, TalliedHistogram } from './tally.js';

/** What the gauges read from the worker at each scrape. */
export interface WorkerGaugeSource {
  readonly slots: number;
  busySlots(): number;
  paused(): boolean;
  /** Children of a supervised worker and their restarts; undefined for a worker that runs jobs itself. */
  executorStats(): ExecutorStats | undefined;
}

export interface WorkerMetricsOptions {
  /** The application's registry; a private one (with prom-client's process metrics) when absent. */
  registry?: Registry;
  /** Epoch ms, for queue waits; tests pass their own. */
  now?: () => number;
}

const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900];
const WAIT_BUCKETS = [0.005, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600, 14_400, 86_400];

/** The workers whose gauges a registry shows, summed: an application may run several workers on one registry. */
const sourcesOf = new WeakMap<Registry, Set<WorkerGaugeSource>>();

export class WorkerMetrics implements JobWatcher {
  readonly registry: Registry;
  private readonly jobs: TalliedCounter;
  private readonly duration: TalliedHistogram;
  private readonly wait: TalliedHistogram;
  private readonly now: () => number;

  constructor(
    private readonly source: WorkerGaugeSource,
    options: WorkerMetricsOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.registry = options.registry ?? new Registry();
    if (!options.registry) collectDefaultMetrics({ register: this.registry });
    const sources = sourcesOf.get(this.registry) ?? new Set();
    sourcesOf.set(this.registry, sources);
    sources.add(source);
    this.jobs = registerTallied(
      this.registry,
      new TalliedCounter(
        'resque_jobs_total',
        'Jobs this process ended, by queue, class and outcome (performed, skipped, retrying, failed, timed-out, over-memory, dirty-exit, interrupted, given-back, cancelled).',
      ),
    );
    this.duration = registerTallied(
      this.registry,
      new TalliedHistogram(
        'resque_job_duration_seconds',
        'How long jobs ran in their slot, from start to outcome (given-back jobs excluded).',
        DURATION_BUCKETS,
      ),
    );
    this.wait = registerTallied(
      this.registry,
      new TalliedHistogram(
        'resque_job_queue_wait_seconds',
        'How long jobs waited from enqueue (the payload’s enqueued_at) to start; jobs without it are not counted.',
        WAIT_BUCKETS,
      ),
    );
    this.gauges(sources, [this.registry]);
  }

  /** The worker stopped: its gauges leave the registry's sums (its job counts stay, as counters do). */
  close(): void {
    sourcesOf.get(this.registry)?.delete(this.source);
  }

  started(reservation: Reservation): void {
    const enqueuedAt = reservation.payload?.enqueued_at;
    if (typeof enqueuedAt !== 'number') return;
    const queue = reservation.queue;
    this.wait.series(queue, () => ({ queue })).observe(Math.max(0, this.now() / 1000 - enqueuedAt));
  }

  finished({ reservation, outcome, durationMs }: JobEnd): void {
    const { queue, className } = reservation;
    const { kind } = outcome;
    const key = `${queue}\0${className}`;
    this.jobs.series(`${key}\0${kind}`, () => ({ queue, class: className, outcome: kind })).value++;
    if (kind === 'given-back') return;
    this.duration.series(key, () => ({ queue, class: className })).observe(durationMs / 1000);
  }

  private gauges(sources: ReadonlySet<WorkerGaugeSource>, registers: Registry[]): void {
    const sum = (read: (source: WorkerGaugeSource) => number) =>
      [...sources].reduce((total, source) => total + read(source), 0);
    this.metric(
      'resque_worker_slots',
      (name) =>
        new Gauge({
          name,
          help: 'Job slots of this process, busy and idle.',
          labelNames: ['state'],
          registers,
          collect() {
            const busy = sum((s) => s.busySlots());
            this.set({ state: 'busy' }, busy);
            this.set({ state: 'idle' }, Math.max(0, sum((s) => s.slots) - busy));
          },
        }),
    );
    this.metric(
      'resque_worker_paused',
      (name) =>
        new Gauge({
          name,
          help: 'Workers of this process that take no jobs (USR2, pause-all-workers).',
          registers,
          collect() {
            this.set(sum((s) => (s.paused() ? 1 : 0)));
          },
        }),
    );
    this.metric(
      'resque_worker_children',
      (name) =>
        new Gauge({
          name,
          help: 'Child processes of a supervised worker, by state (starting, ready, spare, draining); none in-process.',
          labelNames: ['state'],
          registers,
          collect() {
            this.reset();
            for (const source of sources) {
              for (const child of source.executorStats()?.children ?? []) this.inc({ state: child.state });
            }
          },
        }),
    );
    const seen = new Map<string, number>();
    this.metric(
      'resque_worker_child_restarts_total',
      (name) =>
        new Counter({
          name,
          help: 'Children a supervised worker replaced, by reason (timeout, memory-soft, memory-hard, max-jobs, exit, signal, usr1, start-failed).',
          labelNames: ['reason'],
          registers,
          collect() {
            const totals = new Map<string, number>();
            for (const source of sources) {
              for (const [reason, n] of Object.entries(source.executorStats()?.restartReasons ?? {}))
                totals.set(reason, (totals.get(reason) ?? 0) + (n ?? 0));
            }
            for (const [reason, total] of totals) {
              const delta = total - (seen.get(reason) ?? 0);
              if (delta > 0) this.inc({ reason: reason as RestartReason }, delta);
              seen.set(reason, total);
            }
          },
        }),
    );
  }

  /** The registry's metric of that name when another worker of this process registered it first, else a new one. */
  private metric<T extends Metric>(name: string, create: (name: string) => T): T {
    return (this.registry.getSingleMetric(name) as T | undefined) ?? create(name);
  }
}
