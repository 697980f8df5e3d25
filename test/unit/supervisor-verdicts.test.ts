// What becomes of each job a dead child held (src/worker/supervisor/verdicts.ts): the one that caused the death
// fails with the reason and the numbers, the others go back to their queue.
import { describe, expect, it } from 'vitest';
import { Reservation } from '../../src/worker/fetch/reservation.js';
import type { Assignment } from '../../src/worker/supervisor/child-handle.js';
import { type Death, judge, type Verdict } from '../../src/worker/supervisor/verdicts.js';

const settings = { jobTimeoutGraceMs: 200, memoryHardLimitMb: 100, termTimeoutMs: 4000, maxReturns: 3 };

function job(slotId: string, raw = '{"class":"Job","args":[1]}', timeoutMs = 0): Assignment {
  return {
    reservation: new Reservation({ slotId, token: 'x'.repeat(16), queue: 'q', raw }),
    timeoutMs,
    startedAt: 0,
    child: undefined,
    timer: undefined,
    timedOutAt: undefined,
    abortReason: undefined,
    started: true,
    cancelledEarly: false,
    decided: false,
    resolve: () => {},
  };
}

const death = (extra: Partial<Death>): Death => ({
  pid: 42,
  code: null,
  signal: null,
  killCause: undefined,
  lastWords: undefined,
  ...extra,
});

function summary(verdicts: Map<Assignment, Verdict>): Array<[string, string, string]> {
  return [...verdicts].map(([a, v]) =>
    v.kind === 'fail'
      ? [a.reservation.slotId, v.exception, v.error.message]
      : v.kind === 'cancelled'
        ? [a.reservation.slotId, 'cancelled', '']
        : [a.reservation.slotId, v.countReturn ? 'return counted' : 'return', v.reason],
  );
}

describe('verdicts on a dead child', () => {
  it('timeout: the timed-out job fails with the numbers, the others go back untouched', () => {
    const [a, b] = [job('s1', undefined, 500), job('s2')];
    const verdicts = judge(
      death({ signal: 'SIGKILL', killCause: { kind: 'timeout', slotIds: new Set(['s1']) } }),
      [a, b],
      settings,
    );
    expect(summary(verdicts)).toEqual([
      [
        's1',
        'JobTimeoutError',
        'Job exceeded its timeout of 500 ms; it did not stop within 200 ms of its abort signal, so child 42 was killed (SIGKILL)',
      ],
      ['s2', 'return', 'child 42 was killed because another of its jobs ran past its time limit'],
    ]);
  });

  it('cancel: the cancelled job ends cancelled (no failure), the others go back untouched', () => {
    const [a, b] = [job('s1'), job('s2')];
    const verdicts = judge(
      death({ signal: 'SIGKILL', killCause: { kind: 'cancel', slotIds: new Set(['s1']) } }),
      [a, b],
      settings,
    );
    expect(summary(verdicts)).toEqual([
      ['s1', 'cancelled', ''],
      ['s2', 'return', 'child 42 was killed because another of its jobs was cancelled and did not stop'],
    ]);
  });

  it('hard memory limit: one job fails with MemoryLimitError; with several, each goes back counted', () => {
    const one = judge(
      death({ killCause: { kind: 'memory-hard', rssBytes: 150 * 1024 * 1024 } }),
      [job('s1')],
      settings,
    );
    expect(summary(one)).toEqual([
      [
        's1',
        'MemoryLimitError',
        'Child process used 150 MB, past the hard memory limit of 100 MB; child 42 was killed (SIGKILL) while running this job',
      ],
    ]);
    const two = judge(
      death({ killCause: { kind: 'memory-hard', rssBytes: 150 * 1024 * 1024 } }),
      [job('s1'), job('s2', '{"class":"Job","args":[2],"returns":3}')],
      settings,
    );
    const [first, second] = summary(two);
    expect(first).toEqual([
      's1',
      'return counted',
      'child 42 died running 2 jobs; which one caused it is unknown',
    ]);
    expect(second?.[1]).toBe('MemoryLimitError');
    expect(second?.[2]).toMatch(/already been given back to its queue 3 times, and maxReturns is 3$/);
  });

  it('a job that called process.exit fails with the code; its neighbour goes back untouched', () => {
    const verdicts = judge(
      death({ code: 3, lastWords: { kind: 'exit', slotId: 's2', code: 3 } }),
      [job('s1'), job('s2')],
      settings,
    );
    expect(summary(verdicts)).toEqual([
      [
        's1',
        'return',
        'child 42 died running another job (Child process exited with code 3 (pid 42): the job called process.exit(3))',
      ],
      [
        's2',
        'Resque::DirtyExit',
        'Child process exited with code 3 (pid 42): the job called process.exit(3)',
      ],
    ]);
  });

  it('an uncaught exception names the error and keeps its backtrace', () => {
    const error = {
      name: 'RangeError',
      message: 'boom',
      stack: 'RangeError: boom\n    at tick (/app/job.js:3:9)',
    };
    const verdicts = judge(
      death({ code: 1, lastWords: { kind: 'crash', slotId: 's1', error } }),
      [job('s1')],
      settings,
    );
    const verdict = verdicts.values().next().value as Extract<Verdict, { kind: 'fail' }>;
    expect(verdict.error.message).toBe(
      'Child process exited with code 1 (pid 42) after an uncaught RangeError: boom',
    );
    expect(verdict.error.stack).toContain('at tick (/app/job.js:3:9)');
  });

  it('a signal nobody here sent (kill -9, the OOM killer) blames no job: each goes back counted, then fails', () => {
    expect(summary(judge(death({ signal: 'SIGKILL' }), [job('s1')], settings))).toEqual([
      ['s1', 'return counted', 'child 42 died running 1 jobs; which one caused it is unknown'],
    ]);
    const spent = job('s1', '{"class":"Job","args":[1],"returns":3}');
    expect(summary(judge(death({ signal: 'SIGKILL' }), [spent], settings))[0]?.[1]).toBe('Resque::DirtyExit');
    expect(
      summary(judge(death({ signal: 'SIGSEGV' }), [job('s1'), job('s2')], settings)).map((v) => v[1]),
    ).toEqual(['return counted', 'return counted']);
  });

  it('USR1 gives every job of the child back untouched; a TERM kill fails them as TermException, without hooks', () => {
    const usr1 = judge(
      death({ signal: 'SIGKILL', killCause: { kind: 'usr1' } }),
      [job('s1'), job('s2')],
      settings,
    );
    expect(summary(usr1).map((v) => v[1])).toEqual(['return', 'return']);
    const term = [
      ...judge(death({ signal: 'SIGKILL', killCause: { kind: 'term' } }), [job('s1')], settings).values(),
    ];
    expect(term[0]).toMatchObject({ kind: 'fail', exception: 'Resque::TermException', hooks: false });
  });

  it('a job the child never said it started goes back untouched, whatever killed the child', () => {
    const unstarted = { ...job('s2'), started: false };
    for (const killCause of [
      undefined,
      { kind: 'usr1' } as const,
      { kind: 'memory-hard', rssBytes: 1 } as const,
    ]) {
      const verdicts = judge(death({ signal: 'SIGKILL', killCause }), [job('s1'), unstarted], settings);
      expect(verdicts.get(unstarted)).toEqual({
        kind: 'return',
        reason: 'child 42 died before it started the job',
        countReturn: false,
      });
    }
  });
});
