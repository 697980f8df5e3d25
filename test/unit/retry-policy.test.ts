import { describe, expect, it } from 'vitest';
import { retryTime, retryWrite, toFailure } from '../../src/failure/failure.js';
import { Discard, defineJob, JobTimeoutError, RetryLater, withRetry } from '../../src/index.js';
import { backoffDelay, decideRetry, enqueueRetryOf } from '../../src/jobs/retry-policy.js';
import {
  attemptError,
  attemptOf,
  attemptsOf,
  errorHistoryOf,
  MAX_ERRORS,
  nextAttemptItem,
} from '../../src/protocol/attempts.js';
import { decodePayload, encodePayload } from '../../src/protocol/payload.js';
import { afterFailedAttempt, retrySettingsOf } from '../../src/worker/retrying.js';

class NetworkError extends Error {}
class SocketTimeout extends NetworkError {}

const noJitter = () => 0;

describe('backoff', () => {
  it('fixed: the same delay after every attempt', () => {
    const fixed = { type: 'fixed', delayMs: 500 } as const;
    expect([1, 2, 5].map((a) => backoffDelay(fixed, a, new Error()))).toEqual([500, 500, 500]);
  });

  it('exponential: delay × factor^(attempt − 1), capped', () => {
    const exp = { type: 'exponential', delayMs: 100, maxDelayMs: 1000 } as const;
    expect([1, 2, 3, 4, 5].map((a) => backoffDelay(exp, a, new Error()))).toEqual([100, 200, 400, 800, 1000]);
    const triple = { type: 'exponential', delayMs: 10, factor: 3 } as const;
    expect(backoffDelay(triple, 3, new Error())).toBe(90);
  });

  it('jitter takes a random share of up to its fraction off, after the cap', () => {
    const spec = { type: 'exponential', delayMs: 1000, maxDelayMs: 2000, jitter: 0.5 } as const;
    expect(backoffDelay(spec, 5, new Error(), () => 0)).toBe(2000);
    expect(backoffDelay(spec, 5, new Error(), () => 0.5)).toBe(1500);
    expect(backoffDelay(spec, 5, new Error(), () => 0.999999)).toBe(1000);
  });

  it('a function of the attempt and the error', () => {
    const fn = (attempt: number, error: Error) => (error instanceof NetworkError ? 50 : 1000) * attempt;
    expect(backoffDelay(fn, 2, new NetworkError())).toBe(100);
    expect(backoffDelay(fn, 2, new Error())).toBe(2000);
    expect(() => backoffDelay(() => Number.NaN, 1, new Error())).toThrow(/not a delay/);
  });
});

describe('decideRetry', () => {
  const settings = { attempts: 3, backoff: { type: 'fixed', delayMs: 10 } } as const;

  it('retries until the attempts are used up; 1 attempt (the default) never retries', () => {
    expect(decideRetry(settings, 1, new Error())).toEqual({ retry: true, delayMs: 10 });
    expect(decideRetry(settings, 2, new Error())).toEqual({ retry: true, delayMs: 10 });
    expect(decideRetry(settings, 3, new Error())).toEqual({ retry: false, why: 'exhausted' });
    expect(decideRetry({}, 1, new Error())).toEqual({ retry: false, why: 'exhausted' });
  });

  it('the default backoff is exponential from 1 s', () => {
    expect(decideRetry({ attempts: 5 }, 3, new Error(), undefined, noJitter)).toEqual({
      retry: true,
      delayMs: 4000,
    });
  });

  it('retryOn and discardOn by class name (own, inherited, or the record name) or by test', () => {
    const on = { ...settings, retryOn: ['NetworkError', 'Resque::DirtyExit'] };
    expect(decideRetry(on, 1, new SocketTimeout()).retry).toBe(true);
    expect(decideRetry(on, 1, new TypeError())).toEqual({ retry: false, why: 'not retryable' });
    expect(decideRetry(on, 1, new Error('x'), 'Resque::DirtyExit').retry).toBe(true);
    const off = { ...settings, discardOn: (e: Error) => e.message.includes('permanent') };
    expect(decideRetry(off, 1, new Error('permanent failure'))).toEqual({ retry: false, why: 'discarded' });
    expect(decideRetry(off, 1, new Error('flaky')).retry).toBe(true);
    const timeouts = { ...settings, discardOn: 'JobTimeoutError' };
    expect(decideRetry(timeouts, 1, new JobTimeoutError(5)).retry).toBe(false);
  });

  it('RetryLater picks its own delay whatever retryOn says, within the attempts; Discard ends at once', () => {
    const on = { ...settings, retryOn: 'NetworkError' };
    expect(decideRetry(on, 1, new RetryLater(30_000))).toEqual({ retry: true, delayMs: 30_000 });
    expect(decideRetry(on, 3, new RetryLater(30_000))).toEqual({ retry: false, why: 'exhausted' });
    expect(decideRetry(on, 1, new Discard('bad input'))).toEqual({ retry: false, why: 'discarded' });
    expect(() => new RetryLater(-1)).toThrow(TypeError);
  });
});

