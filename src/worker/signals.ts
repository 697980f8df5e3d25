import type { Logger } from '../logging/logger.js';
import type { StopMode } from './worker.js';

/** What the signal handlers drive: a worker, or a supervisor with the same controls. */
export interface Controllable {
  stop(mode: StopMode): Promise<void>;
  pause(): Promise<void>;
  resume(): Promise<void>;
  abortRunning(): void;
}

export interface SignalOptions {
  /** TERM behaves like QUIT (GRACEFUL_TERM). */
  gracefulTerm: boolean;
  logger: Logger;
  /** Called for a second TERM/INT: leave at once (what was in flight is recovered by the reaper). */
  exitNow?: () => void;
}

/**
 * Resque's signals (docs/protocol.md, Signals): QUIT finishes running jobs then exits; TERM/INT abort them after the
 * grace period then exit (QUIT-like with GRACEFUL_TERM); a second TERM/INT exits at once; USR1 aborts running jobs
 * and keeps working; USR2 pauses; CONT resumes. Returns a function that removes the handlers.
 */
export function installSignalHandlers(target: Controllable, options: SignalOptions): () => void {
  let stopping = false;
  const exitNow = options.exitNow ?? (() => process.exit(1));
  const stop = (signal: NodeJS.Signals, mode: StopMode) => {
    if (stopping) {
      if (signal === 'SIGQUIT') return;
      options.logger.warn(`${signal} again: exiting now`);
      exitNow();
      return;
    }
    stopping = true;
    options.logger.info(
      `${signal} received: ${mode === 'graceful' ? 'finishing running jobs' : 'stopping jobs'}, then exiting`,
    );
    void target.stop(mode);
  };
  const handlers: Array<[NodeJS.Signals, () => void]> = [
    ['SIGQUIT', () => stop('SIGQUIT', 'graceful')],
    ['SIGTERM', () => stop('SIGTERM', options.gracefulTerm ? 'graceful' : 'term')],
    ['SIGINT', () => stop('SIGINT', 'term')],
    ['SIGUSR1', () => target.abortRunning()],
    ['SIGUSR2', () => void target.pause()],
    ['SIGCONT', () => void target.resume()],
  ];
  for (const [signal, handler] of handlers) process.on(signal, handler);
  return () => {
    for (const [signal, handler] of handlers) process.off(signal, handler);
  };
}
