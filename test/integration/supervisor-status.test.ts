// Status tracking when jobs run in a supervised worker's children (test/fixtures/child-jobs/status.mjs): the child
// sends a tracked job's progress and result to its supervisor over IPC, and the supervisor writes the record.
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { JobNotCompletedError, Resque } from '../../src/index.js';
import { Keys } from '../../src/protocol/keys.js';
// @ts-expect-error: a plain ES module of the fixtures, built on dist/
import { ChildBadResult, ChildDies, ChildReport } from '../fixtures/child-jobs/status.mjs';
import { rawRedis, sharedRedisUrl, uniqueNamespace, waitFor } from '../harness/context.js';
import { spawnWorker, type WorkerProcess } from '../harness/processes.js';
import { childrenOf, kill, readyChildren } from '../harness/supervised.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/child-jobs/status.mjs', import.meta.url));

let redis: Redis;
beforeAll(() => {
  redis = rawRedis();
});
afterAll(() => redis.disconnect());

const started: WorkerProcess[] = [];
afterEach(() => {
  for (const worker of started.splice(0)) {
    const kids = childrenOf(worker.pid);
    worker.child.kill('SIGKILL');
    for (const pid of kids) kill(pid);
  }
});

describe('status tracking in a supervised worker', () => {
  it('a job in a child reports progress and completes with its result; a bad result and a death fail it', async () => {
    const namespace = uniqueNamespace('sup-status');
    const keys = new Keys(namespace);
    const worker = spawnWorker(
      {
        REDIS_URL: sharedRedisUrl(),
        RESQUE_NAMESPACE: namespace,
        RESQUE_ISOLATION: 'process',
        COUNT: '1',
        CONCURRENCY: '2',
        QUEUES: 'q',
        INTERVAL: '0.2',
      },
      ['--require', FIXTURE],
    );
    started.push(worker);
    const [child] = await readyChildren(worker);
    // The client knows the definitions: a tracked job's enqueue writes its record and marks its payload.
    const resque = new Resque({ redis: sharedRedisUrl(), namespace });
    try {
      const { id } = (await resque.enqueue(ChildReport, 3))!;
      const running = await waitFor(async () => {
        const status = await resque.status(id!);
        return status.state === 'running' && JSON.stringify(status.progress) === '{"step":3}'
          ? status
          : undefined;
      }, 30_000);
      expect(running.worker).toMatch(new RegExp(`:${worker.pid}(-\\d+)?:q$`));
      await redis.rpush(`${namespace}:test:go`, 'go');
      const done = await resque.waitFor(id!, { timeoutMs: 20_000 });
      expect(done).toMatchObject({ state: 'completed', result: { pid: child, steps: 3 } });

      const { id: badId } = (await resque.enqueue(ChildBadResult))!;
      const bad = await resque.waitFor(badId!, { timeoutMs: 20_000 }).catch((e: unknown) => e);
      expect(bad).toBeInstanceOf(JobNotCompletedError);
      expect((bad as JobNotCompletedError).status.error).toEqual({
        class: 'InvalidResultError',
        message:
          'ChildBadResult returned a value JSON cannot carry, so its status record cannot keep it: result is a BigInt, which JSON cannot carry (pass it as a string)',
      });

      const { id: diesId } = (await resque.enqueue(ChildDies))!;
      const died = await resque.waitFor(diesId!, { timeoutMs: 30_000 }).catch((e: unknown) => e);
      expect(died).toBeInstanceOf(JobNotCompletedError);
      expect((died as JobNotCompletedError).status).toMatchObject({
        state: 'failed',
        error: { class: 'Resque::DirtyExit' },
      });
      expect(await redis.exists(keys.jobStatus(diesId!))).toBe(1);
    } finally {
      await resque.close();
    }
  });
});
