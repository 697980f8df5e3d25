// The worker's metrics from its job events, on an injected clock for queue waits.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { ExecutorStats } from '../../src/fleet/worker-stats.js';
import { type WorkerGaugeSource, WorkerMetrics } from '../../src/observability/metrics.js';
import { Reservation } from '../../src/worker/fetch/reservation.js';
import { sample } from '../harness/prometheus.js';

const reservation = (queue: string, raw: string) =>
  new Reservation({ slotId: 'h:1:q', token: 't', queue, raw });

function source(stats?: ExecutorStats): WorkerGaugeSource & { busy: number } {
  const s = {
    slots: 4,
    busy: 0,
    busySlots: () => s.busy,
    paused: () => false,
    executorStats: () => stats,
  };
  return s;
}

describe('WorkerMetrics', () => {
  it('counts outcomes by queue and class, times jobs that ran, and measures waits from enqueued_at', async () => {
    const now = 1_700_000_010_000;
    const metrics = new WorkerMetrics(source(), { registry: new Registry(), now: () => now });
    const job = reservation('mail', '{"class":"Mail","args":[1],"id":"a","enqueued_at":1700000000.5}');
    metrics.started(job);
    metrics.finished({ reservation: job, outcome: { kind: 'performed' }, durationMs: 1500 });
    const ruby = reservation('mail', '{"class":"Mail","args":[2]}');
    metrics.started(ruby);
    metrics.finished({
      reservation: ruby,
      outcome: { kind: 'timed-out', failure: { exception: 'JobTimeoutError', error: 'late', backtrace: [] } },
      durationMs: 30_000,
    });
    const back = reservation('mail', '{"class":"Mail","args":[3]}');
    metrics.finished({
      reservation: back,
      outcome: { kind: 'given-back', reason: 'stop', countReturn: false },
      durationMs: 10,
    });
    const text = await metrics.registry.metrics();
    const labels = { queue: 'mail', class: 'Mail' };
    expect(sample(text, 'resque_jobs_total', { ...labels, outcome: 'performed' })).toBe(1);
    expect(sample(text, 'resque_jobs_total', { ...labels, outcome: 'timed-out' })).toBe(1);
    expect(sample(text, 'resque_jobs_total', { ...labels, outcome: 'given-back' })).toBe(1);
    expect(sample(text, 'resque_job_duration_seconds_count', labels)).toBe(2);
    expect(sample(text, 'resque_job_duration_seconds_sum', labels)).toBe(31.5);
    expect(sample(text, 'resque_job_duration_seconds_bucket', { ...labels, le: '1' })).toBe(0);
    expect(sample(text, 'resque_job_duration_seconds_bucket', { ...labels, le: '2.5' })).toBe(1);
    // Only the job that says when it was enqueued: 9.5 s.
    expect(sample(text, 'resque_job_queue_wait_seconds_count', { queue: 'mail' })).toBe(1);
    expect(sample(text, 'resque_job_queue_wait_seconds_sum', { queue: 'mail' })).toBe(9.5);
    expect(sample(text, 'resque_job_queue_wait_seconds_bucket', { queue: 'mail', le: '5' })).toBe(0);
    expect(sample(text, 'resque_job_queue_wait_seconds_bucket', { queue: 'mail', le: '10' })).toBe(1);
  });

  it('reads slots, children and restarts at each scrape, restarts as a counter', async () => {
    const stats: ExecutorStats = {
      children: [
        {
          index: 0,
          pid: 1,
          state: 'ready',
          startedAt: 0,
          jobsDone: 0,
          jobsFailed: 0,
          running: 1,
          rssBytes: 1,
          restarts: 0,
          lastRestart: null,
        },
        {
          index: null,
          pid: 2,
          state: 'spare',
          startedAt: 0,
          jobsDone: 0,
          jobsFailed: 0,
          running: 0,
          rssBytes: 1,
          restarts: 0,
          lastRestart: null,
        },
      ],
      restarts: 2,
      restartReasons: { exit: 1, timeout: 1 },
      recentRestarts: [],
    };
    const worker = source(stats);
    worker.busy = 3;
    const metrics = new WorkerMetrics(worker, { registry: new Registry() });
    let text = await metrics.registry.metrics();
    expect(sample(text, 'resque_worker_slots', { state: 'busy' })).toBe(3);
    expect(sample(text, 'resque_worker_slots', { state: 'idle' })).toBe(1);
    expect(sample(text, 'resque_worker_children', { state: 'ready' })).toBe(1);
    expect(sample(text, 'resque_worker_children', { state: 'spare' })).toBe(1);
    expect(sample(text, 'resque_worker_child_restarts_total', { reason: 'exit' })).toBe(1);
    stats.restartReasons = { exit: 3, timeout: 1 };
    stats.children = [];
    text = await metrics.registry.metrics();
    expect(sample(text, 'resque_worker_child_restarts_total', { reason: 'exit' })).toBe(3);
    expect(sample(text, 'resque_worker_child_restarts_total', { reason: 'timeout' })).toBe(1);
    expect(sample(text, 'resque_worker_children', { state: 'ready' })).toBeUndefined();
  });

  it("adds prom-client's process metrics only to a registry of its own", async () => {
    const own = new WorkerMetrics(source());
    expect(sample(await own.registry.metrics(), 'process_resident_memory_bytes')).toBeGreaterThan(0);
    const shared = new WorkerMetrics(source(), { registry: new Registry() });
    expect(sample(await shared.registry.metrics(), 'process_resident_memory_bytes')).toBeUndefined();
  });
});
