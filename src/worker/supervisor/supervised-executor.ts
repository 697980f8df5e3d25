import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ResolvedConfig } from '../../config/resolve.js';
import { TermException } from '../../errors/index.js';
import { runFailureHooks } from '../../jobs/perform.js';
import type { JobRegistry } from '../../jobs/registry.js';
import { decodePayload, type JobPayload, peekClassName } from '../../protocol/payload.js';
import { epochSeconds } from '../../protocol/time.js';
import type { ExecutorStats, RestartReason } from '../../registry/worker-stats.js';
import { describeFailure, type ExecutionResult, type Executor, type ReservedJob } from '../executor.js';
import type { Logger } from '../logger.js';
import {
  type Assignment,
  type ChildEvents,
  ChildHandle,
  type ForkSettings,
  type KillCause,
} from './child-handle.js';
import { MB, megabytes, residentBytes } from './memory.js';
import { type FromChild, fromWireError, type WireResult } from './messages.js';
import { RestartLog } from './restart-log.js';
import { judge, signalText, type Verdict } from './verdicts.js';

export type SupervisorConfig = Pick<
  ResolvedConfig,
  | 'count'
  | 'concurrency'
  | 'spare'
  | 'jobTimeoutMs'
  | 'jobTimeoutGraceMs'
  | 'memorySoftLimitMb'
  | 'memoryHardLimitMb'
  | 'maxJobsPerChild'
  | 'termTimeoutMs'
  | 'maxReturns'
  | 'logLevel'
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
const MAX_SPAWN_BACKOFF_MS = 10_000;

/**
 * Runs jobs in warm child processes (child.ts) behind the Executor seam; the worker keeps every piece of Redis
 * bookkeeping. It keeps `count` children busy with up to `concurrency` jobs each, plus `spare` ready ones, and
 * replaces a child that dies, times out, passes a memory limit or has run `maxJobsPerChild` jobs. Each death becomes
 * a verdict per job it held (verdicts.ts): the job that caused it fails with the reason, the others go back to their
 * queues. TERM and USR1 reach it as the reasons of the jobs' AbortSignals (TermException with the signal's name).
 */
export class SupervisedExecutor implements Executor {
  readonly slots: number;
  private readonly config: SupervisorConfig;
  private readonly logger: Logger;
  private readonly children = new Set<ChildHandle>();
  private readonly pending: Assignment[] = [];
  private readonly restarts = new RestartLog();
  private readonly timeouts = new Map<string, number>();
  private timeoutsPossible: boolean | undefined;
  private readonly fork: ForkSettings;
  private readonly events: ChildEvents;
  private started = false;
  /** TERM forwarded or closing: children that leave are not replaced. */
  private stopping = false;
  private memoryTimer: NodeJS.Timeout | undefined;
  private respawnTimer: NodeJS.Timeout | undefined;
  private spawnBackoffMs = 0;
  private nextSpawnAt = 0;

  constructor(private readonly options: SupervisorOptions) {
    this.config = options.config;
    this.logger = options.logger;
    this.slots = this.config.count * this.config.concurrency;
    this.fork = {
      entry: options.childEntry ?? defaultEntry(),
      execArgv: options.execArgv,
      init: {
        type: 'init',
        modules: [...options.modules],
        logLevel: this.config.logLevel,
        proclinePrefix: options.setProcessTitle ? this.config.proclinePrefix : null,
        queues: this.config.queues.filter((q) => !q.startsWith('!')).join(',') || '*',
        concurrency: this.config.concurrency,
      },
    };
    this.events = {
      onReady: (child) => this.onReady(child),
      onMessage: (child, message) => this.onMessage(child, message),
      onClose: (child, code, signal) => this.onClose(child, code, signal),
    };
  }

