// The short chaos runs on a Redis Cluster (test/resilience/cluster-chaos.ts); `npm run chaos:cluster -- --minutes N
// [--sharded]` is the long one. Workers of both kinds killed with SIGKILL at random, and the primary of the namespace's
// slot (sharded: of one of 3 shards, one on each primary) killed with its replica promoted, under a stream of durable
// enqueues: every enqueue that returned is performed.
import { expect, it } from 'vitest';
import { runClusterChaos } from '../resilience/cluster-chaos.js';

for (const sharded of [false, true])
  it(`kill -9 of workers and of ${sharded ? "one shard's primary (3 shards on 3 primaries)" : 'the slot primary'} under durable enqueues: nothing confirmed is lost`, {
    timeout: 180_000,
  }, async () => {
    const lines: string[] = [];
    const report = await runClusterChaos({
      durationMs: Number(process.env['CLUSTER_CHAOS_MS'] ?? 10_000),
      workerKillEveryMs: 1500,
      seed: Number(process.env['CHAOS_SEED'] ?? 11),
      sharded,
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
    // Durable enqueues to the killed primary's namespace went on after the failover (it kept a replica), and what they
    // enqueued was performed.
    expect(report.failover.enqueuesBackAfterMs, summary).toBeDefined();
    expect(report.confirmedAfterFailover, summary).toBeGreaterThan(sharded ? 30 : 100);
    expect(report.performed, summary).toBe(report.confirmed);
  });
