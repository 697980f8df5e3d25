// Entry module of a supervised worker's child process, forked by child-handle.ts. It loads the application's job
// modules once, then runs the jobs the supervisor hands it over IPC and reports each outcome. It takes no Redis
// decisions of its own: reservation, failure records and stats stay with the supervisor. It leaves when told to
// (drain, TERM), and at once when the supervisor goes away (IPC disconnect), so an orphan never runs a job that the
// reaper is about to give to another worker.
import { AsyncLocalStorage } from 'node:async_hooks';
import { existsSync } from 'node:fs';
import { JobTimeoutError, TermException } from '../../errors/index.js';
import { JobRegistry } from '../../jobs/registry.js';
import { loadJobTracer } from '../../observability/tracing.js';
import { epochSeconds } from '../../protocol/time.js';
import { Reservation, type ReservationData } from '../fetch/reservation.js';
import { InProcessExecutor } from '../in-process-executor.js';
import { loadAppModules } from '../load-jobs.js';
import type { Outcome } from '../outcome.js';
import { setProcline } from '../proctitle.js';
import {
  type FromChild,
  fromWireError,
  isToChild,
  type JobResult,
  type ToChild,
  toWireError,
} from './messages.js';

interface Running {
  readonly reservation: Reservation;
  readonly since: number;
  readonly controller: AbortController;
}

type Init = Extract<ToChild, { type: 'init' }>;

const RSS_REPORT_MS = 500;
const TERM_REASON = 'the worker was told to stop before it started';
const jobScope = new AsyncLocalStorage<string>();
/** Running jobs in the order they started (a Map keeps insertion order): the first is the oldest. */
const running = new Map<string, Running>();
/** Jobs handed over beyond the concurrency (reserved ahead), started in order as running ones end. */
const waiting: ReservationData[] = [];
/** Results of this microtask checkpoint, sent together with the jobs that start next. */
const outbox: JobResult[] = [];
let reportScheduled = false;
const realExit: (code?: number) => never = process.exit.bind(process);
const reportRss = !existsSync('/proc/self/status');
let executor: InProcessExecutor | undefined;
let settings: Init | undefined;
let spare = false;
let paused = false;
let draining = false;
let exiting = false;
let leaving = false;
/** TERM arrived: no job starts any more. */
let terminated = false;
let lastRssAt = 0;

function send(message: FromChild, then?: () => void): void {
  if (!process.connected || !process.send) {
    realExit(running.size > 0 ? 1 : 0);
  }
  process.send(message, undefined, undefined, () => then?.());
}

function title(): void {
  if (!settings || settings.proclinePrefix === null) return;
  const oldest = running.values().next().value;
  const text = oldest
    ? `Processing ${oldest.reservation.queue} since ${epochSeconds(new Date(oldest.since))} [${oldest.reservation.className}]`
    : `${paused ? 'Paused' : `Waiting for ${settings.queues}`}${spare ? ' (spare)' : ''}`;
  setProcline(text, settings.proclinePrefix);
}

async function init(message: Init): Promise<void> {
  settings = message;
  try {
    const app = await loadAppModules(message.modules);
    // The tracer provider the application registers (from one of these modules, or a --import) is found through
    // the API's global, whenever it is registered (docs/operations.md, Traces).
    executor = new InProcessExecutor(new JobRegistry(app.jobs), message.tracing ? loadJobTracer : undefined);
    await executor.start();
    executor.reportProgressTo(({ slotId, token }, value) => {
      if (progressOutbox.size === 0) setImmediate(flushProgress);
      progressOutbox.set(slotId, { type: 'progress', slotId, token, value });
    });
    title();
    send({ type: 'ready', pid: process.pid, jobClasses: app.jobs.length });
  } catch (error) {
    send({ type: 'init-failed', error: toWireError(error) }, () => realExit(1));
  }
}

/** A report is sent at the end of this microtask checkpoint: the results so far and the jobs that start next. */
function scheduleReport(): void {
  if (reportScheduled) return;
  reportScheduled = true;
  queueMicrotask(report);
}

function report(): void {
  reportScheduled = false;
  const starting: ReservationData[] = [];
  // A child told to leave by TERM starts nothing more; a drained (recycled) one runs what it was given.
  const limit = exiting || leaving || terminated ? 0 : (settings?.concurrency ?? 1);
  while (waiting.length > 0 && running.size + starting.length < limit) starting.push(waiting.shift()!);
  flush(starting.map((job) => job.slotId));
  if (starting.length > 0) {
    // Shared by the jobs started together: TERM aborts them all; one job's own abort goes through the executor.
    const controller = new AbortController();
    for (const job of starting) run(job, controller);
  }
  title();
}

function run(data: ReservationData, controller: AbortController): void {
  const reservation = new Reservation(data);
  const { slotId, token } = reservation;
  running.set(slotId, { reservation, since: Date.now(), controller });
  const perform = () => (executor as InProcessExecutor).run(reservation, controller.signal);
  // The scope costs every promise of the job a hook; with one job at a time there is nobody else to blame.
  void (settings?.concurrency === 1 ? perform() : jobScope.run(slotId, perform)).then((outcome) =>
    finish(slotId, token, outcome),
  );
}

