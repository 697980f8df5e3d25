import { readFileSync } from 'node:fs';

/** How often the parent is looked at. */
const POLL_MS = 1000;

/**
 * Calls `onGone` once, when the process that started this one has exited (an `npx` or `npm run` killed without
 * passing the signal on leaves its child re-parented to PID 1). Node reads `process.ppid` once at start-up, so the
 * live parent comes from /proc on Linux, and elsewhere from whether the first parent still exists. A process started
 * by PID 1 (a container's entry point, systemd) never sees its parent go. The timer keeps no process alive; the
 * returned function stops watching.
 */
export function whenParentGone(onGone: (parent: number) => void, pollMs = POLL_MS): () => void {
  const parent = process.ppid;
  if (parent <= 1) return () => {};
  const timer = setInterval(() => {
    if (!parentGone(parent)) return;
    clearInterval(timer);
    onGone(parent);
  }, pollMs);
  timer.unref();
  return () => clearInterval(timer);
}

function parentGone(parent: number): boolean {
  const live = liveParent();
  if (live !== undefined) return live !== parent;
  try {
    process.kill(parent, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** The current parent from /proc/self/stat (`pid (comm) state ppid …`; comm may hold spaces and parentheses). */
function liveParent(): number | undefined {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return Number.isInteger(ppid) ? ppid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether `resque work` watches its parent: `--exit-with-parent`, or `RESQUE_EXIT_WITH_PARENT=1`; and by default
 * when npm started it (`npx resque work`, an `npm run` script: npm sets `npm_command`), since npm does not pass a
 * TERM on to it. `RESQUE_EXIT_WITH_PARENT=0` turns the default off, and so does Resque's `BACKGROUND=yes`: a worker
 * meant to outlive the shell that started it.
 */
export function exitsWithParent(flag: boolean, env: NodeJS.ProcessEnv): boolean {
  if (flag) return true;
  const setting = (env['RESQUE_EXIT_WITH_PARENT'] ?? '').trim();
  if (setting !== '') return TRUE.test(setting);
  if (TRUE.test((env['BACKGROUND'] ?? '').trim())) return false;
  return Boolean(env['npm_command']);
}

const TRUE = /^(1|t|true|y|yes|on)$/i;

/**
 * `--exit-with-parent`: once the parent has gone, this process stops as it does on TERM (its handler runs). A stop
 * signal that came first (systemd sends TERM to every process of the unit) ends the watch, so the parent's exit is
 * never taken for a second TERM, which means "exit at once".
 */
export function stopWhenParentGone(out: NodeJS.WritableStream): () => void {
  const stopWatching = whenParentGone((parent) => {
    forget();
    out.write(`resque: the process that started this one (pid ${parent}) has exited; stopping as on TERM\n`);
    process.kill(process.pid, 'SIGTERM');
  });
  const stopping = () => {
    stopWatching();
    forget();
  };
  const forget = () => {
    for (const signal of STOP_SIGNALS) process.off(signal, stopping);
  };
  for (const signal of STOP_SIGNALS) process.on(signal, stopping);
  return stopping;
}

const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGQUIT'] as const;
