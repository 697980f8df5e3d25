// A little longer than the worker's other files (about 275 lines): the pool is one state machine (positions, spares,
// start-up attempts, replacements with backoff, recycling, closing) and reads best in one place; what becomes of the
// jobs of a dead child is the executor's (supervised-executor.ts, verdicts.ts).
import type { ChildStats, RestartReason } from '../../fleet/worker-stats.js';
import type { Logger } from '../../logging/logger.js';
import { type Assignment, ChildHandle, type ForkSettings, type KillCause } from './child-handle.js';
import { residentBytes } from './memory.js';
import type { FromChild } from './messages.js';
import { RestartLog } from './restart-log.js';
import { signalText } from './verdicts.js';

export interface PoolSettings {
  fork: ForkSettings;
  /** Positions (children that take jobs) and ready spares to keep; how many jobs each holds is the executor's. */
  count: number;
  spare: number;
}

/** What the pool tells the executor. */
export interface PoolEvents {
  /** A child became ready to take jobs. */
  capacity(): void;
  results(child: ChildHandle, message: Extract<FromChild, { type: 'results' }>): void;
  /** A running job reported progress (tracked jobs only, docs/status.md). */
  progress(child: ChildHandle, message: Extract<FromChild, { type: 'progress' }>): void;
  /** A child closed while holding jobs: each needs a verdict. */
  died(child: ChildHandle, held: Assignment[], code: number | null, signal: NodeJS.Signals | null): void;
}

const MAX_SPAWN_BACKOFF_MS = 10_000;
/** Children started for one position before the worker gives up starting (each killed before it was ready). */
const START_ATTEMPTS = 5;

/**
 * The supervisor's children: `count` positions, each held by one child that takes jobs, plus `spare` ready
 * children. A child that leaves its position (killed, recycled, dead) is replaced at once, by a ready spare when
 * there is one; each replacement is logged and recorded with its reason. Children that die before they are ready
 * are replaced with a growing backoff (up to 10 s). What becomes of the jobs a child held is the executor's business.
 */
export class ChildPool {
  readonly children = new Set<ChildHandle>();
  readonly restarts = new RestartLog();
  /** Shutting down: children that leave are not replaced. */
  stopping = false;
  private started = false;
  /** The worker takes no jobs (USR2, pause-all-workers): idle children say `Paused`. */
  private paused = false;
  private respawnTimer: NodeJS.Timeout | undefined;
  private spawnBackoffMs = 0;
  private nextSpawnAt = 0;

  constructor(
    private readonly settings: PoolSettings,
    private readonly logger: Logger,
    private readonly events: PoolEvents,
  ) {}

  /**
   * Starts the children and waits until each position has one that loaded the job modules. A child that cannot load
   * them stops the start-up with its reason; one killed before it was ready (a signal, the OOM killer) is replaced,
   * up to START_ATTEMPTS times per position. When `stopping` aborts first, the children still loading are killed
   * (they hold no job) and it throws the signal's reason.
   */
  async start(stopping: AbortSignal): Promise<void> {
    const cutShort = () => {
      this.stopping = true;
      for (const child of this.children) if (child.state === 'starting') child.signal('SIGKILL');
    };
    stopping.addEventListener('abort', cutShort, { once: true });
    try {
      if (stopping.aborted) cutShort();
      await Promise.all([
        ...Array.from({ length: this.settings.count }, (_, i) => this.startPosition(i)),
        ...Array.from({ length: this.settings.spare }, () => this.startPosition(null)),
      ]);
    } catch (error) {
      await this.close();
      if (stopping.aborted) throw stopping.reason;
      throw new Error(`A worker child process could not start: ${(error as Error).message}`);
    } finally {
      stopping.removeEventListener('abort', cutShort);
    }
    this.started = true;
  }

