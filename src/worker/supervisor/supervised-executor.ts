// Longer than the worker's other files (about 480 lines) for one reason: it is where a job's life in a child is
// decided, from assignment through its limits (time, memory, jobs per child) and aborts to the outcome of each death,
// and splitting those apart would scatter one state machine over several files. The children themselves
// (child-pool.ts, child-handle.ts), what becomes of the jobs of a dead child (verdicts.ts) and memory readings
// (memory.ts) live on their own.
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ResolvedConfig } from '../../config/resolve.js';
import { EXCEPTION } from '../../errors/exception-names.js';
import { JobTimeoutError, TermException } from '../../errors/index.js';
import type { ExecutorStats } from '../../fleet/worker-stats.js';
import { runFailureHooks } from '../../jobs/perform.js';
import type { JobRegistry } from '../../jobs/registry.js';
import type { Logger } from '../../logging/logger.js';
import { epochSeconds } from '../../protocol/time.js';
import type { Executor, ProgressSink } from '../executor.js';
import type { Reservation } from '../fetch/reservation.js';
import { describeError, failedWith, isFailure, type JobFailure, type Outcome } from '../outcome.js';
import { afterFailedAttempt, type RetryableKind } from '../retrying.js';
import type { Assignment, ChildHandle, ForkSettings } from './child-handle.js';
import { ChildPool } from './child-pool.js';
import { MB, megabytes, residentBytes } from './memory.js';
import { type FromChild, toWireError } from './messages.js';
import { ReadAhead } from './read-ahead.js';
import { judge, type Verdict } from './verdicts.js';

export type SupervisorConfig = Pick<
  ResolvedConfig,
  | 'count'
  | 'concurrency'
  | 'tracing'
  | 'spare'
  | 'jobTimeoutMs'
  | 'jobTimeoutGraceMs'
  | 'cancelGraceMs'
  | 'memorySoftLimitMb'
  | 'memoryHardLimitMb'
  | 'maxJobsPerChild'
  | 'termTimeoutMs'
  | 'maxReturns'
  | 'proclinePrefix'
  | 'queues'
>;

export interface SupervisorOptions {
  /** Absolute paths of the job modules every child loads once. */
  modules: readonly string[];
  config: SupervisorConfig;
  /** The same job definitions, for per-class time limits and the on_failure hooks of jobs whose child died. */
  jobs: JobRegistry;
  logger: Logger;
  setProcessTitle: boolean;
  /** The child's entry module and node flags; default: child.js beside this module, the supervisor's flags. */
  childEntry?: string;
  execArgv?: readonly string[];
}

const MEMORY_SAMPLE_MS = 500;

/**
 * Runs jobs in warm child processes (child.ts) behind the Executor seam; the worker keeps every piece of Redis
 * bookkeeping. The pool (child-pool.ts) keeps `count` children running up to `concurrency` jobs each, plus `spare`
 * ready ones; this class hands each job to the least busy child (with jobs reserved ahead waiting in it while jobs are
 * short, read-ahead.ts), enforces the limits (time, memory, jobs per child),
 * and turns each death into a verdict per job the child held (verdicts.ts): the job that caused it fails with the
 * reason, the others go back to their queues. TERM and USR1 reach it as the reasons of the jobs' AbortSignals
 * (TermException with the signal's name); any other reason fires the job's own AbortSignal in its child.
 */
export class SupervisedExecutor implements Executor {
  readonly slots: number;
  private readonly config: SupervisorConfig;
  private readonly logger: Logger;
  private readonly pool: ChildPool;
  private readonly pending: Assignment[] = [];
  /** The jobs of each reservation call's AbortSignal; gone with the signal. */
  private readonly batches = new WeakMap<AbortSignal, Assignment[]>();
  /** How many jobs each child holds: those it runs and, while jobs are short, jobs reserved ahead. */
  private readonly readAhead: ReadAhead;
  /** Running average of how long a job takes in its child (ms), from its start to its result; undefined until one ends. */
  private readonly timeouts = new Map<string, number>();
  private timeoutsPossible: boolean | undefined;
  private memoryTimer: NodeJS.Timeout | undefined;
  private progressSink: ProgressSink | undefined;

