// How many jobs a supervised worker keeps in each child (src/worker/supervisor/read-ahead.ts): its concurrency, and
// while jobs are short as many more as they fill in AHEAD_WAIT_MS, up to its slots for jobs reserved ahead.
import { describe, expect, it } from 'vitest';
import { AHEAD_WAIT_MS, ReadAhead } from '../../src/worker/supervisor/read-ahead.js';

describe('ReadAhead', () => {
  it('has slots for its concurrency ahead, and at least eight', () => {
    expect(new ReadAhead(1).slots).toBe(8);
    expect(new ReadAhead(50).slots).toBe(50);
  });

  it('holds nothing ahead until a job has ended', () => {
    expect(new ReadAhead(3).depth).toBe(3);
  });

  it('fills its slots with short jobs', () => {
    const ahead = new ReadAhead(1);
    for (let i = 0; i < 5; i++) ahead.timed(0.3);
    expect(ahead.depth).toBe(9);
  });

  it('holds as many as fill the wait, and none for jobs that take as long as it or longer', () => {
    const ahead = new ReadAhead(2);
    ahead.timed(20);
    // Two run at once: in 50 ms, two at a time, 20 ms jobs fill 5 places.
    expect(ahead.depth).toBe(2 + Math.floor((AHEAD_WAIT_MS * 2) / 20));
    const long = new ReadAhead(1);
    long.timed(AHEAD_WAIT_MS * 2);
    expect(long.depth).toBe(1);
  });

  it('follows a running average: one long job among short ones does not stop it, a run of them does', () => {
    const ahead = new ReadAhead(1);
    for (let i = 0; i < 10; i++) ahead.timed(1);
    ahead.timed(30);
    expect(ahead.depth).toBeGreaterThan(1);
    for (let i = 0; i < 20; i++) ahead.timed(500);
    expect(ahead.depth).toBe(1);
  });
});
