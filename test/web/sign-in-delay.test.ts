// The sign-in delay on its own, with an injected clock: a burst of parallel attempts is spaced out too, addresses are
// independent, failures are forgotten after a quiet period; and the comparison behind every credential check.
import { describe, expect, it } from 'vitest';
import { safeEqual } from '../../src/web/security/compare.js';
import { SignInDelay } from '../../src/web/security/sign-in-delay.js';

function manualClock() {
  const clock = {
    at: 0,
    pending: [] as Array<{ ms: number; wake: () => void }>,
    now: () => clock.at,
    sleep: (ms: number) => new Promise<void>((wake) => clock.pending.push({ ms, wake })),
  };
  return clock;
}

describe('SignInDelay', () => {
  it('spaces out a burst of parallel attempts from one address, and leaves other addresses alone', async () => {
    const clock = manualClock();
    const delay = new SignInDelay({ baseMs: 100, maxMs: 800 }, clock);
    const burst = Array.from({ length: 6 }, () => delay.attempt('10.0.0.1', () => false));
    expect(clock.pending.map((p) => p.ms)).toEqual([100, 200, 400, 800, 800]);
    expect(delay.delayFor('10.0.0.2')).toBe(0);
    for (const { wake } of clock.pending) wake();
    expect(await Promise.all(burst)).toEqual([false, false, false, false, false, false]);
    expect(delay.delayFor('10.0.0.1')).toBe(800);
  });

  it('forgets failures after the quiet period, and at once after a success', async () => {
    const clock = manualClock();
    const delay = new SignInDelay({ baseMs: 100, forgetAfterMs: 60_000 }, clock);
    await delay.attempt('a', () => false);
    expect(delay.delayFor('a')).toBe(100);
    clock.at += 60_001;
    expect(delay.delayFor('a')).toBe(0);
    await delay.attempt('b', () => false);
    const ok = delay.attempt('b', () => true);
    clock.pending.shift()!.wake();
    expect(await ok).toBe(true);
    expect(delay.delayFor('b')).toBe(0);
  });
});

describe('safeEqual', () => {
  it('compares content, whatever the lengths', () => {
    expect(safeEqual('token', 'token')).toBe(true);
    expect(safeEqual('token', 'toke')).toBe(false);
    expect(safeEqual('token', 'tokenx')).toBe(false);
    expect(safeEqual('', '')).toBe(true);
    expect(safeEqual('€', 'â')).toBe(false);
  });
});
