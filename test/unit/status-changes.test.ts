import { describe, expect, it } from 'vitest';
import { defineJob, withStatus } from '../../src/index.js';
import { assertStatusOption, statusTtlOf, trackedTtl } from '../../src/status/options.js';
import { parseStatusRecord } from '../../src/status/record.js';
import { mergeChanges } from '../../src/status/tracker.js';

describe('status changes', () => {
  const running = {
    state: 'running' as const,
    at: 10,
    className: 'Export',
    queue: 'q',
    worker: 'h:1:q',
    startedAt: 10,
    attempt: 1,
    returns: 0,
    clear: ['next_at' as const],
  };

  it('a start merged into its end keeps the start fields the end does not clear', () => {
    expect(mergeChanges(running, { state: 'completed', at: 12, result: 7, clear: ['next_at'] })).toEqual({
      ...running,
      state: 'completed',
      at: 12,
      result: 7,
    });
    expect(
      mergeChanges(running, { state: 'queued', at: 12, returns: 1, clear: ['worker', 'started_at'] }),
    ).toEqual({
      state: 'queued',
      at: 12,
      className: 'Export',
      queue: 'q',
      attempt: 1,
      returns: 1,
      clear: ['worker', 'started_at'],
    });
  });

  it('reads a record back as a typed status, and ignores what is not one', () => {
    expect(
      parseStatusRecord('j1', {
        state: 'retrying',
        class: 'Export',
        attempt: '2',
        next_at: '1000',
        error: '{"class":"TypeError","message":"bad"}',
        progress: '{"done":1}',
        result: 'not json',
      }),
    ).toEqual({
      id: 'j1',
      state: 'retrying',
      source: 'record',
      className: 'Export',
      attempt: 2,
      nextAt: 1000,
      error: { class: 'TypeError', message: 'bad' },
      progress: { done: 1 },
    });
    expect(parseStatusRecord('j1', {})).toBeUndefined();
    expect(parseStatusRecord('j1', { state: 'sleeping' })).toBeUndefined();
  });

  it('checks the status option and reads the payload marker', () => {
    expect(statusTtlOf(true)).toBe(86_400_000);
    expect(statusTtlOf({ ttlMs: 5 })).toBe(5);
    expect(statusTtlOf(false)).toBeUndefined();
    expect(() => assertStatusOption({ ttlMs: 0 }, 'Job X')).toThrow(
      'Job X: status.ttlMs must be a whole number of ms of 1 or more, got 0',
    );
    expect(() => assertStatusOption({ ttl: 5 }, 'Job X')).toThrow(
      'Job X: status has no option "ttl" (only ttlMs)',
    );
    expect(() => assertStatusOption('yes', 'Job X')).toThrow(
      'Job X: status must be true, false or { ttlMs }',
    );
    expect(() => defineJob({ className: 'X', status: 'yes' as never, perform: async () => {} })).toThrow(
      'Job X: status must be true, false or { ttlMs }, got "yes"',
    );
    expect(() => withStatus(defineJob({ className: 'Y', perform: async () => {} }), { ttlMs: 1.5 })).toThrow(
      'withStatus(Y): status.ttlMs must be a whole number',
    );
    expect(trackedTtl(1000)).toBe(1000);
    expect(trackedTtl('1000')).toBeUndefined();
    expect(trackedTtl(-1)).toBeUndefined();
  });
});