describe('job definitions', () => {
  it('refuses unusable retry settings when defined', () => {
    const perform = async () => {};
    expect(() => defineJob({ className: 'A', perform, attempts: 0 })).toThrow(/attempts must be/);
    expect(() => defineJob({ className: 'A', perform, attempts: 1.5 })).toThrow(/attempts must be/);
    expect(() =>
      defineJob({ className: 'A', perform, backoff: { type: 'linear', delayMs: 1 } as never }),
    ).toThrow(/type must be/);
    expect(() =>
      defineJob({ className: 'A', perform, backoff: { type: 'fixed', delayMs: 1, jitter: 2 } }),
    ).toThrow(/jitter/);
    expect(() => defineJob({ className: 'A', perform, retryOn: [1] as never })).toThrow(/retryOn/);
  });

  it('withRetry: the enqueue carries its options, which win over the definition', () => {
    const Job = defineJob({ className: 'A', queue: 'q', perform: async () => {}, attempts: 2 });
    const five = withRetry(Job, { attempts: 5, backoff: { type: 'fixed', delayMs: 7 } });
    expect(five.enqueueRetry).toEqual({ attempts: 5, backoff: { type: 'fixed', delayMs: 7 } });
    expect(() => withRetry(Job, { attempts: 5, retryOn: 'X' } as never)).toThrow(/no retry option/);
    expect(() => withRetry(Job, { attempts: 0 })).toThrow(
      'withRetry(A): attempts must be a whole number of 1 or more, got 0',
    );
    expect(() => withRetry(Job, { backoff: (() => 5) as never })).toThrow(
      'withRetry(A): backoff per enqueue must be { type, delayMs, … }, which the payload carries, not a function (give a backoff function on defineJob)',
    );
    const raw = encodePayload('A', [], { id: 'x', enqueuedAt: 1, retry: five.enqueueRetry as never });
    expect(raw).toBe(
      '{"class":"A","args":[],"id":"x","enqueued_at":1,"retry":{"attempts":5,"backoff":{"type":"fixed","delayMs":7}}}',
    );
    expect(retrySettingsOf(Job, decodePayload(raw))).toMatchObject({
      attempts: 5,
      backoff: { type: 'fixed', delayMs: 7 },
    });
    expect(
      retrySettingsOf(Job, decodePayload('{"class":"A","args":[],"retry":{"attempts":"9"}}')),
    ).toMatchObject({ attempts: 2 });
    expect(enqueueRetryOf({ attempts: 3, extra: 1 })).toBeUndefined();
  });

  it('afterFailedAttempt: retrying with the attempt numbers, or the failure itself', () => {
    const Job = defineJob({
      className: 'A',
      perform: async () => {},
      attempts: 3,
      backoff: { type: 'fixed', delayMs: 5 },
    });
    const failure = { exception: 'Error', error: 'boom', backtrace: [] };
    const first = decodePayload('{"class":"A","args":[]}');
    expect(afterFailedAttempt('failed', failure, new Error('boom'), Job, first)).toEqual({
      kind: 'retrying',
      failure,
      delayMs: 5,
      attempt: 1,
      attempts: 3,
    });
    const last = decodePayload('{"class":"A","args":[],"attempt":3}');
    expect(afterFailedAttempt('dirty-exit', failure, new Error('boom'), Job, last)).toEqual({
      kind: 'dirty-exit',
      failure,
    });
    const broken = defineJob({ className: 'B', perform: async () => {}, attempts: 2, backoff: () => -1 });
    const outcome = afterFailedAttempt('failed', failure, new Error('boom'), broken, first);
    expect(outcome.kind).toBe('failed');
    expect('failure' in outcome && outcome.failure.error).toMatch(/^boom \(not retried: .*-1/);
  });
});

describe('attempt fields of a payload', () => {
  const failure = { exception: 'TypeError', error: 'bad', backtrace: ['a.js:1', 'b.js:2'] };

  it('the next attempt keeps every other byte, bumps attempt and appends the error', () => {
    const raw = '{"class":"A","args":[1.0,9007199254740993],"id":"x","enqueued_at":1764000000.5,"returns":1}';
    const payload = decodePayload(raw);
    expect(attemptOf(payload)).toBe(1);
    const entry = attemptError(1, '2026/11/27 22:09:46 UTC', failure);
    const next = nextAttemptItem(raw, payload, entry, 1_764_000_100_250);
    expect(next).toBe(
      '{"class":"A","args":[1.0,9007199254740993],"id":"x","enqueued_at":1764000100.25,"returns":1,"attempt":2,' +
        '"errors":[{"attempt":1,"failed_at":"2026/11/27 22:09:46 UTC","exception":"TypeError","error":"bad","backtrace":["a.js:1","b.js:2"]}]}',
    );
    const again = decodePayload(next);
    expect(attemptOf(again)).toBe(2);
    expect(attemptsOf(again)).toBeUndefined();
    const third = nextAttemptItem(next, again, attemptError(2, 't', failure), 1, 4);
    expect(third).toContain('"attempt":3,');
    expect(attemptOf(decodePayload(third))).toBe(3);
    expect(attemptsOf(decodePayload(third))).toBe(4);
    expect(errorHistoryOf(decodePayload(third)).map((e) => e.attempt)).toEqual([1, 2]);
  });

  it('a Ruby item without enqueued_at gains none', () => {
    const raw = '{"class":"A","args":[]}';
    const next = nextAttemptItem(raw, decodePayload(raw), attemptError(1, 't', failure), 5000);
    expect(next).toBe(
      '{"class":"A","args":[],"attempt":2,"errors":[{"attempt":1,"failed_at":"t","exception":"TypeError","error":"bad","backtrace":["a.js:1","b.js:2"]}]}',
    );
  });

  it('the history is bounded: the latest errors, short messages, few frames', () => {
    let raw = '{"class":"A","args":[]}';
    const long = { exception: 'E', error: 'x'.repeat(5000), backtrace: Array.from({ length: 50 }, String) };
    for (let attempt = 1; attempt <= 25; attempt++) {
      raw = nextAttemptItem(raw, decodePayload(raw), attemptError(attempt, 't', long), 0);
    }
    const history = errorHistoryOf(decodePayload(raw));
    expect(history).toHaveLength(MAX_ERRORS);
    expect(history.map((e) => e.attempt)).toEqual([16, 17, 18, 19, 20, 21, 22, 23, 24, 25]);
    expect(history[0]!.error.length).toBeLessThanOrEqual(1000);
    expect(history[0]!.backtrace).toHaveLength(5);
    expect(attemptOf(decodePayload(raw))).toBe(26);
  });
});

describe('a failure retried by hand', () => {
  it('starts again from its first attempt, keeping the retry options it was enqueued with', () => {
    const record =
      '{"failed_at":"2026/11/27 22:09:46 UTC","payload":{"class":"A","args":[1.0],"id":"abc","enqueued_at":1,"retry":{"attempts":4},"attempt":4,"errors":[]},"exception":"E","error":"x","backtrace":[],"worker":"w","queue":"q"}';
    const write = retryWrite(toFailure('failed', 0, record), retryTime(new Date(2000)));
    expect(typeof write === 'object' && write.job).toBe(
      '{"class":"A","args":[1.0],"id":"abc","enqueued_at":2,"retried_at":2,"retry":{"attempts":4}}',
    );
  });
});
