// resque.cancel(id) (docs/cancel.md): a queued job's tombstone drops it at reservation (on its queue, a fair queue's
// tenant list, or parked by a limit), delayed and retrying jobs are removed, running ones are aborted in-process and
// in a child (killed after the grace period), and none of them is ever recorded as failed.
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/resolve.js';
import { defineJob, InvalidJobIdError, Resque } from '../../src/index.js';
import type { AnyJob } from '../../src/jobs/registry.js';
import { createLogger } from '../../src/logging/logger.js';
import { Keys } from '../../src/protocol/keys.js';
import { loadAppModules } from '../../src/worker/load-jobs.js';
import { SupervisedExecutor } from '../../src/worker/supervisor/supervised-executor.js';
import { Worker, type WorkerOptions } from '../../src/worker/worker.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace, waitFor } from '../harness/context.js';

let redis: Redis;
beforeAll(() => {
  redis = rawRedis();
});
afterAll(async () => {
  await redis.quit();
});

const workers: Worker[] = [];
const clients: Resque[] = [];
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop('term')));
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

function client(namespace: string): Resque {
  const resque = new Resque({ redis: sharedRedisUrl(), namespace });
  clients.push(resque);
  return resque;
}

async function startWorker(namespace: string, jobs: AnyJob[], options: Partial<WorkerOptions> = {}) {
  const worker = new Worker({
    redis: sharedRedisUrl(),
    namespace,
    queues: ['q'],
    jobs,
    isolation: 'none',
    logLevel: 'silent',
    setProcessTitle: false,
    intervalMs: 100,
    ...options,
  });
  workers.push(worker);
  await worker.start();
  return worker;
}

/** A job that records what ran, in order. */
function recorder(className = 'Work') {
  const ran: string[] = [];
  const Job = defineJob({
    className,
    queue: 'q',
    perform: (_ctx, name: string) => void ran.push(name),
  });
  return { Job, ran };
}

/** Messages published on a channel from now on. */
async function listen(channel: string): Promise<{ messages: string[]; close: () => void }> {
  const subscriber = rawRedis();
  const messages: string[] = [];
  subscriber.on('message', (_c: string, message: string) => messages.push(message));
  await subscriber.subscribe(channel);
  return { messages, close: () => subscriber.disconnect() };
}

