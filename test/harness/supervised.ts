// Helpers for tests of supervised workers: a real `resque work` supervisor with the child-job fixtures, and what
// `ps` would tell about its children (read from /proc, independent of the code under test).
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { afterEach } from 'vitest';
import { decodeFailureRecord, type FailureRecord } from '../../src/protocol/failure-record.js';
import { sharedRedisUrl, waitFor } from './context.js';
import { spawnWorker, type WorkerProcess } from './processes.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/child-jobs/', import.meta.url));
const MODULES = ['ok', 'throws', 'hangs', 'exits', 'bloats', 'chatty', 'retries'];
const CHILD_JOB_ARGS = MODULES.flatMap((name) => ['--require', `${FIXTURES}${name}.mjs`]);

/** Supervised workers started by the current test, killed (with their children) after it. */
const started: WorkerProcess[] = [];
afterEach(() => {
  for (const worker of started.splice(0)) {
    const kids = childrenOf(worker.pid);
    worker.child.kill('SIGKILL');
    for (const pid of kids) kill(pid);
  }
});

/**
 * A supervised `resque work` on queue `q` with one child unless `env` says otherwise, loading test/fixtures/jobs.mjs
 * and every module of test/fixtures/child-jobs/.
 */
export function startSupervised(namespace: string, env: Record<string, string> = {}): WorkerProcess {
  const worker = spawnWorker(
    {
      REDIS_URL: sharedRedisUrl(),
      RESQUE_NAMESPACE: namespace,
      RESQUE_ISOLATION: 'process',
      COUNT: '1',
      QUEUES: 'q',
      INTERVAL: '0.2',
      VERBOSE: '1',
      ...env,
    },
    CHILD_JOB_ARGS,
  );
  started.push(worker);
  return worker;
}

/** Waits until the supervisor has registered and `count` children have set their idle title. */
export async function readyChildren(worker: WorkerProcess, count = 1): Promise<number[]> {
  try {
    return await waitFor(
      async () => {
        const kids = childrenOf(worker.pid);
        const titled = (await Promise.all(kids.map(readTitle))).filter((t) => t.includes('Waiting for'));
        return titled.length >= count && kids.length >= count ? kids : undefined;
      },
      // Children import the whole package and the job modules: on a loaded 2-core machine (the chaos test running
      // beside) that has taken over 45 s.
      90_000,
      `${count} ready children of ${worker.pid}`,
    );
  } catch (error) {
    const kids = childrenOf(worker.pid);
    const titles = await Promise.all(kids.map(async (pid) => `${pid}: ${await readTitle(pid)}`));
    throw new Error(
      `${(error as Error).message}\nchildren: ${titles.join('; ') || 'none'}\nworker output:\n${worker.output().slice(-4000)}`,
    );
  }
}

/** Pids whose parent is `pid` (from /proc/<n>/stat), in ascending order. */
export function childrenOf(pid: number): number[] {
  const kids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) kids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return kids.sort((a, b) => a - b);
}

/** True while the process exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

export function kill(pid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** The process title `ps` shows. */
export async function readTitle(pid: number): Promise<string> {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
  } catch {
    return '';
  }
}

export async function failures(redis: Redis, namespace: string): Promise<FailureRecord[]> {
  return (await redis.lrange(`${namespace}:failed`, 0, -1)).map((raw) => decodeFailureRecord(raw)!);
}

/** Waits for `n` failure records and returns them. */
export async function awaitFailures(redis: Redis, namespace: string, n = 1): Promise<FailureRecord[]> {
  await waitFor(async () => (await redis.llen(`${namespace}:failed`)) >= n, 20_000, `${n} failure(s)`);
  return failures(redis, namespace);
}

/** Pids that performed job `n` (values of its ledger hash). */
export async function performedBy(redis: Redis, namespace: string, n: number): Promise<number[]> {
  return (await redis.hvals(`${namespace}:test:ledger:${n}`)).map(Number);
}

export async function awaitPerformed(redis: Redis, namespace: string, n: number): Promise<number> {
  const [pid] = await waitFor(
    async () => {
      const pids = await performedBy(redis, namespace, n);
      return pids.length > 0 ? pids : undefined;
    },
    20_000,
    `job ${n} to be performed`,
  );
  return pid!;
}

/** Pid that reported starting job `n`. */
export async function awaitStarted(redis: Redis, namespace: string, n: number): Promise<number> {
  const pid = await waitFor(
    () => redis.hget(`${namespace}:test:started`, String(n)),
    20_000,
    `job ${n} to start`,
  );
  return Number(pid);
}
