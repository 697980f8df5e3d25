import { type ChildProcess, fork } from 'node:child_process';
import type { Reservation, ReservationData } from '../fetch/reservation.js';
import type { Outcome } from '../outcome.js';
import { type FromChild, isFromChild, type ToChild, type WireError } from './messages.js';

/** starting → ready (active) or spare → draining (recycled: finishes its jobs, then exits) or killed → gone. */
export type ChildState = 'starting' | 'ready' | 'spare' | 'draining' | 'killed';

/** Why the supervisor killed a child: decides what becomes of the jobs it held. */
export type KillCause =
  | { kind: 'timeout'; slotIds: Set<string> }
  /** Jobs it ran were cancelled and did not stop within the grace period. */
  | { kind: 'cancel'; slotIds: Set<string> }
  | { kind: 'memory-hard'; rssBytes: number }
  | { kind: 'usr1' }
  /** The TERM grace period of a shutdown ran out. */
  | { kind: 'term' }
  /** The executor closed with the child still there. */
  | { kind: 'stop' };

/** What a child said just before it died. */
export type LastWords =
  | { kind: 'exit'; slotId: string | undefined; code: number }
  | { kind: 'crash'; slotId: string | undefined; error: WireError };

/** A job the supervisor handed to a child (or holds until a child is free). */
export interface Assignment {
  readonly reservation: Reservation;
  readonly timeoutMs: number;
  startedAt: number;
  child: ChildHandle | undefined;
  timer: NodeJS.Timeout | undefined;
  /** Epoch ms when its time limit passed and its AbortSignal was fired. */
  timedOutAt: number | undefined;
  /** The application aborted it (`Worker.abortRunning`) with this reason: its child is told once it has it. */
  abortReason: WireError | undefined;
  /**
   * Its child said it starts it (in a `results` report): until then it waits in the child or on its way there, a
   * death of the child cannot be its doing, and its time limit has not begun.
   */
  started: boolean;
  /** It was cancelled before it started: its child is given `cancelGraceMs` from the moment it starts. */
  cancelledEarly: boolean;
  /** Its outcome is known (resolved): later news of it is ignored. */
  decided: boolean;
  readonly resolve: (outcome: Outcome) => void;
}

export interface ChildEvents {
  onReady(child: ChildHandle): void;
  onMessage(child: ChildHandle, message: FromChild): void;
  onClose(child: ChildHandle, code: number | null, signal: NodeJS.Signals | null): void;
}

export interface ForkSettings {
  entry: string;
  execArgv: readonly string[] | undefined;
  init: Extract<ToChild, { type: 'init' }>;
}

/** The supervisor's view of one child process: its state, the jobs it holds, its counters and how it ended. */
export class ChildHandle {
  readonly process: ChildProcess;
  readonly pid: number;
  readonly startedAt = Date.now();
  /** Position among the worker's children; null for a spare, a draining or a killed child. */
  index: number | null;
  state: ChildState = 'starting';
  readonly jobs = new Map<string, Assignment>();
  /** Jobs given, finished, failed since it started. */
  given = 0;
  done = 0;
  failed = 0;
  rssBytes: number | null = null;
  killCause: KillCause | undefined;
  lastWords: LastWords | undefined;
  /** Why it could not load the job modules, if it said. */
  initError: string | undefined;
  /** TERM was sent during a shutdown: it leaves once its jobs end, or is killed when the grace period is over. */
  termSent = false;
  /** Jobs handed over in this turn of the event loop, sent as one message. */
  private readonly outbox: ReservationData[] = [];
  /** Rejected if it dies or fails to load the job modules before it is ready. */
  readonly ready: Promise<void>;
  readonly closed: Promise<void>;

  constructor(settings: ForkSettings, index: number | null, events: ChildEvents) {
    this.index = index;
    this.process = fork(settings.entry, [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      ...(settings.execArgv ? { execArgv: [...settings.execArgv] } : {}),
    });
    this.pid = this.process.pid ?? -1;
    let readyResolve!: () => void;
    let readyReject!: (error: Error) => void;
    this.ready = new Promise((resolve, reject) => {
      readyResolve = resolve;
      readyReject = reject;
    });
    this.ready.catch(() => {});
    this.process.on('message', (message: unknown) => {
      if (!isFromChild(message)) return;
      if (message.type === 'ready') {
        readyResolve();
        events.onReady(this);
      } else if (message.type === 'init-failed') {
        this.initError = `${message.error.name}: ${message.error.message}`;
        readyReject(new Error(this.initError));
      } else {
        events.onMessage(this, message);
      }
    });
    this.process.on('error', () => {});
    this.closed = new Promise((resolve) => {
      this.process.on('close', (code, signal) => {
        readyReject(new Error(`child ${this.pid} ${describeExit(code, signal)} before it was ready`));
        events.onClose(this, code, signal);
        resolve();
      });
    });
    this.send(settings.init);
  }

  get alive(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null;
  }

  /** Takes jobs: an active child that is ready and holds fewer than `depth` (running and waiting in it). */
  accepts(depth: number): boolean {
    return (
      this.state === 'ready' &&
      this.jobs.size < depth &&
      this.killCause === undefined &&
      this.process.connected &&
      this.alive
    );
  }

  /** Queues a job for the child; the jobs given in one turn of the event loop go in one message. */
  run(reservation: ReservationData): void {
    if (this.outbox.push(reservation) === 1) queueMicrotask(() => this.flush());
  }

  /** Sends a message, after the jobs queued before it. */
  send(message: ToChild): void {
    this.flush();
    this.write(message);
  }

  private flush(): void {
    if (this.outbox.length > 0) this.write({ type: 'run', jobs: this.outbox.splice(0) });
  }

  private write(message: ToChild): void {
    if (!this.process.connected) return;
    try {
      this.process.send(message);
    } catch {
      // The child is going away; its close event decides its jobs.
    }
  }

  signal(signal: NodeJS.Signals): void {
    if (this.alive) this.process.kill(signal);
  }
}

/** `exited with code 3` / `received signal SIGKILL`. */
export function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `received signal ${signal}` : `exited with code ${code ?? 'unknown'}`;
}