describe('cancelling a queued job', () => {
  it('drops the tombstoned job when a worker pops it; the jobs behind it run, nothing else is lost', async () => {
    const namespace = uniqueNamespace('cancel-queued');
    const keys = new Keys(namespace);
    const resque = client(namespace);
    const { Job, ran } = recorder();
    await resque.enqueue(Job, 'a');
    const b = await resque.enqueue(Job, 'b');
    await resque.enqueue(Job, 'c');
    const cancelled = await resque.cancel(b!.id!);
    expect(cancelled).toEqual({ id: b!.id, was: 'unknown' });
    expect(await redis.zscore(keys.cancelledQueued, b!.id!)).not.toBeNull();
    await startWorker(namespace, [Job]);
    await waitFor(async () => (await redis.get(keys.processed)) === '2', 10_000, 'two jobs processed');
    expect(ran).toEqual(['a', 'c']);
    expect(await redis.get(keys.cancelledCount)).toBe('1');
    expect(await redis.zcard(keys.cancelledQueued)).toBe(0);
    expect(await redis.llen(keys.queue('q'))).toBe(0);
    expect(await redis.llen(keys.failed)).toBe(0);
    expect(await redis.get(keys.failedCount)).toBeNull();
    expect(await redis.zscore(keys.nonEmptyQueues, 'q')).toBeNull();
  });

  it('a queue holding only a cancelled job ends empty and out of the index', async () => {
    const namespace = uniqueNamespace('cancel-only');
    const keys = new Keys(namespace);
    const resque = client(namespace);
    const { Job, ran } = recorder();
    const only = await resque.enqueue(Job, 'x');
    await resque.cancel(only!.id!);
    await startWorker(namespace, [Job]);
    await waitFor(async () => (await redis.get(keys.cancelledCount)) === '1', 10_000, 'the drop');
    expect(ran).toEqual([]);
    expect(await redis.llen(keys.queue('q'))).toBe(0);
    expect(await redis.zscore(keys.nonEmptyQueues, 'q')).toBeNull();
    expect(await redis.get(keys.processed)).toBeNull();
  });

  it('marks a tracked job cancelled and says it was queued; a finished one is left alone', async () => {
    const namespace = uniqueNamespace('cancel-tracked');
    const keys = new Keys(namespace);
    const resque = client(namespace);
    const { Job } = recorder();
    const job = await resque.enqueue(Job, 'a');
    const id = job!.id!;
    await redis.hset(keys.jobStatus(id), 'state', 'queued', 'updated_at', '1');
    const events = await listen(keys.jobEvents(id));
    try {
      expect(await resque.cancel(id, { nowMs: 1_700_000_000_000 })).toEqual({ id, was: 'queued' });
      expect(await redis.hgetall(keys.jobStatus(id))).toEqual({
        state: 'cancelled',
        cancelled_at: '1700000000000',
        updated_at: '1700000000000',
      });
      await waitFor(() => events.messages.length === 1, 5000, 'the cancelled event');
      expect(JSON.parse(events.messages[0]!)).toEqual({
        state: 'cancelled',
        id,
        cancelled_at: 1_700_000_000_000,
      });
    } finally {
      events.close();
    }
    await redis.hset(keys.jobStatus('done1'), 'state', 'completed');
    expect(await resque.cancel('done1')).toEqual({ id: 'done1', was: 'finished', state: 'completed' });
    expect(await redis.zscore(keys.cancelledQueued, 'done1')).toBeNull();
  });

  it('an unknown id is not an error (and writes no status record); a malformed one is refused', async () => {
    const namespace = uniqueNamespace('cancel-unknown');
    const keys = new Keys(namespace);
    const resque = client(namespace);
    expect(await resque.cancel('0123456789abcdef01234567')).toEqual({
      id: '0123456789abcdef01234567',
      was: 'unknown',
    });
    expect(await redis.exists(keys.jobStatus('0123456789abcdef01234567'))).toBe(0);
    await expect(resque.cancel('a"b')).rejects.toThrow(InvalidJobIdError);
    await expect(resque.cancel('*')).rejects.toThrow(InvalidJobIdError);
    await expect(resque.cancel('')).rejects.toThrow(InvalidJobIdError);
  });

  it('trims tombstones older than a week at the next reservation', async () => {
    const namespace = uniqueNamespace('cancel-trim');
    const keys = new Keys(namespace);
    const resque = client(namespace);
    const now = Date.now();
    await resque.cancel('fresh', { nowMs: now });
    await redis.zadd(keys.cancelledQueued, now - 8 * 24 * 3600 * 1000, 'stale');
    expect(await redis.zcard(keys.cancelledQueued)).toBe(2);
    const { Job } = recorder();
    await resque.enqueue(Job, 'a');
    await startWorker(namespace, [Job]);
    await waitFor(async () => (await redis.get(keys.processed)) === '1', 10_000, 'a reservation');
    expect(await redis.zrange(keys.cancelledQueued, 0, -1)).toEqual(['fresh']);
  });

  it("drops a cancelled job on a fair queue's tenant list", async () => {
    const namespace = uniqueNamespace('cancel-fair');
    const keys = new Keys(namespace);
    const resque = client(namespace);
    const ran: string[] = [];
    const Job = defineJob({
      className: 'TenantWork',
      queue: 'q',
      tenant: (tenant: string, _n: number) => tenant,
      perform: (_ctx, tenant: string, n: number) => void ran.push(`${tenant}${n}`),
    });
    await resque.fairQueue('q');
    await resque.enqueue(Job, 'x', 1);
    const dropped = await resque.enqueue(Job, 'y', 1);
    await resque.enqueue(Job, 'x', 2);
    await resque.cancel(dropped!.id!);
    await startWorker(namespace, [Job]);
    await waitFor(async () => (await redis.get(keys.processed)) === '2', 10_000, 'two tenant jobs');
    expect(ran.sort()).toEqual(['x1', 'x2']);
    expect(await redis.get(keys.cancelledCount)).toBe('1');
  });

  it('drops a cancelled job parked by a concurrency limit when it is let back', async () => {
    const namespace = uniqueNamespace('cancel-parked');
    const keys = new Keys(namespace);
    const resque = client(namespace);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const ran: string[] = [];
    const Job = defineJob({
      className: 'Limited',
      queue: 'q',
      concurrency: { limit: 1 },
      perform: async (_ctx, name: string) => {
        ran.push(name);
        if (name === 'first') await gate;
      },
    });
    await startWorker(namespace, [Job], { concurrency: 2 });
    await resque.enqueue(Job, 'first');
    await waitFor(() => ran.includes('first'), 10_000, 'the first job');
    const parked = await resque.enqueue(Job, 'parked');
    await waitFor(
      async () => (await redis.llen(keys.parked('class:Limited'))) === 1,
      10_000,
      'the parked job',
    );
    expect((await resque.cancel(parked!.id!)).was).toBe('unknown');
    await resque.enqueue(Job, 'after');
    release();
    await waitFor(() => ran.includes('after'), 10_000, 'the job after it');
    await waitFor(async () => (await redis.get(keys.cancelledCount)) === '1', 10_000, 'the drop');
    expect(ran).toEqual(['first', 'after']);
    expect(await redis.llen(keys.failed)).toBe(0);
  });
});

