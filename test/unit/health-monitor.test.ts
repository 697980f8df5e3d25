// What /livez and /readyz answer, on an injected clock: event-loop stalls, the liveness beat, Redis, the state.
import { describe, expect, it } from 'vitest';
import { HealthMonitor, type HealthSource } from '../../src/observability/health.js';
import type { LifeState } from '../../src/worker/upkeep.js';

function setUp(state: LifeState = 'running') {
  let now = 1_000_000;
  const source = { state, redis: true };
  const worker: HealthSource = { state: () => source.state, redisReady: () => source.redis };
  const monitor = new HealthMonitor(worker, { livenessTimeoutMs: 10_000, sampleIntervalMs: 500 }, () => now);
  const advance = (ms: number) => {
    now += ms;
  };
  return { monitor, source, advance };
}

const checks = (result: { checks: ReadonlyArray<{ name: string; ok: boolean }> }) =>
  Object.fromEntries(result.checks.map((c) => [c.name, c.ok]));

describe('HealthMonitor', () => {
  it('is live and ready while the loop turns and beats reach Redis', () => {
    const { monitor, advance } = setUp();
    for (let i = 0; i < 10; i++) {
      advance(500);
      monitor.sample();
      if (i % 4 === 0) monitor.beat();
    }
    expect(monitor.liveness()).toMatchObject({ ok: true });
    expect(checks(monitor.readiness())).toEqual({ state: true, redis: true, 'liveness-beat': true });
  });

  it('fails liveness once after an event-loop stall longer than the liveness timeout', () => {
    const { monitor, advance } = setUp();
    advance(500);
    monitor.sample();
    monitor.beat();
    advance(12_500);
    monitor.sample();
    monitor.beat();
    const stalled = monitor.liveness();
    expect(stalled.ok).toBe(false);
    expect(stalled.checks[0]).toEqual({
      name: 'event-loop',
      ok: false,
      detail: 'stalled for 12000 ms since the last probe',
    });
    // The window starts again at each probe.
    advance(500);
    monitor.sample();
    expect(monitor.liveness().ok).toBe(true);
  });

  it('fails both probes when beats stop reaching a Redis it is connected to', () => {
    const { monitor, advance } = setUp();
    monitor.beat();
    for (let i = 0; i < 22; i++) {
      advance(500);
      monitor.sample();
    }
    const live = monitor.liveness();
    expect(checks(live)).toEqual({ 'event-loop': true, 'liveness-beat': false });
    expect(live.checks[1]?.detail).toBe('last beat 11000 ms ago: peers take it for dead');
    expect(checks(monitor.readiness())).toEqual({ state: true, redis: true, 'liveness-beat': false });
  });

  it('stays live but unready while Redis is unreachable', () => {
    const { monitor, source, advance } = setUp();
    monitor.beat();
    source.redis = false;
    advance(30_000);
    monitor.sample();
    monitor.liveness();
    advance(500);
    monitor.sample();
    const live = monitor.liveness();
    expect(live.ok).toBe(true);
    expect(live.checks[1]?.detail).toMatch(/Redis is unreachable, which a restart would not mend$/);
    expect(checks(monitor.readiness())).toEqual({ state: true, redis: false, 'liveness-beat': false });
  });

  it('is live but not ready while starting and while shutting down', () => {
    const { monitor, source, advance } = setUp('starting');
    advance(60_000);
    monitor.sample();
    monitor.liveness();
    expect(monitor.liveness()).toMatchObject({ ok: true, checks: [{ name: 'event-loop', ok: true }] });
    expect(monitor.readiness().checks[0]).toEqual({ name: 'state', ok: false, detail: 'starting' });
    source.state = 'stopping';
    monitor.beat();
    expect(monitor.liveness().ok).toBe(true);
    expect(monitor.readiness().checks[0]).toEqual({ name: 'state', ok: false, detail: 'shutting down' });
  });
});
