// Retries in a supervised worker (test/fixtures/child-jobs/retries.mjs): a job's own error is judged in its child,
// a death or a time limit in the supervisor; either way the next attempt is filed by the supervisor, and
// retries_exhausted runs there once the failure is final.
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Resque } from '../../src/index.js';
import { Keys } from '../../src/protocol/keys.js';
import { decodePayload } from '../../src/protocol/payload.js';
import { moveRetries } from '../../src/scheduler/retry-promotion.js';
import { keysUnder, rawRedis, sharedRedisUrl, uniqueNamespace, waitFor } from '../harness/context.js';
import { awaitFailures, childrenOf, kill, readyChildren, startSupervised } from '../harness/supervised.js';

let redis: Redis;
beforeAll(() => {
  redis = rawRedis();
});
afterAll(() => redis.disconnect());

async function started(env: Record<string, string> = {}) {
  const namespace = uniqueNamespace('sup-retry');
  const worker = startSupervised(namespace, env);
  await readyChildren(worker);
  const resque = new Resque({ redis: sharedRedisUrl(), namespace });
  return { namespace, keys: new Keys(namespace), worker, resque };
}

const log = (namespace: string) => redis.lrange(`${namespace}:test:log`, 0, -1);

async function awaitLog(namespace: string, count: number): Promise<string[]> {
  return waitFor(
    async () => {
      const entries = await log(namespace);
      return entries.length >= count ? entries : undefined;
    },
    30_000,
    `${count} log entries`,
  );
}

describe('a supervised worker retrying', () => {
  it('a job whose child died is retried in a fresh child, not listed as failed', async () => {
    const { namespace, keys, worker, resque } = await started();
    try {
      await resque.enqueueTo('q', 'DiesOnce');
      const entries = await awaitLog(namespace, 3);
      const [first, onFailure, second] = entries;
      expect(first).toMatch(/^DiesOnce attempt 1 returns 0 pid \d+$/);
      expect(onFailure).toBe(`DiesOnce on_failure DirtyExit pid ${worker.pid}`);
      expect(second).toMatch(/^DiesOnce attempt 2 returns 0 pid \d+$/);
      expect(second!.split(' pid ')[1]).not.toBe(first!.split(' pid ')[1]);
      await waitFor(async () => (await redis.get(keys.processed)) === '2', 10_000, 'two acknowledgements');
      expect(await redis.get(keys.failedCount)).toBe('1');
      expect(await redis.llen(keys.failed)).toBe(0);
    } finally {
      await resque.close();
    }
  });

  it("a job's own error is judged in its child; the final failure keeps its history and retries_exhausted runs in the supervisor", async () => {
    const { namespace, keys, worker, resque } = await started();
    try {
      await resque.enqueueTo('q', 'ThrowsTransient');
      const [record] = await awaitFailures(redis, namespace, 1);
      expect(record).toMatchObject({
        exception: 'Transient',
        error: 'still down (attempt 2)',
        payload: {
          class: 'ThrowsTransient',
          attempt: 2,
          errors: [{ attempt: 1, error: 'still down (attempt 1)' }],
        },
      });
      const entries = await awaitLog(namespace, 5);
      const child = entries[0]!.split(' pid ')[1];
      expect(entries).toEqual([
        `ThrowsTransient attempt 1 pid ${child}`,
        `ThrowsTransient on_failure Transient pid ${child}`,
        `ThrowsTransient attempt 2 pid ${child}`,
        `ThrowsTransient on_failure Transient pid ${child}`,
        `ThrowsTransient exhausted Transient: still down (attempt 2) pid ${worker.pid}`,
      ]);
      expect(await redis.mget(keys.processed, keys.failedCount)).toEqual(['2', '2']);
    } finally {
      await resque.close();
    }
  });

  it('a job past its time limit is retried', async () => {
    const { namespace, keys, resque } = await started();
    try {
      await resque.enqueueTo('q', 'SlowOnce');
      const entries = await awaitLog(namespace, 3);
      expect(entries).toEqual([
        'SlowOnce attempt 1',
        'SlowOnce on_failure JobTimeoutError pid ' + entries[1]!.split(' pid ')[1],
        'SlowOnce attempt 2',
      ]);
      await waitFor(async () => (await redis.get(keys.processed)) === '2', 10_000, 'two acknowledgements');
      expect(await redis.llen(keys.failed)).toBe(0);
      const groups = (await redis.hvals(keys.failureGroupDetails)).map((g) => JSON.parse(g));
      expect(groups).toMatchObject([{ count: 1, exception: 'JobTimeoutError' }]);
    } finally {
      await resque.close();
    }
  });

  it('a retry waiting in the set outlives its worker killed with -9, and a new worker runs it when due', async () => {
    const first = await started();
    const { namespace, keys, resque } = first;
    try {
      await resque.enqueueTo('q', 'RetriesInAnHour');
      const [member, due] = await waitFor(
        async () => {
          const found = await redis.zrange(keys.retrySet, 0, -1, 'WITHSCORES');
          return found.length === 2 ? found : undefined;
        },
        30_000,
        'the retry to be filed',
      );
      const kids = childrenOf(first.worker.pid);
      first.worker.signal('SIGKILL');
      for (const pid of kids) kill(pid);
      await first.worker.exited;
      expect(await redis.zrange(keys.retrySet, 0, -1)).toEqual([member]);
      const inflight = (await keysUnder(redis, namespace)).filter((key) => key.includes(':ts:inflight:'));
      expect(inflight).toEqual([]);

      const second = startSupervised(namespace);
      await readyChildren(second);
      expect(await redis.zcard(keys.retrySet)).toBe(1);
      expect(await moveRetries({ redis, keys }, [member!], Number(due))).toBe(1);
      const entries = await awaitLog(namespace, 2);
      expect(entries[1]).toMatch(/^RetriesInAnHour attempt 2 /);
      expect(decodePayload(member!.slice(member!.indexOf('\nq\n') + 3)).attempt).toBe(2);
    } finally {
      await resque.close();
    }
  });
});
