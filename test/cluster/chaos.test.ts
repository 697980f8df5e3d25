// The short chaos run on a Redis Cluster (test/resilience/cluster-chaos.ts); `npm run chaos:cluster -- --minutes N` is
// the long one. Workers of both kinds killed with SIGKILL at random, and the primary of the namespace's slot killed
// with its replica promoted, under a stream of durable enqueues: every enqueue that returned is performed.
import { expect, it } from 'vitest';
import { runClusterChaos } from '../resilience/cluster-chaos.js';

it('kill -9 of workers and of the slot primary under durable enqueues: nothing confirmed is lost', {
  timeout: 180_000,
}, async () => {
  const lines: string[] = [];
  const report = await runClusterChaos({
    durationMs: Number(process.env['CLUSTER_CHAOS_MS'] ?? 15_000),
    workerKillEveryMs: 1500,
    seed: Number(process.env['CHAOS_SEED'] ?? 11),
    log: (line) => lines.push(line),
  });
  const summary = JSON.stringify({
    ...report,
    lost: report.lost.slice(0, 20),
    duplicated: report.duplicated.length,
    executions: undefined,
    log: lines,
  });
  expect(report.confirmed, summary).toBeGreaterThan(300);
  expect(report.workerKills.inProcess, summary).toBeGreaterThan(0);
  expect(report.workerKills.supervised, summary).toBeGreaterThan(0);
  expect(report.lost, summary).toEqual([]);
  // Durable enqueues went on after the failover (the shard kept a replica), and what they enqueued was performed.
  expect(report.failover.enqueuesBackAfterMs, summary).toBeDefined();
  expect(report.confirmedAfterFailover, summary).toBeGreaterThan(100);
  expect(report.performed, summary).toBe(report.confirmed);
});