  constructor(private readonly options: SupervisorOptions) {
    const config = options.config;
    this.config = config;
    this.logger = options.logger;
    this.readAhead = new ReadAhead(config.concurrency);
    // Every job waiting in a child was reserved into a slot of its own.
    this.slots = config.count * (config.concurrency + this.readAhead.slots);
    const fork: ForkSettings = {
      entry: options.childEntry ?? defaultEntry(),
      execArgv: options.execArgv,
      init: {
        type: 'init',
        modules: [...options.modules],
        proclinePrefix: options.setProcessTitle ? config.proclinePrefix : null,
        queues: config.queues.filter((q) => !q.startsWith('!')).join(',') || '*',
        concurrency: config.concurrency,
        tracing: config.tracing,
      },
    };
    this.pool = new ChildPool({ fork, count: config.count, spare: config.spare }, this.logger, {
      capacity: () => this.dispatch(),
      results: (child, message) => this.onResults(child, message),
      progress: (child, message) => this.onProgress(child, message),
      died: (child, held, code, signal) => this.onDeath(child, held, code, signal),
    });
  }

  /** Starts the children and waits until each has loaded the job modules; throws if one cannot or `stopping` aborts. */
  async start(stopping: AbortSignal): Promise<void> {
    await this.pool.start(stopping);
    if (this.config.memorySoftLimitMb > 0 || this.config.memoryHardLimitMb > 0) {
      this.memoryTimer = setInterval(() => this.sampleMemory(), MEMORY_SAMPLE_MS);
      this.memoryTimer.unref();
    }
    const pids = [...this.pool.children].map((child) => child.pid);
    this.logger.info(
      `Started ${this.config.count} child process(es) and ${this.config.spare} spare(s): ${pids.join(', ')}`,
    );
  }

  /**
   * How many of its slots the worker should keep filled: a child's concurrency each, and the jobs reserved ahead,
   * which wait in the children, while jobs are short.
   */
  slotsWanted(): number {
    return this.config.count * this.readAhead.depth;
  }

  run(reservation: Reservation, signal: AbortSignal): Promise<Outcome> {
    return new Promise((resolve) => {
      const assignment: Assignment = {
        reservation,
        timeoutMs: this.anyTimeouts ? this.timeoutFor(reservation.className) : 0,
        startedAt: Date.now(),
        child: undefined,
        timer: undefined,
        timedOutAt: undefined,
        abortReason: undefined,
        started: false,
        cancelledEarly: false,
        decided: false,
        resolve,
      };
      this.watch(signal, assignment);
      this.pending.push(assignment);
      this.dispatch();
    });
  }

  /**
   * The jobs of one reservation call share one AbortSignal (processor.ts): one listener per signal, not per job,
   * tells each of its jobs that is not yet decided.
   */
  private watch(signal: AbortSignal, a: Assignment): void {
    let batch = this.batches.get(signal);
    if (!batch) {
      const jobs: Assignment[] = [];
      batch = jobs;
      this.batches.set(signal, jobs);
      signal.addEventListener(
        'abort',
        () => {
          for (const job of jobs) if (!job.decided) this.onAbort(job, signal.reason);
        },
        { once: true },
      );
    }
    batch.push(a);
  }

  /** The worker's TERM grace period is over: KILL the children still holding jobs; their jobs are decided as they close. */
  async halt(): Promise<void> {
    const busy = [...this.pool.children].filter((child) => child.jobs.size > 0);
    for (const child of busy) this.pool.kill(child, { kind: 'term' });
    await Promise.all(busy.map((child) => child.closed));
  }

  /** Lets idle children leave, kills those still holding jobs (the worker has given those back), and waits. */
  async close(): Promise<void> {
    clearInterval(this.memoryTimer);
    for (const a of this.pending.splice(0)) this.decide(a, givenBack('the worker stopped', false));
    await this.pool.close(this.config.termTimeoutMs + 1000);
  }

