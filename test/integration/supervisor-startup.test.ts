// A supervised worker whose children are slow to start: it keeps its heartbeat while it waits for them, so a peer's
// reaper never takes it for dead, and it reserves no job before it has started, even when paused and resumed
// (USR2/CONT) meanwhile.
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Resque } from '../../src/index.js';
import { parseResqueTime } from '../../src/protocol/time.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace, waitFor } from '../harness/context.js';
import { spawnWorker } from '../harness/processes.js';
import { childrenOf, kill, readyChildren, startSupervised } from '../harness/supervised.js';

// Heartbeats are written to the second, as Ruby writes them: a live worker's can look a second older than it is, so
// the dead-worker limit leaves that second and some room for a loaded machine.
const FAST_REAPER = {
  RESQUE_HEARTBEAT_INTERVAL: '0.2',
  RESQUE_PRUNE_INTERVAL: '3',
  RESQUE_REAPER_INTERVAL: '0.3',
};
const CHILD_JOBS = fileURLToPath(new URL('../fixtures/child-jobs/', import.meta.url));

let redis: Redis;
beforeAll(() => {
  redis = rawRedis();
});
afterAll(() => redis.disconnect());

/** A supervised worker on `q` whose children wait for the file `gate` before they are ready. */
function spawnGated(namespace: string, gate: string, count: number) {
  return spawnWorker(
    {
      REDIS_URL: sharedRedisUrl(),
      RESQUE_NAMESPACE: namespace,
      RESQUE_ISOLATION: 'process',
      COUNT: String(count),
      QUEUES: 'q',
      INTERVAL: '0.2',
      VERBOSE: '1',
      CHILD_START_GATE: gate,
    },
    ['--require', `${CHILD_JOBS}ok.mjs`, '--require', `${CHILD_JOBS}gated-start.mjs`],
  );
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('a supervised worker starting slowly', () => {
  it('keeps beating while its children start, takes no job before, and runs each job once', async () => {
    const namespace = uniqueNamespace('slow-start');
    const resque = new Resque({ redis: sharedRedisUrl(), namespace });
    const gate = join(tmpdir(), `resque-child-gate-${randomBytes(4).toString('hex')}`);
    // A peer on another queue: it takes none of these jobs, but its reaper judges every worker's heartbeat.
    const peer = startSupervised(namespace, { ...FAST_REAPER, QUEUES: 'elsewhere' });
    await readyChildren(peer);
    const jobs = [1, 2, 3, 4, 5, 6];
    for (const n of jobs) await resque.enqueueTo('q', 'Ok', n);
    const worker = spawnWorker(
      {
        ...FAST_REAPER,
        REDIS_URL: sharedRedisUrl(),
        RESQUE_NAMESPACE: namespace,
        RESQUE_ISOLATION: 'process',
        COUNT: '1',
        CONCURRENCY: '2',
        QUEUES: 'q',
        INTERVAL: '0.2',
        VERBOSE: '1',
        CHILD_START_GATE: gate,
      },
      ['--require', `${CHILD_JOBS}ok.mjs`, '--require', `${CHILD_JOBS}gated-start.mjs`],
    );
    try {
      const mine = (id: string) => id.includes(`:${worker.pid}:`) || id.includes(`:${worker.pid}-`);
      const heartbeat = async () => {
        const beats = await redis.hgetall(`${namespace}:workers:heartbeat`);
        const id = Object.keys(beats).find(mine);
        return id === undefined ? undefined : parseResqueTime(beats[id])?.getTime();
      };
      const first = await waitFor(heartbeat, 20_000, 'the worker to heartbeat');
      await waitFor(() => childrenOf(worker.pid).length > 0, 20_000, 'the worker to fork its child');
      // Paused and resumed while its child is still loading.
      worker.signal('SIGUSR2');
      await new Promise((resolve) => setTimeout(resolve, 100));
      worker.signal('SIGCONT');
      // Wait past the peer's dead-worker limit: either the heartbeat moves on, or the peer reaps the worker.
      const prune = Number(FAST_REAPER.RESQUE_PRUNE_INTERVAL) * 1000;
      const beat = await waitFor(
        async () => {
          const now = await heartbeat();
          return now === undefined ? 'reaped' : now > first + prune + 1000 ? now : undefined;
        },
        20_000,
        'the heartbeat to move on (or the worker to be reaped)',
      );
      expect(beat).not.toBe('reaped');
      const inflight = (await redis.keys(`${namespace}:ts:inflight:*`)).filter(mine);
      expect(inflight).toEqual([]);
      expect(await resque.size('q')).toBe(jobs.length);

      writeFileSync(gate, '');
      const done = async () => {
        const left = (await resque.size('q')) + (await redis.keys(`${namespace}:ts:inflight:*`)).length;
        const runs = await Promise.all(jobs.map((n) => redis.hlen(`${namespace}:test:ledger:${n}`)));
        return left === 0 && runs.every((count) => count > 0) ? runs : undefined;
      };
      expect(await waitFor(done, 20_000, 'every job to run')).toEqual(jobs.map(() => 1));
      expect(peer.output()).not.toContain('Reaped dead worker');
    } finally {
      rmSync(gate, { force: true });
      const kids = childrenOf(worker.pid);
      worker.child.kill('SIGKILL');
      for (const pid of kids) kill(pid);
      await resque.close();
    }
  });

  it('replaces a child killed before it was ready and goes on starting', async () => {
    const namespace = uniqueNamespace('killed-starting');
    const resque = new Resque({ redis: sharedRedisUrl(), namespace });
    const gate = join(tmpdir(), `resque-child-gate-${randomBytes(4).toString('hex')}`);
    await resque.enqueueTo('q', 'Ok', 1);
    const worker = spawnGated(namespace, gate, 1);
    try {
      const [first] = await waitFor(
        () => {
          const kids = childrenOf(worker.pid);
          return kids.length > 0 ? kids : undefined;
        },
        20_000,
        'the first child',
      );
      kill(first!);
      const second = await waitFor(
        () => childrenOf(worker.pid).find((pid) => pid !== first),
        20_000,
        'a new child',
      );
      writeFileSync(gate, '');
      await waitFor(
        async () => (await redis.hlen(`${namespace}:test:ledger:1`)) === 1,
        20_000,
        'the job to run',
      );
      expect(childrenOf(worker.pid)).toEqual([second]);
      expect(worker.output()).toMatch(/ended before it was ready .*SIGKILL.*; starting another/);
      expect(worker.child.exitCode).toBeNull();
    } finally {
      rmSync(gate, { force: true });
      const kids = childrenOf(worker.pid);
      worker.child.kill('SIGKILL');
      for (const pid of kids) kill(pid);
      await resque.close();
    }
  });

  for (const signal of ['SIGTERM', 'SIGQUIT'] as const) {
    it(`stops during its start-up on ${signal}: children still loading are killed, nothing stays registered`, async () => {
      const namespace = uniqueNamespace('stop-starting');
      const resque = new Resque({ redis: sharedRedisUrl(), namespace });
      // The gate never opens: without the cut-short start-up the worker would wait for its child forever.
      const gate = join(tmpdir(), `resque-child-gate-${randomBytes(4).toString('hex')}`);
      await resque.enqueueTo('q', 'Ok', 1);
      const worker = spawnGated(namespace, gate, 2);
      try {
        const kids = await waitFor(
          () => {
            const found = childrenOf(worker.pid);
            return found.length === 2 ? found : undefined;
          },
          20_000,
          'the children to be forked',
        );
        worker.signal(signal);
        expect(await worker.exited).toEqual({ code: 0, signal: null });
        for (const pid of kids) expect(alive(pid)).toBe(false);
        expect(worker.output()).toContain('Stopped during start-up');
        expect(await redis.smembers(`${namespace}:workers`)).toEqual([]);
        expect(await redis.hlen(`${namespace}:workers:heartbeat`)).toBe(0);
        expect(await redis.keys(`${namespace}:ts:inflight:*`)).toEqual([]);
        expect(await resque.size('q')).toBe(1);
      } finally {
        const kids = childrenOf(worker.pid);
        worker.child.kill('SIGKILL');
        for (const pid of kids) kill(pid);
        await resque.close();
      }
    });
  }
});