describe('cancelling a delayed or retrying job', () => {
  it('removes a delayed job and every side record of it', async () => {
    const namespace = uniqueNamespace('cancel-delayed');
    const keys = new Keys(namespace);
    const resque = client(namespace);
    const { Job } = recorder();
    const kept = await resque.enqueueIn(60_000, Job, 'same');
    const gone = await resque.enqueueIn(60_000, Job, 'same');
    expect(await redis.zcard(keys.delayedDue)).toBe(2);
    expect(await resque.cancel(gone!.id!)).toEqual({ id: gone!.id, was: 'delayed' });
    const members = await redis.zrange(keys.delayedDue, 0, -1);
    expect(members).toHaveLength(1);
    expect(members[0]!.endsWith(`-${kept!.id}`)).toBe(true);
    expect(await redis.hlen(keys.delayedRecords)).toBe(1);
    expect((await redis.hvals(keys.delayedByItem)).join(' ').split(' ')).toEqual(members);
    const [second] = await redis.zrange(keys.delayedSchedule, 0, -1);
    expect(await redis.llen(keys.delayedAt(Number(second)))).toBe(1);
    expect(await redis.zcard(keys.cancelledQueued)).toBe(0);
    expect(await resque.cancel(kept!.id!)).toEqual({ id: kept!.id, was: 'delayed' });
    expect(await redis.zcard(keys.delayedSchedule)).toBe(0);
    expect(await redis.zcard(keys.delayedDue)).toBe(0);
    expect(await redis.hlen(keys.delayedRecords)).toBe(0);
    expect(await redis.hlen(keys.delayedByItem)).toBe(0);
    const item = '{"class":"Work","args":["same"],"queue":"q"}';
    expect(await redis.exists(keys.timestamps(item), keys.delayedAt(Number(second)))).toBe(0);
  });

  it('removes a job waiting to be retried: it never runs again and is never listed as failed', async () => {
    const namespace = uniqueNamespace('cancel-retry');
    const keys = new Keys(namespace);
    const resque = client(namespace);
    let attempts = 0;
    const Job = defineJob({
      className: 'Flaky',
      queue: 'q',
      attempts: 3,
      backoff: { type: 'fixed', delayMs: 60_000 },
      perform: () => {
        attempts++;
        throw new Error('broke');
      },
    });
    await startWorker(namespace, [Job]);
    const job = await resque.enqueue(Job);
    await waitFor(async () => (await redis.zcard(keys.retrySet)) === 1, 10_000, 'the retry');
    expect(await resque.cancel(job!.id!)).toEqual({ id: job!.id, was: 'retrying' });
    expect(await redis.zcard(keys.retrySet)).toBe(0);
    expect(await redis.zcard(keys.cancelledQueued)).toBe(0);
    expect(attempts).toBe(1);
    expect(await redis.llen(keys.failed)).toBe(0);
  });
});