  /** `Forked <pids> at <epoch>`: the busy children and when the oldest running job started, as Ruby's parent shows. */
  busyTitle(): string | undefined {
    const busy = [...this.pool.children].filter((child) => child.jobs.size > 0);
    if (busy.length === 0) return undefined;
    const since = Math.min(
      ...busy.flatMap((child) => [...child.jobs.values()].filter((a) => a.started).map((a) => a.startedAt)),
      Date.now(),
    );
    return `Forked ${busy.map((child) => child.pid).join(',')} at ${epochSeconds(new Date(since))}`;
  }

  stats(): ExecutorStats {
    return { children: this.pool.stats(), ...this.pool.restarts.summary() };
  }

  setPaused(paused: boolean): void {
    this.pool.setPaused(paused);
  }

  /** Whether any job can have a time limit; if none can, a job's class is not even looked at on the way in. */
  private get anyTimeouts(): boolean {
    this.timeoutsPossible ??=
      this.config.jobTimeoutMs > 0 ||
      this.options.jobs.names.some((name) => (this.options.jobs.resolve(name)?.timeoutMs ?? 0) > 0);
    return this.timeoutsPossible;
  }

  private timeoutFor(className: string): number {
    let ms = this.timeouts.get(className);
    if (ms === undefined) {
      ms = this.options.jobs.resolve(className)?.timeoutMs ?? this.config.jobTimeoutMs;
      this.timeouts.set(className, ms);
    }
    return ms;
  }

  private dispatch(): void {
    while (this.pending.length > 0) {
      const child = this.pool.pick(this.readAhead.depth);
      if (!child) return;
      this.assign(child, this.pending.shift()!);
    }
  }

  private assign(child: ChildHandle, a: Assignment): void {
    a.child = child;
    a.startedAt = Date.now();
    child.jobs.set(a.reservation.slotId, a);
    child.given++;
    child.run(a.reservation.data());
    if (a.abortReason) this.sendAbort(a);
    const max = this.config.maxJobsPerChild;
    if (max > 0 && child.given >= max) {
      this.pool.recycle(child, 'max-jobs', `it was given ${child.given} jobs (maxJobsPerChild ${max})`);
    }
  }

  private onResults(child: ChildHandle, message: Extract<FromChild, { type: 'results' }>): void {
    if (message.rssBytes !== undefined) child.rssBytes = message.rssBytes;
    const now = Date.now();
    for (const { slotId, token, outcome } of message.results) {
      const a = child.jobs.get(slotId);
      if (!a || a.reservation.token !== token) continue;
      child.jobs.delete(slotId);
      if (outcome.kind === 'given-back') {
        // It never started (aborted, or the child was told to stop, while it waited there).
      } else {
        if (isFailure(outcome)) child.failed++;
        else child.done++;
        this.readAhead.timed(now - a.startedAt);
      }
      this.decide(a, a.timedOutAt !== undefined ? this.timedOut(a, outcome) : outcome);
    }
    for (const slotId of message.started) {
      const a = child.jobs.get(slotId);
      if (a && !a.decided) this.onStarted(child, a, now);
    }
    if (message.rssBytes !== undefined) this.checkMemory(child);
    this.dispatch();
  }

  /** The child starts the job: its time limit (and the grace of a cancel that came before) begins. */
  private onStarted(child: ChildHandle, a: Assignment, now: number): void {
    a.started = true;
    a.startedAt = now;
    if (a.timeoutMs > 0) a.timer = setTimeout(() => this.onTimeout(a), a.timeoutMs);
    if (a.cancelledEarly) this.startCancelGrace(child, a);
  }

  /** Where tracked jobs' progress goes: the worker's status tracker, which writes it. */
  reportProgressTo(sink: ProgressSink): void {
    this.progressSink = sink;
  }

  private onProgress(child: ChildHandle, message: Extract<FromChild, { type: 'progress' }>): void {
    const a = child.jobs.get(message.slotId);
    if (a && a.reservation.token === message.token && !a.decided)
      this.progressSink?.(a.reservation, message.value);
  }