function finish(slotId: string, token: string, outcome: Outcome): void {
  if (running.get(slotId)?.reservation.token === token) running.delete(slotId);
  // Sent at the end of this microtask checkpoint, not of the event loop's turn: a child killed right after a job
  // ends has already reported it, so a finished job is never taken for one that died with its child.
  outbox.push({ slotId, token, outcome });
  scheduleReport();
}

/**
 * Each job's latest progress of this turn of the event loop, sent at its end (a job reporting in a tight loop sends
 * one message per turn), and before any result, so that a job's last progress arrives before its end.
 */
const progressOutbox = new Map<string, Extract<FromChild, { type: 'progress' }>>();

function flushProgress(): void {
  for (const message of progressOutbox.values()) send(message);
  progressOutbox.clear();
}

/** Sends the waiting results and the jobs about to start in one message (also right before the child exits). */
function flush(started: string[] = []): void {
  flushProgress();
  if (outbox.length === 0 && started.length === 0) return;
  const message: FromChild = { type: 'results', results: outbox.splice(0), started };
  if (reportRss && Date.now() - lastRssAt >= RSS_REPORT_MS) {
    lastRssAt = Date.now();
    message.rssBytes = process.memoryUsage.rss();
  }
  send(message, leaveIfDone);
}

function leaveIfDone(): void {
  if (!draining || running.size > 0 || waiting.length > 0 || outbox.length > 0 || leaving) return;
  if (!settings?.tracing || !executor) realExit(0);
  leaving = true;
  // The spans of its last jobs leave with it: the application's own shutdown never runs in a child.
  void executor.close().finally(() => realExit(0));
}

function drain(): void {
  draining = true;
  leaveIfDone();
}

function onMessage(message: unknown): void {
  if (!isToChild(message)) return;
  switch (message.type) {
    case 'init':
      void init(message);
      return;
    case 'run':
      waiting.push(...message.jobs);
      if (terminated) giveBackWaiting(() => true, TERM_REASON);
      // At once, not at the end of the checkpoint: messages read together are handled before any microtask, and a
      // job that can start must have started before an `abort` or `timeout` sent after it is handled.
      report();
      return;
    case 'timeout': {
      const job = running.get(message.slotId);
      if (job?.reservation.token === message.token)
        executor?.abort(job.reservation, new JobTimeoutError(message.timeoutMs));
      return;
    }
    case 'drain':
      drain();
      return;
    case 'role':
      spare = message.spare;
      title();
      return;
    case 'paused':
      paused = message.paused;
      title();
      return;
    case 'abort': {
      const job = running.get(message.slotId);
      if (job?.reservation.token === message.token)
        executor?.abort(job.reservation, fromWireError(message.reason));
      else
        giveBackWaiting(
          (data) => data.slotId === message.slotId && data.token === message.token,
          'it was aborted before it started',
        );
      return;
    }
  }
}

/** The job whose code is running: from the job's scope, or the only job when the child runs one at a time. */
function currentJob(): string | undefined {
  return jobScope.getStore() ?? (running.size === 1 ? running.keys().next().value : undefined);
}

/** A job that calls process.exit: tell the supervisor which job it was, then exit as asked. */
function exitFromJob(code?: number | string | null): never {
  const numeric = Number(code ?? process.exitCode ?? 0);
  const exitCode = Number.isInteger(numeric) ? numeric : 1;
  if (!exiting && process.connected && process.send) {
    exiting = true;
    flush();
    process.send({ type: 'exiting', slotId: currentJob(), code: exitCode } satisfies FromChild);
  }
  return realExit(exitCode);
}

process.exit = exitFromJob as typeof process.exit;
process.on('message', onMessage);
process.on('disconnect', () => realExit(running.size > 0 ? 1 : 0));
process.on('uncaughtException', (error) => {
  if (!exiting && process.connected && process.send) {
    exiting = true;
    flush();
    process.send({
      type: 'crash',
      slotId: currentJob(),
      error: toWireError(error),
    } satisfies FromChild);
  }
  realExit(1);
});
/** Jobs that waited here and will not start: reported as given back untouched (they never ran). */
function giveBackWaiting(which: (data: ReservationData) => boolean, reason: string): void {
  for (let i = waiting.length - 1; i >= 0; i--) {
    const data = waiting[i] as ReservationData;
    if (!which(data)) continue;
    waiting.splice(i, 1);
    outbox.push({
      slotId: data.slotId,
      token: data.token,
      outcome: { kind: 'given-back', reason, countReturn: false },
    });
    scheduleReport();
  }
}

// TERM (from the supervisor, or from a platform that signals every process): abort every job, give back the ones
// waiting, leave when the running ones end.
process.on('SIGTERM', () => {
  terminated = true;
  for (const job of running.values()) job.controller.abort(new TermException('SIGTERM'));
  giveBackWaiting(() => true, TERM_REASON);
  drain();
});
// Signals a terminal sends to the whole process group are the supervisor's to act on.
for (const signal of ['SIGINT', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as const) process.on(signal, () => {});
if (!process.send) {
  process.stderr.write(
    'resque-ts: this module is the entry of a supervised worker child; it needs an IPC channel\n',
  );
  realExit(2);
}