describe('cancelling a running job in the worker process', () => {
  it('aborts its signal; the job ends as cancelled: no failure, no retry, no on_failure hook', async () => {
    const namespace = uniqueNamespace('cancel-running');
    const keys = new Keys(namespace);
    const resque = client(namespace);
    const seen: string[] = [];
    const Waits = defineJob({
      className: 'Waits',
      queue: 'q',
      attempts: 3,
      perform: (ctx) =>
        new Promise<void>((_resolve, reject) => {
          seen.push('started');
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
        }),
      hooks: { on_failure: () => void seen.push('on_failure') },
    });
    const { Job, ran } = recorder();
    const worker = await startWorker(namespace, [Waits, Job], { concurrency: 2 });
    const finishes: string[] = [];
    worker.on('job:finish', (_r, outcome) => finishes.push(outcome.kind));
    const job = await resque.enqueue(Waits);
    await waitFor(() => seen.includes('started'), 10_000, 'the job to start');
    const result = await resque.cancel(job!.id!);
    expect(result).toMatchObject({ id: job!.id, was: 'running' });
    expect(worker.slotIds).toContain((result as { workerId: string }).workerId);
    await waitFor(async () => (await redis.get(keys.cancelledCount)) === '1', 10_000, 'the cancel');
    // The count is written by the acknowledgement, before the worker emits job:finish.
    await waitFor(() => finishes.length > 0, 10_000, 'job:finish');
    expect(finishes).toEqual(['cancelled']);
    expect(seen).toEqual(['started']);
    expect(await redis.llen(keys.failed)).toBe(0);
    expect(await redis.zcard(keys.retrySet)).toBe(0);
    expect(await redis.get(keys.processed)).toBeNull();
    expect(await redis.zcard(keys.cancelRunning)).toBe(0);
    expect(await redis.zcard(keys.cancelledQueued)).toBe(0);
    expect(await redis.keys(`${namespace}:ts:inflight:*`)).toEqual([]);
    await resque.enqueue(Job, 'next');
    await waitFor(() => ran.includes('next'), 10_000, 'the next job');
  });

  it("frees the cancelled job's concurrency token: the next job of its class starts", async () => {
    const namespace = uniqueNamespace('cancel-limit');
    const keys = new Keys(namespace);
    const resque = client(namespace);
    const started: string[] = [];
    const Limited = defineJob({
      className: 'Limited',
      queue: 'q',
      concurrency: { limit: 1 },
      perform: (ctx, name: string) =>
        new Promise<void>((resolve, reject) => {
          started.push(name);
          if (name !== 'first') resolve();
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
        }),
    });
    await startWorker(namespace, [Limited], { concurrency: 2 });
    const first = await resque.enqueue(Limited, 'first');
    await resque.enqueue(Limited, 'second');
    await waitFor(
      async () => (await redis.llen(keys.parked('class:Limited'))) === 1,
      10_000,
      'the parked job',
    );
    expect(started).toEqual(['first']);
    await resque.cancel(first!.id!);
    await waitFor(() => started.includes('second'), 10_000, 'the next job');
    await waitFor(async () => (await redis.get(keys.processed)) === '1', 10_000, 'its acknowledgement');
    expect(await redis.get(keys.cancelledCount)).toBe('1');
    expect(await redis.scard(keys.limitHolders('class:Limited'))).toBe(0);
  });

  it('cancels only the job asked for among the jobs reserved together', async () => {
    const namespace = uniqueNamespace('cancel-batch');
    const keys = new Keys(namespace);
    const resque = client(namespace);
    const aborted: number[] = [];
    const started: number[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const Waits = defineJob({
      className: 'Waits',
      queue: 'q',
      perform: (ctx, n: number) =>
        new Promise<void>((resolve, reject) => {
          started.push(n);
          ctx.signal.addEventListener(
            'abort',
            () => {
              aborted.push(n);
              reject(ctx.signal.reason);
            },
            { once: true },
          );
          void gate.then(resolve);
        }),
    });
    const ids: string[] = [];
    for (let n = 0; n < 3; n++) ids.push((await resque.enqueue(Waits, n))!.id!);
    await startWorker(namespace, [Waits], { concurrency: 3 });
    await waitFor(() => started.length === 3, 10_000, 'three jobs');
    await resque.cancel(ids[1]!);
    await waitFor(async () => (await redis.get(keys.cancelledCount)) === '1', 10_000, 'the cancel');
    release();
    await waitFor(async () => (await redis.get(keys.processed)) === '2', 10_000, 'the others');
    expect(aborted).toEqual([1]);
  });

  it('a job that succeeds before it notices counts as completed, and the request is cleared', async () => {
    const namespace = uniqueNamespace('cancel-late');
    const keys = new Keys(namespace);
    const resque = client(namespace);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let started = false;
    const Deaf = defineJob({
      className: 'Deaf',
      queue: 'q',
      perform: async () => {
        started = true;
        await gate;
      },
    });
    // The request is cleared by the job's end if the worker saw it in time, else by its beats.
    await startWorker(namespace, [Deaf], { livenessIntervalMs: 100, livenessTimeoutMs: 5000 });
    const job = await resque.enqueue(Deaf);
    await waitFor(() => started, 10_000, 'the job to start');
    expect((await resque.cancel(job!.id!)).was).toBe('running');
    release();
    await waitFor(async () => (await redis.get(keys.processed)) === '1', 10_000, 'completion');
    await waitFor(async () => (await redis.zcard(keys.cancelRunning)) === 0, 5000, 'the request cleared');
    expect(await redis.zcard(keys.cancelledQueued)).toBe(0);
    expect(await redis.get(keys.cancelledCount)).toBeNull();
  });

  it('a request whose message was missed is found at the next liveness beat', async () => {
    const namespace = uniqueNamespace('cancel-beat');
    const keys = new Keys(namespace);
    const resque = client(namespace);
    let started = false;
    const Waits = defineJob({
      className: 'Waits',
      queue: 'q',
      perform: (ctx) =>
        new Promise<void>((_resolve, reject) => {
          started = true;
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
        }),
    });
    await startWorker(namespace, [Waits], { livenessIntervalMs: 100, livenessTimeoutMs: 5000 });
    const job = await resque.enqueue(Waits);
    await waitFor(() => started, 10_000, 'the job to start');
    // As if the worker's subscriber had been down when cancel() published: only the record is there.
    const [slot] = await redis.smembers(keys.workers);
    await redis.zadd(keys.cancelRunning, Date.now(), `${slot}\n${job!.id!}`);
    await waitFor(async () => (await redis.get(keys.cancelledCount)) === '1', 10_000, 'the cancel');
    expect(await redis.zcard(keys.cancelRunning)).toBe(0);
    expect(await redis.llen(keys.failed)).toBe(0);
  });
});

describe('cancelling a running job in a child process', () => {
  const childEntry = fileURLToPath(new URL('../../dist/worker/supervisor/child.js', import.meta.url));
  const fixture = (name: string) =>
    fileURLToPath(new URL(`../fixtures/child-jobs/${name}.mjs`, import.meta.url));

  // The child-job fixtures write where they ran to the Redis and namespace of their environment.
  const saved = { url: process.env['REDIS_URL'], namespace: process.env['RESQUE_NAMESPACE'] };
  afterEach(() => {
    for (const [name, value] of [
      ['REDIS_URL', saved.url],
      ['RESQUE_NAMESPACE', saved.namespace],
    ] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  async function supervised(namespace: string, modules: string[], cancelGraceMs: number) {
    process.env['REDIS_URL'] = sharedRedisUrl();
    process.env['RESQUE_NAMESPACE'] = namespace;
    const app = await loadAppModules(modules);
    const executor = new SupervisedExecutor({
      modules,
      config: resolveConfig(
        { redis: sharedRedisUrl(), namespace, queues: ['q'], count: 1, cancelGraceMs },
        {},
      ),
      jobs: new (await import('../../src/jobs/registry.js')).JobRegistry(app.jobs),
      logger: createLogger('silent'),
      setProcessTitle: false,
      childEntry,
      execArgv: [],
    });
    const worker = await startWorker(namespace, app.jobs, { executor });
    return { worker, executor };
  }

  it("fires the job's AbortSignal in its child; the job stops and is recorded as cancelled", async () => {
    const namespace = uniqueNamespace('cancel-child');
    const keys = new Keys(namespace);
    const resque = client(namespace);
    const { worker } = await supervised(namespace, [fixture('waits-for-abort')], 60_000);
    const started = new Promise((resolve) => worker.once('job:start', resolve));
    const job = await resque.enqueueTo('q', 'WaitsForAbort');
    await started;
    await waitFor(async () => (await resque.cancel(job!.id!)).was === 'running', 10_000, 'the job running');
    await waitFor(async () => (await redis.get(keys.cancelledCount)) === '1', 20_000, 'the cancel');
    expect(await redis.llen(keys.failed)).toBe(0);
    expect(worker.stats().restarts).toBe(0);
  });

  it('kills the child of a job that ignores its signal once the grace period is over', async () => {
    const namespace = uniqueNamespace('cancel-kill');
    const keys = new Keys(namespace);
    const resque = client(namespace);
    const { worker } = await supervised(namespace, [fixture('hangs')], 300);
    const finishes: string[] = [];
    worker.on('job:finish', (_r, outcome) => finishes.push(outcome.kind));
    const started = new Promise((resolve) => worker.once('job:start', resolve));
    const job = await resque.enqueueTo('q', 'Hangs', 1);
    await started;
    await waitFor(async () => (await resque.cancel(job!.id!)).was === 'running', 10_000, 'the job running');
    await waitFor(async () => (await redis.get(keys.cancelledCount)) === '1', 20_000, 'the kill');
    // The count is written by the acknowledgement, before the worker emits job:finish.
    await waitFor(() => finishes.length > 0, 10_000, 'job:finish');
    expect(finishes).toEqual(['cancelled']);
    expect(await redis.llen(keys.failed)).toBe(0);
    expect(await redis.llen(keys.queue('q'))).toBe(0);
    await waitFor(() => worker.stats().restarts === 1, 10_000, 'the child replaced');
    expect(worker.stats().restartReasons).toEqual({ cancel: 1 });
  });
});