  private onTimeout(a: Assignment): void {
    const child = a.child;
    const { slotId, token, queue, className } = a.reservation;
    if (!child || a.decided || child.jobs.get(slotId) !== a) return;
    const grace = this.config.jobTimeoutGraceMs;
    a.timedOutAt = Date.now();
    child.send({ type: 'timeout', slotId, token, timeoutMs: a.timeoutMs });
    this.logger.warn(
      `${className} on ${queue} passed its timeout of ${a.timeoutMs} ms in child ${child.pid}: ` +
        `abort signal sent; the child is killed if the job still runs in ${grace} ms`,
    );
    a.timer = setTimeout(() => {
      if (a.decided || child.jobs.get(slotId) !== a) return;
      const detail = `${className} on ${queue} ran past its timeout of ${a.timeoutMs} ms and did not stop within ${grace} ms`;
      this.pool.kill(child, { kind: 'timeout', slotIds: new Set([slotId]) }, 'timeout', detail);
    }, grace);
  }

  /**
   * TERM and USR1 arrive as the reasons of the jobs' AbortSignals (Worker.stop and Worker.abortRunning); any other
   * reason (Worker.abortRunning with the application's own) is passed on to the job's AbortSignal in its child.
   */
  private onAbort(a: Assignment, reason: unknown): void {
    if (a.decided) return;
    const signal = reason instanceof TermException ? reason.signal : undefined;
    if (signal === 'SIGUSR1') {
      const detail = `the worker was sent USR1 while it ran ${a.reservation.className}`;
      if (a.child) this.pool.kill(a.child, { kind: 'usr1' }, 'usr1', detail);
      return;
    }
    if (signal !== 'SIGTERM') {
      a.abortReason = toWireError(reason);
      if (a.child) this.sendAbort(a);
      return;
    }
    this.pool.stopping = true;
    if (a.child) {
      this.pool.terminate(a.child);
      return;
    }
    this.pending.splice(this.pending.indexOf(a), 1);
    this.decide(a, failedWith('interrupted', new TermException('SIGTERM'), EXCEPTION.term));
  }

  /**
   * A cancel (docs/cancel.md): a job not yet in a child ends here; one in a child has its AbortSignal fired there,
   * and its child is killed if the job still runs `cancelGraceMs` later (its other jobs go back to their queues).
   */
  cancel(reservation: Reservation, reason: Error): void {
    const waiting = this.pending.findIndex((a) => a.reservation === reservation);
    if (waiting >= 0) {
      const [a] = this.pending.splice(waiting, 1);
      if (a) this.decide(a, { kind: 'cancelled' });
      return;
    }
    const { slotId } = reservation;
    const child = [...this.pool.children].find((c) => c.jobs.get(slotId)?.reservation === reservation);
    const a = child?.jobs.get(slotId);
    if (!child || !a || a.decided || a.abortReason) return;
    a.abortReason = toWireError(reason);
    this.sendAbort(a);
    // One still waiting in its child is given back by it without running, or its grace begins when it starts.
    if (a.started) this.startCancelGrace(child, a);
    else a.cancelledEarly = true;
  }

  /** Its child is killed if the cancelled job still runs `cancelGraceMs` from now. */
  private startCancelGrace(child: ChildHandle, a: Assignment): void {
    const { slotId, className, queue } = a.reservation;
    const grace = this.config.cancelGraceMs;
    clearTimeout(a.timer);
    a.timer = setTimeout(() => {
      if (a.decided || child.jobs.get(slotId) !== a) return;
      const detail = `${className} on ${queue} was cancelled and did not stop within ${grace} ms`;
      this.pool.kill(child, { kind: 'cancel', slotIds: new Set([slotId]) }, 'cancel', detail);
    }, grace);
  }

  private sendAbort(a: Assignment): void {
    const { slotId, token } = a.reservation;
    if (a.child && a.abortReason) a.child.send({ type: 'abort', slotId, token, reason: a.abortReason });
  }

