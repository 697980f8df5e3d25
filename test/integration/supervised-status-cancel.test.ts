// Status and cancel with jobs running in a real supervised `resque work` (test/fixtures/child-jobs/status.mjs): one
// tracked job through every state it can pass on its way to success, and a cancel in every place a job can be, each
// recorded as cancelled and never as a failure. Uses dist/.
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { JobNotCompletedError, type JobStatus, Resque } from '../../src/index.js';
import { Keys } from '../../src/protocol/keys.js';
import { moveRetries } from '../../src/scheduler/retry-promotion.js';
// @ts-expect-error: a plain ES module of the fixtures, built on dist/
import { StatusTour, TrackedHangs } from '../fixtures/child-jobs/status.mjs';
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
const clients: Resque[] = [];
afterEach(async () => {
  for (const worker of started.splice(0)) {
    const kids = childrenOf(worker.pid);
    worker.child.kill('SIGKILL');
    for (const pid of kids) kill(pid);
  }
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

async function supervised(env: Record<string, string> = {}) {
  const namespace = uniqueNamespace('sup-tour');
  const worker = spawnWorker(
    {
      REDIS_URL: sharedRedisUrl(),
      RESQUE_NAMESPACE: namespace,
      RESQUE_ISOLATION: 'process',
      COUNT: '1',
      CONCURRENCY: '2',
      QUEUES: 'q',
      INTERVAL: '0.2',
      ...env,
    },
    ['--require', FIXTURE],
  );
  started.push(worker);
  const [child] = await readyChildren(worker);
  // The client knows the definitions: a tracked job's enqueue writes its record and marks its payload.
  const resque = new Resque({ redis: sharedRedisUrl(), namespace, jobs: [StatusTour, TrackedHangs] });
  clients.push(resque);
  return { namespace, keys: new Keys(namespace), worker, child: child!, resque };
}

async function reaches(
  resque: Resque,
  id: string,
  state: JobStatus['state'],
  also: (status: JobStatus) => boolean = () => true,
): Promise<JobStatus> {
  return waitFor(
    async () => {
      const status = await resque.status(id);
      return status.state === state && also(status) ? status : undefined;
    },
    30_000,
    `job ${id} to be ${state}`,
  );
}

const go = (namespace: string, name: string, attempt: number) =>
  redis.rpush(`${namespace}:test:go:${name}:${attempt}`, 'go');

describe('a tracked job in a supervised worker', () => {
  it('goes through delayed, queued, running with progress, retrying, running again and completed', async () => {
    const { namespace, keys, worker, child, resque } = await supervised();
    await resque.pauseQueue('q');
    const scheduled = (await resque.enqueueIn(3_600_000, StatusTour, 'tour'))!;
    const id = scheduled.id!;
    expect(await resque.status(id)).toMatchObject({
      state: 'delayed',
      source: 'record',
      className: 'StatusTour',
      queue: 'q',
      nextAt: scheduled.dueAtMs,
    });

    // Queued now, ahead of its due time, on a paused queue: it waits there.
    expect(await resque.delayed.queueAllAt(Math.ceil(scheduled.dueAtMs / 1000))).toBe(1);
    const queued = await resque.status(id);
    expect(queued).toMatchObject({ state: 'queued', source: 'record' });
    expect(queued.nextAt).toBeUndefined();

    const progress: unknown[] = [];
    const waiting = resque.waitFor(id, { timeoutMs: 60_000, onProgress: (value) => progress.push(value) });
    await resque.resumeQueue('q');
    const running = await reaches(resque, id, 'running', (s) => s.progress !== undefined);
    expect(running).toMatchObject({ attempt: 1, returns: 0, progress: { attempt: 1 } });
    expect(running.worker).toMatch(new RegExp(`:${worker.pid}(-\\d+)?:q$`));
    expect(running.startedAt).toBeGreaterThan(0);

    await go(namespace, 'tour', 1);
    const retrying = await reaches(resque, id, 'retrying');
    expect(retrying).toMatchObject({
      attempt: 1,
      error: { class: 'Error', message: 'the first attempt fails' },
    });
    // The record says retrying just before the retry is filed.
    const [member, due] = await waitFor(
      async () => {
        const found = await redis.zrange(keys.retrySet, 0, -1, 'WITHSCORES');
        return found.length === 2 ? found : undefined;
      },
      10_000,
      'the retry filed',
    );
    // The record's next_at is the worker's clock plus the delay; the retry set's score, the Redis clock's, rules.
    expect(Math.abs(retrying.nextAt! - Number(due))).toBeLessThan(1000);

    expect(await moveRetries({ redis, keys }, [member!], Number(due))).toBe(1);
    const again = await reaches(resque, id, 'running', (s) => s.attempt === 2);
    expect(again.nextAt).toBeUndefined();
    await reaches(resque, id, 'running', (s) => JSON.stringify(s.progress) === '{"attempt":2}');

    await go(namespace, 'tour', 2);
    const done = await waiting;
    expect(done).toMatchObject({ state: 'completed', attempt: 2, result: { attempt: 2, pid: child } });
    expect(progress).toContainEqual({ attempt: 2 });
    expect(await redis.llen(keys.failed)).toBe(0);
    // The record is written before the acknowledgement, which counts the job.
    await waitFor(async () => (await redis.get(keys.processed)) === '2', 10_000, 'two acknowledgements');
    expect(await redis.get(keys.failedCount)).toBe('1');
  });
});

describe('cancel in a supervised worker', () => {
  it('a queued job is dropped at reservation, a delayed and a retrying one removed, a running one aborted in its child: each cancelled, none failed', async () => {
    const { namespace, keys, resque } = await supervised();
    const cancelled = async (id: string) => {
      const error = await resque.waitFor(id, { timeoutMs: 30_000 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(JobNotCompletedError);
      expect((error as JobNotCompletedError).status).toMatchObject({ state: 'cancelled', source: 'record' });
    };

    // Queued (its queue paused, so it waits), with a job behind it that must still run.
    await resque.pauseQueue('q');
    const queued = (await resque.enqueue(StatusTour, 'queued'))!.id!;
    await resque.enqueueTo('q', 'Record', 1);
    expect(await resque.cancel(queued)).toEqual({ id: queued, was: 'queued' });
    await resque.resumeQueue('q');
    await waitFor(
      async () => (await redis.hlen(`${namespace}:test:ledger:1`)) === 1,
      30_000,
      'the job behind',
    );
    await waitFor(async () => (await redis.get(keys.cancelledCount)) === '1', 10_000, 'the drop');
    await cancelled(queued);

    const delayed = (await resque.enqueueIn(3_600_000, StatusTour, 'delayed'))!.id!;
    expect(await resque.cancel(delayed)).toEqual({ id: delayed, was: 'delayed' });
    await cancelled(delayed);
    expect(await redis.zcard(keys.delayedDue)).toBe(0);

    const retrying = (await resque.enqueue(StatusTour, 'retrying'))!.id!;
    await reaches(resque, retrying, 'running');
    await go(namespace, 'retrying', 1);
    await reaches(resque, retrying, 'retrying');
    await waitFor(async () => (await redis.zcard(keys.retrySet)) === 1, 10_000, 'the retry filed');
    expect(await resque.cancel(retrying)).toEqual({ id: retrying, was: 'retrying' });
    await cancelled(retrying);
    expect(await redis.zcard(keys.retrySet)).toBe(0);

    const running = (await resque.enqueue(StatusTour, 'running'))!.id!;
    await reaches(resque, running, 'running');
    expect(await resque.cancel(running)).toMatchObject({ id: running, was: 'running' });
    await cancelled(running);
    await waitFor(async () => (await redis.get(keys.cancelledCount)) === '2', 10_000, 'the running cancel');

    expect(await redis.llen(keys.failed)).toBe(0);
    expect(await redis.llen(keys.queue('q'))).toBe(0);
    // The retrying job's first attempt is the only failure counted.
    expect(await redis.get(keys.failedCount)).toBe('1');
  });

  it('a running job that ignores its signal has its child killed after the grace period, and ends cancelled', async () => {
    const { keys, worker, resque } = await supervised({ RESQUE_CANCEL_GRACE: '0.3' });
    const id = (await resque.enqueue(TrackedHangs))!.id!;
    await reaches(resque, id, 'running');
    expect(await resque.cancel(id)).toMatchObject({ id, was: 'running' });
    const error = await resque.waitFor(id, { timeoutMs: 30_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobNotCompletedError);
    expect((error as JobNotCompletedError).status.state).toBe('cancelled');
    await waitFor(() => /replaced \(cancel\)/.test(worker.output()), 10_000, 'the child replaced');
    expect(await redis.get(keys.cancelledCount)).toBe('1');
    expect(await redis.llen(keys.failed)).toBe(0);
    expect(await redis.get(keys.failedCount)).toBeNull();
  });
});