  /** Starts the children and waits until each has loaded the job modules; throws if one cannot. */
  async start(): Promise<void> {
    for (let i = 0; i < this.config.count; i++) this.spawn(i);
    for (let i = 0; i < this.config.spare; i++) this.spawn(null);
    try {
      await Promise.all([...this.children].map((child) => child.ready));
    } catch (error) {
      await this.close();
      throw new Error(`A worker child process could not start: ${(error as Error).message}`);
    }
    this.started = true;
    if (this.config.memorySoftLimitMb > 0 || this.config.memoryHardLimitMb > 0) {
      this.memoryTimer = setInterval(() => this.sampleMemory(), MEMORY_SAMPLE_MS);
      this.memoryTimer.unref();
    }
    this.logger.info(
      `Started ${this.config.count} child process(es) (${[...this.children].map((c) => c.pid).join(', ')})`,
    );
  }

  run(job: ReservedJob, _workerId: string, signal: AbortSignal): Promise<ExecutionResult> {
    return new Promise((resolve) => {
      const assignment: Assignment = {
        job,
        className: undefined,
        timeoutMs: this.anyTimeouts ? this.timeoutFor(classOf(job)) : 0,
        startedAt: Date.now(),
        child: undefined,
        timer: undefined,
        timedOutAt: undefined,
        settled: false,
        resolve,
      };
      signal.addEventListener('abort', () => this.onAbort(assignment, signal.reason), { once: true });
      this.pending.push(assignment);
      this.dispatch();
    });
  }

  /** The worker's TERM grace period is over: KILL the children still holding jobs; their jobs settle as they close. */
  async halt(): Promise<void> {
    const busy = [...this.children].filter((child) => child.jobs.size > 0);
    for (const child of busy) this.kill(child, { kind: 'term' });
    await Promise.all(busy.map((child) => child.closed));
  }

  /** Lets idle children leave, kills those still holding jobs (the worker has given those back), and waits. */
  async close(): Promise<void> {
    this.stopping = true;
    this.started = false;
    clearInterval(this.memoryTimer);
    clearTimeout(this.respawnTimer);
    for (const a of this.pending.splice(0)) this.settle(a, returned(a, 'the worker stopped', false));
    const children = [...this.children];
    for (const child of children) {
      if (child.jobs.size > 0) this.kill(child, { kind: 'stop' });
      else child.send({ type: 'drain', reason: 'the worker is stopping' });
    }
    const all = Promise.all(children.map((child) => child.closed));
    const deadline = new Promise((resolve) => setTimeout(resolve, this.config.termTimeoutMs + 1000).unref());
    await Promise.race([all, deadline]);
    for (const child of children) child.signal('SIGKILL');
    await all;
  }

  /** `Forked <pids> at <epoch>`: the busy children and when the oldest running job started, as Ruby's parent shows. */
  busyTitle(): string | undefined {
    const busy = [...this.children].filter((child) => child.jobs.size > 0);
    if (busy.length === 0) return undefined;
    const since = Math.min(...busy.flatMap((child) => [...child.jobs.values()].map((a) => a.startedAt)));
    return `Forked ${busy.map((child) => child.pid).join(',')} at ${epochSeconds(new Date(since))}`;
  }

