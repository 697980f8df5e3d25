// Benchmark child processes: fork one, wait for its messages, and read its process tree's peak memory.
import { fork } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const CHILD = new URL('./child.mjs', import.meta.url).pathname;

/** Forks bench/lib/child.mjs in `role` for library `lib`; `next(type)` resolves with the next message of that type. */
export function spawnChild(role, lib, url, options, execArgv = []) {
  const child = fork(CHILD, [role, lib, url, JSON.stringify(options)], {
    execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const inbox = [];
  const waiters = [];
  let failure;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const deliver = () => {
    for (let i = 0; i < waiters.length; i++) {
      const waiter = waiters[i];
      const at = inbox.findIndex((message) => message.type === waiter.type);
      if (at >= 0) {
        waiters.splice(i--, 1);
        waiter.resolve(inbox.splice(at, 1)[0]);
      } else if (failure) {
        waiters.splice(i--, 1);
        waiter.reject(failure);
      }
    }
  };
  child.on('message', (message) => {
    inbox.push(message);
    deliver();
  });
  child.once('exit', (code, signal) => {
    failure = new Error(`${role} process for ${lib} exited (${signal ?? code}) before it was done`);
    deliver();
  });
  return {
    pid: child.pid,
    send: (message) => child.send(message),
    next: (type) =>
      new Promise((resolve, reject) => {
        waiters.push({ type, resolve, reject });
        deliver();
      }),
    exited,
    kill: () => child.kill('SIGKILL'),
  };
}

function descendants(pid) {
  const parents = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(Number(entry), ppid);
    } catch {
      // The process ended while we looked.
    }
  }
  const found = [pid];
  for (let i = 0; i < found.length; i++) {
    for (const [child, parent] of parents) if (parent === found[i]) found.push(child);
  }
  return found;
}

/** Peak resident memory (VmHWM) of a process and all its descendants, summed, in MB. */
export function treePeakRssMb(pid) {
  let kb = 0;
  for (const member of descendants(pid)) {
    try {
      const status = readFileSync(`/proc/${member}/status`, 'utf8');
      kb += Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
    } catch {
      // Gone already.
    }
  }
  return kb / 1024;
}
