import { describe, expect, it } from 'vitest';
import { runFailover } from './failover.js';

describe('Sentinel failover under load', () => {
  it('clients and workers follow the failover; durable enqueues lose nothing', {
    timeout: 240_000,
  }, async () => {
    const lines: string[] = [];
    const durable = await runFailover({
      durable: true,
      jobsPerSecond: 100,
      phaseMs: 3000,
      log: (l) => lines.push(l),
    });
    const context = JSON.stringify({ durable, lines });
    expect(durable.confirmed, context).toBeGreaterThan(20);
    expect(durable.lost, context).toEqual([]);
    expect(durable.failoverMs, context).toBeGreaterThan(0);
  });

  it('with asynchronous replication, work carries on after the failover', { timeout: 240_000 }, async () => {
    const lines: string[] = [];
    const report = await runFailover({
      durable: false,
      jobsPerSecond: 100,
      phaseMs: 3000,
      log: (l) => lines.push(l),
    });
    const context = JSON.stringify({ report, lines });
    // Only writes acknowledged by the old primary and not yet replicated can be lost: a handful at most. A loaded
    // machine confirms fewer than the 100 a second asked for (122 in 9 s was seen), so only a floor is required.
    expect(report.confirmed, context).toBeGreaterThan(50);
    expect(report.lost.length, context).toBeLessThan(report.confirmed / 20);
  });
});
