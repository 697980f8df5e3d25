// The namespace's gauges, as the dashboard serves them at /metrics: rendered from one snapshot per scrape into a
// fresh registry, so a queue that is gone leaves no stale series behind.
import { Counter, Gauge, Registry } from 'prom-client';
import type { ClusterSnapshot } from '../api/cluster-metrics.js';

export interface RenderedMetrics {
  readonly contentType: string;
  readonly text: string;
}

/** The metric registry of one snapshot (the docs test reads its names). */
export function clusterRegistry(snapshot: ClusterSnapshot): Registry {
  const registry = new Registry();
  const registers = [registry];
  const value = (name: string, help: string, n: number) => new Gauge({ name, help, registers }).set(n);
  const total = (name: string, help: string, n: number) => new Counter({ name, help, registers }).inc(n);
  const size = new Gauge({
    name: 'resque_queue_size',
    help: 'Jobs waiting in each queue.',
    labelNames: ['queue'],
    registers,
  });
  const age = new Gauge({
    name: 'resque_queue_oldest_job_age_seconds',
    help: 'How long the next job of each queue has waited (queues whose head carries enqueued_at).',
    labelNames: ['queue'],
    registers,
  });
  for (const queue of snapshot.queues) {
    size.set({ queue: queue.name }, queue.size);
    if (queue.oldestAgeMs !== undefined) age.set({ queue: queue.name }, queue.oldestAgeMs / 1000);
  }
  value(
    'resque_workers',
    'Registered workers (each slot of a resque-ts worker counts, as Ruby counts them).',
    snapshot.workers,
  );
  value('resque_workers_working', 'Registered workers running a job.', snapshot.working);
  total(
    'resque_processed_total',
    "Jobs processed, failures included (Resque's stat:processed).",
    snapshot.processed,
  );
  total('resque_failed_total', "Jobs failed (Resque's stat:failed).", snapshot.failed);
  value('resque_failures', 'Failure records kept in the failure lists.', snapshot.failures);
  value('resque_delayed_jobs', 'Delayed jobs filed by resque-ts (ts:delayed:due).', snapshot.delayedJobs);
  value(
    'resque_delayed_timestamps',
    "Seconds holding delayed jobs, resque-scheduler's included (delayed_queue_schedule).",
    snapshot.delayedSeconds,
  );
  value(
    'resque_delayed_lateness_seconds',
    'How late the earliest delayed job is; growing means no process promotes delayed jobs.',
    snapshot.delayedLateMs / 1000,
  );
  return registry;
}

export async function renderClusterMetrics(snapshot: ClusterSnapshot): Promise<RenderedMetrics> {
  const registry = clusterRegistry(snapshot);
  return { contentType: registry.contentType, text: await registry.metrics() };
}