  private onDeath(
    child: ChildHandle,
    held: Assignment[],
    code: number | null,
    signal: NodeJS.Signals | null,
  ): void {
    const death = { pid: child.pid, code, signal, killCause: child.killCause, lastWords: child.lastWords };
    for (const [a, verdict] of judge(death, held, this.config)) void this.apply(child, a, verdict);
    this.dispatch();
  }

  private async apply(child: ChildHandle, a: Assignment, verdict: Verdict): Promise<void> {
    if (verdict.kind === 'cancelled') {
      this.decide(a, { kind: 'cancelled' });
      return;
    }
    if (verdict.kind === 'return') {
      this.decide(a, givenBack(verdict.reason, verdict.countReturn));
      return;
    }
    child.failed++;
    const error = verdict.hooks ? await this.failureHooks(a, verdict.error) : verdict.error;
    const failure = describeError(error, verdict.exception);
    this.decide(
      a,
      verdict.as === 'interrupted'
        ? { kind: 'interrupted', failure }
        : this.afterFailure(a, verdict.as, failure, verdict.error),
    );
  }

  /** A job its child reported stopped after its time limit: failed as timed out whatever it threw, maybe retried. */
  private timedOut(a: Assignment, outcome: Outcome): Outcome {
    if (!isFailure(outcome)) return outcome;
    const error = new JobTimeoutError(a.timeoutMs, 'it stopped after its abort signal fired');
    const failure = { ...outcome.failure, exception: EXCEPTION.jobTimeout, error: error.message };
    return this.afterFailure(a, 'timed-out', failure, error);
  }

  /** Whether a failure the supervisor decided (the job's child died, or its time ran out) is retried. */
  private afterFailure(a: Assignment, kind: RetryableKind, failure: JobFailure, cause: Error): Outcome {
    const payload = a.reservation.payload;
    const definition = payload && this.options.jobs.resolve(payload.class);
    return afterFailedAttempt(kind, failure, cause, definition, payload);
  }

  /** on_failure hooks of a job failed by the supervisor (its child died), run here as Ruby's parent does. */
  private async failureHooks(a: Assignment, error: Error): Promise<Error> {
    const payload = a.reservation.payload;
    const definition = payload && this.options.jobs.resolve(payload.class);
    if (!payload || !definition) return error;
    try {
      return await runFailureHooks(definition, error, payload.args);
    } catch (hookError) {
      this.logger.error(`on_failure hook failed for ${payload.class}: ${String(hookError)}`);
      return error;
    }
  }

  /** The job's outcome is known: it is resolved once, and its timer stops. */
  private decide(a: Assignment, outcome: Outcome): void {
    if (a.decided) return;
    a.decided = true;
    clearTimeout(a.timer);
    a.resolve(outcome);
  }

  private sampleMemory(): void {
    for (const child of this.pool.children) {
      if (child.killCause) continue;
      const rss = residentBytes(child.pid);
      if (rss !== undefined) child.rssBytes = rss;
      this.checkMemory(child);
    }
  }

  private checkMemory(child: ChildHandle): void {
    const rss = child.rssBytes;
    if (rss === null || child.killCause) return;
    const { memorySoftLimitMb: soft, memoryHardLimitMb: hard } = this.config;
    if (hard > 0 && rss > hard * MB) {
      const detail = `resident memory ${megabytes(rss)} MB passed the hard limit of ${hard} MB`;
      this.pool.kill(child, { kind: 'memory-hard', rssBytes: rss }, 'memory-hard', detail);
    } else if (soft > 0 && rss > soft * MB) {
      const detail = `resident memory ${megabytes(rss)} MB passed the soft limit of ${soft} MB; it leaves once its ${child.jobs.size} running job(s) finish`;
      this.pool.recycle(child, 'memory-soft', detail);
    }
  }
}

function givenBack(reason: string, countReturn: boolean): Outcome {
  return { kind: 'given-back', reason, countReturn };
}

/** child.js beside this module (child.ts when running from the sources). */
function defaultEntry(): string {
  const here = fileURLToPath(import.meta.url);
  return join(dirname(here), `child${extname(here)}`);
}