  private async startPosition(index: number | null): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      if (this.stopping) throw new Error('the worker is stopping');
      const child = this.spawn(index);
      try {
        await child.ready;
        return;
      } catch (error) {
        if (child.initError !== undefined || attempt >= START_ATTEMPTS || this.stopping) throw error;
        this.logger.warn(
          `Child ${child.pid} ended before it was ready (${(error as Error).message}); starting another`,
        );
      }
    }
  }

  /** Tells every child whether the worker is paused, for their idle titles; children started later are told too. */
  setPaused(paused: boolean): void {
    if (paused === this.paused) return;
    this.paused = paused;
    for (const child of this.children) child.send({ type: 'paused', paused });
  }

  /** The least busy child that takes jobs, holding fewer than `depth`. */
  pick(depth: number): ChildHandle | undefined {
    let best: ChildHandle | undefined;
    for (const child of this.children) {
      if (child.accepts(depth) && (!best || child.jobs.size < best.jobs.size)) best = child;
    }
    return best;
  }

  /** KILL a child; with a reason it counts as a restart (not for the kills of a shutdown). */
  kill(child: ChildHandle, cause: KillCause, reason?: RestartReason, detail = ''): void {
    if (child.killCause) {
      if (child.killCause.kind === cause.kind && 'slotIds' in cause && 'slotIds' in child.killCause) {
        for (const slotId of cause.slotIds) child.killCause.slotIds.add(slotId);
      }
      return;
    }
    child.killCause = cause;
    child.signal('SIGKILL');
    this.retire(child, 'killed', reason, detail);
  }

  /** Resque's TERM_CHILD: TERM now; the executor's `halt` KILLs it when the worker's grace period is over. */
  terminate(child: ChildHandle): void {
    if (child.termSent) return;
    child.termSent = true;
    child.signal('SIGTERM');
  }

  /** Replaced once its running jobs finish (memory soft limit, max jobs): it takes no more, then exits. */
  recycle(child: ChildHandle, reason: RestartReason, detail: string): void {
    if (child.state !== 'ready' && child.state !== 'spare') return;
    child.send({ type: 'drain', reason });
    this.retire(child, 'draining', reason, detail);
  }

  /** Lets idle children leave, kills those still holding jobs, and waits for all of them. */
  async close(graceMs = 5000): Promise<void> {
    this.stopping = true;
    this.started = false;
    clearTimeout(this.respawnTimer);
    const children = [...this.children];
    for (const child of children) {
      if (child.jobs.size > 0) this.kill(child, { kind: 'stop' });
      else child.send({ type: 'drain', reason: 'the worker is stopping' });
    }
    const all = Promise.all(children.map((child) => child.closed));
    const deadline = new Promise((resolve) => setTimeout(resolve, graceMs).unref());
    await Promise.race([all, deadline]);
    for (const child of children) child.signal('SIGKILL');
    await all;
  }

  /** The children for the stats hash, with their memory read now. */
  stats(): ChildStats[] {
    return [...this.children].flatMap((child) => {
      if (child.state === 'killed') return [];
      const rss = residentBytes(child.pid) ?? child.rssBytes;
      return [
        {
          index: child.index,
          pid: child.pid,
          state: child.state,
          startedAt: child.startedAt,
          jobsDone: child.done,
          jobsFailed: child.failed,
          running: child.jobs.size,
          rssBytes: rss ?? null,
          restarts: this.restarts.countAt(child.index),
          lastRestart: this.restarts.lastAt(child.index),
        },
      ];
    });
  }

  private spawn(index: number | null): ChildHandle {
    const child = new ChildHandle(this.settings.fork, index, {
      onReady: (c) => this.onReady(c),
      onMessage: (c, message) => this.onMessage(c, message),
      onClose: (c, code, signal) => this.onClose(c, code, signal),
    });
    if (this.paused) child.send({ type: 'paused', paused: true });
    this.children.add(child);
    return child;
  }

  private onReady(child: ChildHandle): void {
    if (child.state !== 'starting') return;
    child.state = child.index === null ? 'spare' : 'ready';
    if (child.state === 'spare') child.send({ type: 'role', spare: true });
    this.spawnBackoffMs = 0;
    this.logger.debug(`Child ${child.pid} ready${child.index === null ? ' (spare)' : ` (#${child.index})`}`);
    this.events.capacity();
  }

  private onMessage(child: ChildHandle, message: FromChild): void {
    if (message.type === 'results') this.events.results(child, message);
    else if (message.type === 'progress') this.events.progress(child, message);
    else if (message.type === 'exiting')
      child.lastWords = { kind: 'exit', slotId: message.slotId, code: message.code };
    else if (message.type === 'crash')
      child.lastWords = { kind: 'crash', slotId: message.slotId, error: message.error };
  }

  private onClose(child: ChildHandle, code: number | null, signal: NodeJS.Signals | null): void {
    this.children.delete(child);
    const held = [...child.jobs.values()];
    child.jobs.clear();
    if (child.state !== 'draining' && child.state !== 'killed' && !child.termSent) {
      const starting = child.state === 'starting';
      if (starting) {
        this.spawnBackoffMs = Math.min(Math.max(this.spawnBackoffMs * 2, 200), MAX_SPAWN_BACKOFF_MS);
        this.nextSpawnAt = Date.now() + this.spawnBackoffMs;
      }
      const how = signal
        ? signalText(signal, child.pid)
        : `Child process exited with code ${code} (pid ${child.pid})`;
      const reason: RestartReason = starting ? 'start-failed' : signal ? 'signal' : 'exit';
      const jobs = held.length > 0 ? ` while running ${held.length} job(s)` : '';
      const why = child.initError ? `: ${child.initError}` : '';
      this.retire(child, 'killed', reason, `${how}${jobs}${why}`);
    }
    if (held.length > 0) this.events.died(child, held, code, signal);
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
      const line = `${who} replaced (${reason}): ${detail}`;
      if (reason === 'memory-soft' || reason === 'max-jobs') this.logger.info(line);
      else this.logger.warn(line);
    }
    this.replenish();
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
    for (let index = 0; index < this.settings.count; index++) {
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
    for (let s = spares; s < this.settings.spare; s++) this.spawn(null);
    this.events.capacity();
  }
}
