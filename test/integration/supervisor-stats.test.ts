// The stats a dashboard reads without scanning: one hash per worker (ts:worker-stats:<id>), written with the
// heartbeat, read through src/api/workers.ts.
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workerStats } from '../../src/api/workers.js';
import type { WorkerStats } from '../../src/fleet/worker-stats.js';
import { Keys, Resque, resolveConfig } from '../../src/index.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace, waitFor } from '../harness/context.js';
import { spawnWorker } from '../harness/processes.js';
import {
  awaitFailures,
  awaitPerformed,
  childrenOf,
  readyChildren,
  startSupervised,
} from '../harness/supervised.js';

let redis: Redis;
beforeAll(() => {
  redis = rawRedis();
});
afterAll(() => redis.disconnect());

const context = (namespace: string) => ({
  redis,
  keys: new Keys(namespace),
  config: resolveConfig({ redis: sharedRedisUrl(), namespace }, {}),
});

async function statsWhere(namespace: string, done: (stats: WorkerStats) => boolean): Promise<WorkerStats> {
  return waitFor(
    async () => (await workerStats(context(namespace))).find(done),
    15_000,
    'worker stats to show the jobs',
  );
}

describe('worker stats', () => {
  it('per worker and per child: jobs done and failed, start time, memory, restarts with their reasons', async () => {
    const namespace = uniqueNamespace('stats');
    const resque = new Resque({ redis: sharedRedisUrl(), namespace });
    const worker = startSupervised(namespace, {
      COUNT: '2',
      RESQUE_SPARE: '1',
      RESQUE_HEARTBEAT_INTERVAL: '0.2',
    });
    await readyChildren(worker, 3);
    for (let n = 1; n <= 4; n++) await resque.enqueueTo('q', 'Ok', n);
    await resque.enqueueTo('q', 'Throws', 5);
    for (let n = 1; n <= 4; n++) await awaitPerformed(redis, namespace, n);
    await resque.enqueueTo('q', 'Exits', 6, 3);
    await awaitFailures(redis, namespace, 2);

    // The spare took the place of the child that exited; a new spare is started and shows once it is ready.
    const stats = await statsWhere(
      namespace,
      (s) => s.processed === 6 && s.children.filter((c) => c.state !== 'starting').length === 3,
    );
    // Two children at concurrency 1, each with eight more slots for jobs reserved ahead of it.
    expect(stats).toMatchObject({ isolation: 'process', slots: 18, count: 2, concurrency: 1, spare: 1 });
    expect(stats.id).toBe(
      (await redis.smembers(`${namespace}:workers`)).find((id) => !id.split(':')[0]!.includes('~')),
    );
    expect(stats.pid).toBe(worker.pid);
    expect(stats.failed).toBe(2);
    expect(stats.givenBack).toBe(0);
    expect(stats.rssBytes).toBeGreaterThan(0);
    expect(stats.restarts).toBe(1);
    expect(stats.restartReasons).toEqual({ exit: 1 });
    expect(stats.recentRestarts[0]?.detail).toMatch(/^Child process exited with code 3 \(pid \d+\)/);

    const children = stats.children;
    expect(children.map((c) => c.pid).sort((a, b) => a - b)).toEqual(childrenOf(worker.pid));
    expect(children.map((c) => c.index)).toEqual([0, 1, null]);
    expect(children.map((c) => c.state)).toEqual(['ready', 'ready', 'spare']);
    for (const child of children) {
      expect(child.rssBytes).toBeGreaterThan(10 * 1024 * 1024);
      expect(child.startedAt).toBeLessThanOrEqual(stats.updatedAt);
      expect(child.running).toBe(0);
    }
    const replaced = children.find((c) => c.restarts === 1);
    expect(replaced?.lastRestart).toMatchObject({ reason: 'exit', index: replaced?.index });
    expect(children.filter((c) => c.restarts === 0)).toHaveLength(2);
    const done = children.reduce((sum, c) => sum + c.jobsDone, 0);
    const failed = children.reduce((sum, c) => sum + c.jobsFailed, 0);
    expect(done).toBeLessThanOrEqual(4);
    expect(failed).toBeLessThanOrEqual(1);

    worker.signal('SIGQUIT');
    await worker.exited;
    expect(await redis.exists(`${namespace}:ts:worker-stats:${stats.id}`)).toBe(0);
    await resque.close();
  });

  it('an in-process worker writes its counters and memory too', async () => {
    const namespace = uniqueNamespace('stats-none');
    const resque = new Resque({ redis: sharedRedisUrl(), namespace });
    const worker = spawnWorker({
      REDIS_URL: sharedRedisUrl(),
      RESQUE_NAMESPACE: namespace,
      RESQUE_ISOLATION: 'none',
      QUEUES: 'q',
      INTERVAL: '0.2',
      RESQUE_HEARTBEAT_INTERVAL: '0.2',
    });
    try {
      await resque.enqueueTo('q', 'Record', 1);
      await awaitPerformed(redis, namespace, 1);
      const stats = await statsWhere(namespace, (s) => s.processed === 1);
      expect(stats).toMatchObject({
        isolation: 'none',
        slots: 1,
        count: 0,
        children: [],
        restarts: 0,
        failed: 0,
      });
      expect(stats.pid).toBe(worker.pid);
    } finally {
      worker.signal('SIGQUIT');
      await worker.exited;
      await resque.close();
    }
  });
});
