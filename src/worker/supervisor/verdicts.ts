import { constants } from 'node:os';
import { EXCEPTION } from '../../errors/exception-names.js';
import { DirtyExit, JobTimeoutError, MemoryLimitError } from '../../errors/index.js';
import type { FailureKind } from '../outcome.js';
import type { Assignment, KillCause, LastWords } from './child-handle.js';
import { megabytes } from './memory.js';
import { fromWireError } from './messages.js';

/** How a child ended, as far as the supervisor knows. */
export interface Death {
  pid: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  killCause: KillCause | undefined;
  lastWords: LastWords | undefined;
}

export interface VerdictSettings {
  jobTimeoutGraceMs: number;
  memoryHardLimitMb: number;
  termTimeoutMs: number;
  maxReturns: number;
}

/** What becomes of one job its child held when it died. */
export type Verdict =
  /**
   * Fail it as `as`: `exception` is the name written to the record; on_failure hooks run unless `hooks` is false.
   */
  | { kind: 'fail'; as: FailureKind; error: Error; exception: string; hooks: boolean }
  /** Back to the head of its queue; counted (`"returns":n`) only when it may have caused the death. */
  | { kind: 'return'; reason: string; countReturn: boolean }
  /** It was cancelled, and its child killed because it did not stop in time. */
  | { kind: 'cancelled' };

/**
 * Decides, for each job a dead child held, whether it failed and why, or goes back to its queue. The job that
 * caused the death fails with the reason and the numbers (timeout, memory, signal, exit code); the others go back
 * untouched. When the cause cannot be pinned on one of several jobs, each goes back counted, so a job that keeps
 * killing its children is failed after `maxReturns` returns, as the reaper does for dead workers.
 */
export function judge(death: Death, allHeld: readonly Assignment[], settings: VerdictSettings) {
  const verdicts = new Map<Assignment, Verdict>();
  // Jobs the child never said it had were never run: whatever killed it, they go back untouched.
  for (const a of allHeld.filter((a) => !a.started)) {
    verdicts.set(a, {
      kind: 'return',
      reason: `child ${death.pid} died before it started the job`,
      countReturn: false,
    });
  }
  const held = allHeld.filter((a) => a.started);
  const cause = death.killCause;
  const innocent = (why: string): Verdict => ({ kind: 'return', reason: why, countReturn: false });
  const pid = death.pid;
  if (cause?.kind === 'timeout') {
    for (const a of held) {
      verdicts.set(
        a,
        cause.slotIds.has(a.reservation.slotId)
          ? fail(
              'timed-out',
              new JobTimeoutError(
                a.timeoutMs,
                `it did not stop within ${settings.jobTimeoutGraceMs} ms of its abort signal, so child ${pid} was killed (SIGKILL)`,
              ),
              EXCEPTION.jobTimeout,
            )
          : innocent(`child ${pid} was killed because another of its jobs ran past its time limit`),
      );
    }
  } else if (cause?.kind === 'cancel') {
    for (const a of held)
      verdicts.set(
        a,
        cause.slotIds.has(a.reservation.slotId)
          ? { kind: 'cancelled' }
          : innocent(`child ${pid} was killed because another of its jobs was cancelled and did not stop`),
      );
  } else if (cause?.kind === 'memory-hard') {
    const mb = megabytes(cause.rssBytes);
    const limit = settings.memoryHardLimitMb;
    for (const a of held) {
      const verdict =
        held.length === 1
          ? fail(
              'over-memory',
              new MemoryLimitError(mb, limit, `child ${pid} was killed (SIGKILL) while running this job`),
              EXCEPTION.memoryLimit,
            )
          : unattributed(a, held.length, settings, (detail) => new MemoryLimitError(mb, limit, detail), pid);
      verdicts.set(a, verdict);
    }
  } else if (cause?.kind === 'usr1') {
    // An operator's request to stop the current jobs, not evidence that they are broken (Ruby fails them).
    for (const a of held)
      verdicts.set(a, innocent(`child ${pid} was killed because the worker was sent USR1`));
  } else if (cause?.kind === 'term') {
    const error = new Error(
      `Job still running ${settings.termTimeoutMs} ms after TERM was sent to child ${pid}; the child was killed (SIGKILL)`,
    );
    error.name = 'TermException';
    for (const a of held)
      verdicts.set(a, { kind: 'fail', as: 'interrupted', error, exception: EXCEPTION.term, hooks: false });
  } else if (cause?.kind === 'stop') {
    for (const a of held) verdicts.set(a, innocent('the worker stopped'));
  } else {
    ownDeath(death, held, settings, verdicts);
  }
  return verdicts;
}

/** A child that died without being told to: exit code or signal, and the job it named before dying if any. */
function ownDeath(
  death: Death,
  held: readonly Assignment[],
  settings: VerdictSettings,
  out: Map<Assignment, Verdict>,
) {
  const base = death.signal
    ? signalText(death.signal, death.pid)
    : `Child process exited with code ${death.code} (pid ${death.pid})`;
  const words = death.lastWords;
  let text = base;
  let stack: string | undefined;
  if (words?.kind === 'exit') text = `${base}: the job called process.exit(${words.code})`;
  if (words?.kind === 'crash') {
    text = `${base} after an uncaught ${words.error.name}: ${words.error.message}`;
    stack = fromWireError(words.error).stack;
  }
  // Only the job's own last words (process.exit, an uncaught exception) blame it. A signal nobody here sent (the OOM
  // killer, kill -9) or a silent exit blames no job: each goes back counted, and fails after `maxReturns`.
  const named = held.find((a) => a.reservation.slotId === words?.slotId);
  const culprit = named ?? (words && held.length === 1 ? held[0] : undefined);
  for (const a of held) {
    if (culprit === undefined) {
      out.set(
        a,
        unattributed(a, held.length, settings, (detail) => new DirtyExit(`${text}; ${detail}`), death.pid),
      );
    } else if (a === culprit) {
      const error = new DirtyExit(text);
      if (stack)
        error.stack = `${error.name}: ${text}\n${stack
          .split('\n')
          .filter((l) => /^\s+at /.test(l))
          .join('\n')}`;
      out.set(a, fail('dirty-exit', error, EXCEPTION.dirtyExit));
    } else {
      out.set(a, {
        kind: 'return',
        reason: `child ${death.pid} died running another job (${text})`,
        countReturn: false,
      });
    }
  }
}

function unattributed(
  a: Assignment,
  count: number,
  settings: VerdictSettings,
  make: (detail: string) => Error,
  pid: number,
): Verdict {
  const returns = a.reservation.returns;
  if (returns >= settings.maxReturns) {
    const error = make(
      `child ${pid} was running ${count} jobs and which one caused it is unknown; this one had already been given back to its queue ${returns} times, and maxReturns is ${settings.maxReturns}`,
    );
    return error instanceof DirtyExit
      ? fail('dirty-exit', error, EXCEPTION.dirtyExit)
      : fail('over-memory', error, EXCEPTION.memoryLimit);
  }
  return {
    kind: 'return',
    reason: `child ${pid} died running ${count} jobs; which one caused it is unknown`,
    countReturn: true,
  };
}

function fail(as: FailureKind, error: Error, exception: string): Verdict {
  return { kind: 'fail', as, error, exception, hooks: true };
}

/** Ruby's `Child process received unhandled signal …`, with the signal's number and the child's pid. */
export function signalText(signal: NodeJS.Signals, pid: number): string {
  const number = constants.signals[signal];
  return `Child process received unhandled signal ${signal} (signal ${number ?? '?'}, pid ${pid})`;
}