  stats(): ExecutorStats {
    const children = [...this.children]
      .filter((child) => child.state !== 'killed')
      .map((child) => {
        const rss = residentBytes(child.pid) ?? child.rssBytes;
        return {
          index: child.index,
          pid: child.pid,
          state: child.state as Exclude<typeof child.state, 'killed'>,
          startedAt: child.startedAt,
          jobsDone: child.done,
          jobsFailed: child.failed,
          running: child.jobs.size,
          rssBytes: rss ?? null,
          restarts: this.restarts.countAt(child.index),
          lastRestart: this.restarts.lastAt(child.index),
        };
      });
    return { children, ...this.restarts.summary() };
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

  private spawn(index: number | null): void {
    this.children.add(new ChildHandle(this.fork, index, this.events));
  }

  private dispatch(): void {
    while (this.pending.length > 0) {
      let best: ChildHandle | undefined;
      for (const child of this.children) {
        if (child.accepts(this.config.concurrency) && (!best || child.jobs.size < best.jobs.size))
          best = child;
      }
      if (!best) return;
      this.assign(best, this.pending.shift()!);
    }
  }

  private assign(child: ChildHandle, a: Assignment): void {
    const { slotId, token, queue, raw } = a.job;
    a.child = child;
    a.startedAt = Date.now();
    child.jobs.set(slotId, a);
    child.given++;
    child.run({ slotId, token, queue, raw });
    if (a.timeoutMs > 0) a.timer = setTimeout(() => this.onTimeout(a), a.timeoutMs);
    const max = this.config.maxJobsPerChild;
    if (max > 0 && child.given >= max) {
      this.recycle(child, 'max-jobs', `it was given ${child.given} jobs (maxJobsPerChild ${max})`);
    }
  }

  private onReady(child: ChildHandle): void {
    if (child.state !== 'starting') return;
    child.state = child.index === null ? 'spare' : 'ready';
    if (child.state === 'spare') child.send({ type: 'role', spare: true });
    this.spawnBackoffMs = 0;
    this.logger.debug(`Child ${child.pid} ready${child.index === null ? ' (spare)' : ` (#${child.index})`}`);
    this.dispatch();
  }

  private onMessage(child: ChildHandle, message: FromChild): void {
    if (message.type === 'results') this.onResults(child, message);
    else if (message.type === 'exiting')
      child.lastWords = { kind: 'exit', slotId: message.slotId, code: message.code };
    else if (message.type === 'crash')
      child.lastWords = { kind: 'crash', slotId: message.slotId, error: message.error };
  }

  private onResults(child: ChildHandle, message: Extract<FromChild, { type: 'results' }>): void {
    if (message.rssBytes !== undefined) child.rssBytes = message.rssBytes;
    for (const { slotId, token, result } of message.results) {
      const a = child.jobs.get(slotId);
      if (!a || a.job.token !== token) continue;
      child.jobs.delete(slotId);
      const outcome = fromWireResult(result);
      if (outcome.kind === 'failed') child.failed++;
      else child.done++;
      this.settle(a, a.timedOutAt !== undefined ? timedOut(a, outcome) : outcome);
    }
    if (message.rssBytes !== undefined) this.checkMemory(child);
    this.dispatch();
  }

  private onTimeout(a: Assignment): void {
    const child = a.child;
    if (!child || a.settled || child.jobs.get(a.job.slotId) !== a) return;
    const grace = this.config.jobTimeoutGraceMs;
    a.timedOutAt = Date.now();
    child.send({ type: 'timeout', slotId: a.job.slotId, token: a.job.token, timeoutMs: a.timeoutMs });
    this.logger.warn(
      `${classOf(a)} on ${a.job.queue} passed its timeout of ${a.timeoutMs} ms in child ${child.pid}: ` +
        `abort signal sent; the child is killed if the job still runs in ${grace} ms`,
    );
    a.timer = setTimeout(() => {
      if (a.settled || child.jobs.get(a.job.slotId) !== a) return;
      const detail = `${classOf(a)} on ${a.job.queue} ran past its timeout of ${a.timeoutMs} ms and did not stop within ${grace} ms`;
      this.kill(child, { kind: 'timeout', slotIds: new Set([a.job.slotId]) }, 'timeout', detail);
    }, grace);
  }

  /** TERM and USR1 arrive as the reasons of the jobs' AbortSignals (Worker.stop and Worker.abortRunning). */
  private onAbort(a: Assignment, reason: unknown): void {
    if (a.settled || !(reason instanceof TermException)) return;
    if (reason.signal === 'SIGUSR1') {
      if (a.child)
        this.kill(a.child, { kind: 'usr1' }, 'usr1', `the worker was sent USR1 while it ran ${classOf(a)}`);
      return;
    }
    if (reason.signal !== 'SIGTERM') return;
    this.stopping = true;
    if (a.child) {
      this.terminate(a.child);
      return;
    }
    this.pending.splice(this.pending.indexOf(a), 1);
    const error = new TermException('SIGTERM');
    this.settle(a, this.failedResult(a, error, 'Resque::TermException'));
  }

  /** Resque's TERM_CHILD: TERM now; `halt` KILLs it when the worker's grace period (`termTimeoutMs`) is over. */
  private terminate(child: ChildHandle): void {
    if (child.termSent) return;
    child.termSent = true;
    child.signal('SIGTERM');
  }

  private kill(child: ChildHandle, cause: KillCause, reason?: RestartReason, detail = ''): void {
    if (child.killCause) {
      if (child.killCause.kind === 'timeout' && cause.kind === 'timeout') {
        for (const slotId of cause.slotIds) child.killCause.slotIds.add(slotId);
      }
      return;
    }
    child.killCause = cause;
    child.signal('SIGKILL');
    this.retire(child, 'killed', reason, detail);
  }

  /** Replaced once its running jobs finish (memory soft limit, max jobs): it takes no more, then exits. */
  private recycle(child: ChildHandle, reason: RestartReason, detail: string): void {
    if (child.state !== 'ready' && child.state !== 'spare') return;
    child.send({ type: 'drain', reason });
    this.retire(child, 'draining', reason, detail);
  }

  /** Takes a child out of its position, records why, and fills the position (a spare, or a new child). */
  private retire(
    child: ChildHandle,
    state: 'draining' | 'killed',
    reason?: RestartReason,
    detail = '',
  ): void {
    const index = child.index;
    const wasSpare = child.state === 'spare' || (child.state === 'starting' && index === null);
    child.index = null;
    child.state = state;
    if (reason && !this.stopping) {
      this.restarts.record({ at: Date.now(), index, pid: child.pid, reason, detail });
      const who = `Child ${child.pid}${index !== null ? ` (#${index})` : wasSpare ? ' (spare)' : ''}`;
      const quiet = reason === 'memory-soft' || reason === 'max-jobs';
      const line = `${who} replaced (${reason}): ${detail}`;
      if (quiet) this.logger.info(line);
      else this.logger.warn(line);
    }
    this.replenish();
  }

  private onClose(child: ChildHandle, code: number | null, signal: NodeJS.Signals | null): void {
    this.children.delete(child);
    const held = [...child.jobs.values()];
    child.jobs.clear();
    const expected = child.state === 'draining' || child.state === 'killed' || child.termSent;
    if (!expected) {
      const starting = child.state === 'starting';
      if (starting) {
        this.spawnBackoffMs = Math.min(Math.max(this.spawnBackoffMs * 2, 200), MAX_SPAWN_BACKOFF_MS);
        this.nextSpawnAt = Date.now() + this.spawnBackoffMs;
      }
      const how = signal
        ? signalText(signal, child.pid)
        : `Child process exited with code ${code} (pid ${child.pid})`;
      const reason: RestartReason = starting ? 'start-failed' : signal ? 'signal' : 'exit';
      this.retire(
        child,
        'killed',
        reason,
        `${how}${held.length > 0 ? ` while running ${held.length} job(s)` : ''}`,
      );
    }
    if (held.length > 0) {
      const death = { pid: child.pid, code, signal, killCause: child.killCause, lastWords: child.lastWords };
      for (const [a, verdict] of judge(death, held, this.config)) void this.apply(child, a, verdict);
    }
    this.dispatch();
  }

  private async apply(child: ChildHandle, a: Assignment, verdict: Verdict): Promise<void> {
    if (verdict.kind === 'return') {
      this.settle(a, returned(a, verdict.reason, verdict.countReturn));
      return;
    }
    child.failed++;
    const error = verdict.hooks ? await this.failureHooks(a, verdict.error) : verdict.error;
    this.settle(a, this.failedResult(a, error, verdict.exception));
  }

  /** on_failure hooks of a job failed by the supervisor (its child died), run here as Ruby's parent does. */
  private async failureHooks(a: Assignment, error: Error): Promise<Error> {
    const payload = tryDecode(a.job.raw);
    const definition = payload && this.options.jobs.resolve(payload.class);
    if (!payload || !definition) return error;
    try {
      return await runFailureHooks(definition, error, payload.args);
    } catch (hookError) {
      this.logger.error(`on_failure hook failed for ${payload.class}: ${String(hookError)}`);
      return error;
    }
  }

  private failedResult(a: Assignment, error: Error, exception: string): ExecutionResult {
    const payload = tryDecode(a.job.raw);
    const failure = { ...describeFailure(error, a.job.raw, payload), exception };
    return { kind: 'failed', className: classOf(a), failure, cause: error };
  }

  private settle(a: Assignment, result: ExecutionResult): void {
    if (a.settled) return;
    a.settled = true;
    clearTimeout(a.timer);
    a.resolve(result);
  }

  private sampleMemory(): void {
    for (const child of this.children) {
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
      this.kill(child, { kind: 'memory-hard', rssBytes: rss }, 'memory-hard', detail);
    } else if (soft > 0 && rss > soft * MB) {
      const detail = `resident memory ${megabytes(rss)} MB passed the soft limit of ${soft} MB; it leaves once its ${child.jobs.size} running job(s) finish`;
      this.recycle(child, 'memory-soft', detail);
    }
  }

  /** Fills every empty position (a ready spare first, else a new child) and tops up the spares. */
  private replenish(): void {
    if (this.stopping || !this.started) return;
    const wait = this.nextSpawnAt - Date.now();
    if (wait > 0) {
      this.respawnTimer ??= setTimeout(() => {
        this.respawnTimer = undefined;
        this.replenish();
      }, wait);
      return;
    }
    const taken = new Set([...this.children].map((child) => child.index));
    for (let index = 0; index < this.config.count; index++) {
      if (taken.has(index)) continue;
      const spare = [...this.children].find((child) => child.state === 'spare');
      if (spare) {
        spare.index = index;
        spare.state = 'ready';
        spare.send({ type: 'role', spare: false });
        this.logger.info(`Spare child ${spare.pid} takes position #${index}`);
      } else {
        this.spawn(index);
      }
    }
    const spares = [...this.children].filter(
      (child) => child.index === null && (child.state === 'spare' || child.state === 'starting'),
    ).length;
    for (let s = spares; s < this.config.spare; s++) this.spawn(null);
    this.dispatch();
  }
}

function returned(a: Assignment, reason: string, countReturn: boolean): ExecutionResult {
  return { kind: 'returned', className: classOf(a), reason, countReturn };
}

/** A timed-out job that stopped when its signal fired: failed as timed out, whatever it threw. */
function timedOut(a: Assignment, result: ExecutionResult): ExecutionResult {
  if (result.kind !== 'failed') return result;
  const error = `Job exceeded its timeout of ${a.timeoutMs} ms; it stopped after its abort signal fired`;
  return { ...result, failure: { ...result.failure, exception: 'JobTimeoutError', error } };
}

/** The job's class name, read from its payload the first time it is asked for. */
function classOf(a: Assignment | ReservedJob): string {
  if (!('job' in a)) return peekClassName(a.raw) ?? '(malformed payload)';
  a.className ??= peekClassName(a.job.raw) ?? '(malformed payload)';
  return a.className;
}

function fromWireResult(wire: WireResult): ExecutionResult {
  if (wire.kind !== 'failed') return wire;
  return {
    kind: 'failed',
    className: wire.className,
    failure: wire.failure,
    cause: fromWireError(wire.cause),
  };
}

function tryDecode(raw: string): JobPayload | undefined {
  try {
    return decodePayload(raw);
  } catch {
    return undefined;
  }
}

/** child.js beside this module (child.ts when running from the sources). */
function defaultEntry(): string {
  const here = fileURLToPath(import.meta.url);
  return join(dirname(here), `child${extname(here)}`);
}
