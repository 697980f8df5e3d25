// Shutdowns at the edges: TERM while Redis is unreachable ends the worker in time, jobs given back at TERM keep the
// order they were taken in, and a worker that stalled past the liveness timeout, was reaped and came back, has its
// late acknowledgement refused and reported.
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Resque } from '../../src/index.js';
import { Keys } from '../../src/protocol/keys.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace, waitFor } from '../harness/context.js';
import { spawnWorker, type WorkerProcess } from '../harness/processes.js';
import { freePort, removeDir, startRedis } from '../harness/redis-server.js';
import { readTitle } from '../harness/supervised.js';

let redis: Redis;
const started: WorkerProcess[] = [];
beforeAll(() => {
  redis = rawRedis();
});
afterEach(() => {
  for (const worker of started.splice(0)) worker.signal('SIGKILL');
});
afterAll(async () => {
  await redis.quit();
});

function worker(env: Record<string, string>): WorkerProcess {
  const spawned = spawnWorker({ INTERVAL: '0.2', VERBOSE: '1', ...env });
  started.push(spawned);
  return spawned;
}

const args = (raw: string) => (JSON.parse(raw) as { args: unknown[] }).args[0];

describe('TERM while Redis is unreachable', () => {
  it('ends a worker that never reached Redis, without a second TERM', { timeout: 60_000 }, async () => {
    const closed = await freePort();
    const w = worker({ REDIS_URL: `redis://127.0.0.1:${closed}`, QUEUES: 'q', RESQUE_TERM_TIMEOUT: '1' });
    // Its signal handlers are in place once it titles itself Starting (and then waits for Redis).
    await waitFor(async () => (await readTitle(w.pid)).includes('Starting'), 20_000, 'the worker to start');
    w.signal('SIGTERM');
    expect((await w.exited).code).toBe(0);
    expect(w.output()).toContain('leaving 0 job(s) in flight for the reaper');
  });

  it('ends a worker whose Redis went away mid-run; the jobs it held stay in flight for the reaper', {
    timeout: 60_000,
  }, async () => {
    const server = await startRedis();
    try {
      const namespace = uniqueNamespace('term-down');
      const resque = new Resque({ redis: server.url, namespace });
      await resque.enqueueTo('q', 'Slow', 1, 30_000);
      const w = worker({
        REDIS_URL: server.url,
        RESQUE_NAMESPACE: namespace,
        QUEUES: 'q',
        RESQUE_ISOLATION: 'none',
        RESQUE_TERM_TIMEOUT: '1',
      });
      const direct = rawRedis(server.url);
      await waitFor(
        async () => (await direct.hlen(`${namespace}:test:started`)) === 1,
        20_000,
        'the job to start',
      );
      direct.disconnect();
      await resque.close();
      server.pause();
      w.signal('SIGTERM');
      expect((await w.exited).code).toBe(0);
      expect(w.output()).toMatch(/leaving 1 job\(s\) in flight for the reaper/);
    } finally {
      server.resume();
      await server.stop();
      removeDir(server.dir);
    }
  });
});

describe('jobs given back at TERM', () => {
  for (const isolation of ['none', 'process']) {
    it(`go back to the head of their queue in the order they were taken (isolation ${isolation})`, {
      timeout: 60_000,
    }, async () => {
      const namespace = uniqueNamespace('order');
      const keys = new Keys(namespace);
      const resque = new Resque({ redis: sharedRedisUrl(), namespace });
      for (const n of [1, 2, 3]) await resque.enqueueTo('q', 'Slow', n, 30_000);
      await resque.enqueueTo('q', 'Record', 4);
      const w = worker({
        REDIS_URL: sharedRedisUrl(),
        RESQUE_NAMESPACE: namespace,
        QUEUES: 'q',
        RESQUE_ISOLATION: isolation,
        COUNT: '1',
        CONCURRENCY: '3',
        RESQUE_TERM_TIMEOUT: '0.5',
      });
      await waitFor(
        async () => (await redis.hlen(`${namespace}:test:started`)) === 3,
        20_000,
        'three jobs to start',
      );
      w.signal('SIGTERM');
      expect((await w.exited).code).toBe(0);
      expect((await redis.lrange(keys.queue('q'), 0, -1)).map(args)).toEqual([1, 2, 3, 4]);
      await resque.close();
    });
  }
});

describe('a worker that stalled past the liveness timeout', () => {
  it('is reaped by a peer, which runs its job; back, it registers again and its late acknowledgement is refused and reported', {
    timeout: 90_000,
  }, async () => {
    const namespace = uniqueNamespace('stalled');
    const keys = new Keys(namespace);
    const env = {
      REDIS_URL: sharedRedisUrl(),
      RESQUE_NAMESPACE: namespace,
      QUEUES: 'q',
      RESQUE_ISOLATION: 'none',
      RESQUE_LIVENESS_INTERVAL: '0.2',
      RESQUE_LIVENESS_TIMEOUT: '1',
      RESQUE_REAPER_INTERVAL: '0.2',
    };
    const resque = new Resque({ redis: sharedRedisUrl(), namespace });
    const stalled = worker(env);
    await waitFor(async () => (await redis.scard(keys.workers)) === 1, 20_000, 'the first worker');
    await resque.enqueueTo('q', 'Slow', 1, 1500);
    await waitFor(
      async () => (await redis.hlen(`${namespace}:test:started`)) === 1,
      20_000,
      'the job to start',
    );
    stalled.signal('SIGSTOP');
    const peer = worker(env);
    await waitFor(
      async () => (await redis.hlen(`${namespace}:test:ledger:1`)) === 1,
      30_000,
      'the peer to run the job',
    );
    stalled.signal('SIGCONT');
    await waitFor(
      () => /after its reservation had been given back/.test(stalled.output()),
      30_000,
      'the refusal',
    );
    await waitFor(
      async () => (await redis.hlen(`${namespace}:test:ledger:1`)) === 2,
      30_000,
      'the second run',
    );
    await waitFor(async () => (await redis.scard(keys.workers)) === 2, 30_000, 'both registered');
    expect(stalled.output()).toContain('registering again');
    expect(await redis.get(keys.processed)).toBe('1');
    for (const w of [stalled, peer]) w.signal('SIGQUIT');
    await Promise.all([stalled.exited, peer.exited]);
    await resque.close();
  });
});
