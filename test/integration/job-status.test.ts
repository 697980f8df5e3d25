// Job status tracking (docs/status.md) against a real Redis, in a worker that runs jobs in its own process: the
// record through every state, progress, results, waitFor through Pub/Sub, what untracked jobs cost, and what is
// inferred of jobs without a record.
import { connect } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  defineJob,
  JobNotCompletedError,
  JobNotTrackedError,
  type JsonValue,
  Resque,
  WaitTimeoutError,
  withRetry,
  withStatus,
} from '../../src/index.js';
import type { AnyJob } from '../../src/jobs/registry.js';
import { Keys } from '../../src/protocol/keys.js';
import { decodePayload } from '../../src/protocol/payload.js';
import { moveRetries } from '../../src/scheduler/retry-promotion.js';
import { jobStatus } from '../../src/status/lookup.js';
import { Worker } from '../../src/worker/worker.js';
import { onCluster, rawRedis, sharedRedisUrl, uniqueNamespace, waitFor } from '../harness/context.js';
import { removeDir, startRedis } from '../harness/redis-server.js';

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
  for (const gate of gates.values()) gate.open();
  gates.clear();
  await Promise.all(workers.splice(0).map((w) => w.stop('term')));
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

/** Jobs wait here until the test lets them go. */
const gates = new Map<string, { promise: Promise<void>; open: () => void }>();
function gate(name: string) {
  let entry = gates.get(name);
  if (!entry) {
    let open!: () => void;
    const promise = new Promise<void>((resolve) => {
      open = resolve;
    });
    entry = { promise, open };
    gates.set(name, entry);
  }
  return entry;
}

const Report = defineJob({
  className: 'Report',
  queue: 'q',
  status: true,
  perform: async (ctx, name: string, steps: number) => {
    for (let i = 1; i <= steps; i++) ctx.progress({ done: i, of: steps });
    await gate(name).promise;
    return { name, rows: steps * 10 };
  },
});

const Plain = defineJob({
  className: 'Plain',
  queue: 'q',
  perform: async (_ctx, name: string) => {
    await gate(name).promise;
    return 'ignored';
  },
});

const Flaky = defineJob({
  className: 'Flaky',
  queue: 'q',
  status: { ttlMs: 60_000 },
  attempts: 2,
  backoff: { type: 'fixed', delayMs: 30_000 },
  perform: async (ctx) => {
    throw new RangeError(`broke on attempt ${ctx.attempt}`);
  },
});

const BadResult = defineJob({
  className: 'BadResult',
  queue: 'q',
  status: true,
  perform: async () => ({ when: new Date(0) }),
});

const BadProgress = defineJob({
  className: 'BadProgress',
  queue: 'q',
  status: true,
  perform: async (ctx) => {
    try {
      ctx.progress({ f: () => 1 } as unknown as JsonValue);
      return 'accepted';
    } catch (error) {
      return (error as Error).message;
    }
  },
});

/** Runs until its AbortSignal fires, then throws its reason. */
const Stoppable = defineJob({
  className: 'Stoppable',
  queue: 'q',
  status: true,
  perform: async (ctx) => {
    await new Promise((_resolve, reject) =>
      ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)),
    );
  },
});

const JOBS: AnyJob[] = [Report, Plain, Flaky, BadResult, BadProgress, Stoppable];

async function setup(options: { worker?: boolean } = {}) {
  const namespace = uniqueNamespace('status');
  const resque = new Resque({ redis: sharedRedisUrl(), namespace, jobs: JOBS });
  clients.push(resque);
  let worker: Worker | undefined;
  if (options.worker !== false) {
    worker = new Worker({
      redis: sharedRedisUrl(),
      namespace,
      queues: ['q'],
      jobs: JOBS,
      isolation: 'none',
      concurrency: 2,
      logLevel: 'silent',
      setProcessTitle: false,
      intervalMs: 100,
    });
    workers.push(worker);
    await worker.start();
  }
  return { namespace, keys: new Keys(namespace), resque, worker };
}

const record = (keys: Keys, id: string) => redis.hgetall(keys.jobStatus(id));

/** Every message on a job's channel, through a connection of the test's own. */
async function listen(keys: Keys, id: string) {
  const subscriber = rawRedis();
  const events: Array<Record<string, unknown>> = [];
  subscriber.on('message', (_channel: string, text: string) => events.push(JSON.parse(text)));
  await subscriber.subscribe(keys.jobEvents(id));
  return { events, close: () => subscriber.disconnect() };
}

describe('a tracked job', () => {
  it('is queued with its push, runs with progress, and completes with its result', async () => {
    const { keys, resque, worker } = await setup({ worker: false });
    const enqueued = await resque.enqueue(Report, 'r1', 3);
    const id = enqueued!.id!;
    const queued = await record(keys, id);
    expect(queued).toMatchObject({ state: 'queued', class: 'Report', queue: 'q' });
    expect(Number(queued['enqueued_at'])).toBeGreaterThan(Date.now() - 60_000);
    const ttl = await redis.pttl(keys.jobStatus(id));
    expect(ttl).toBeGreaterThan(86_000_000);
    expect(ttl).toBeLessThanOrEqual(86_400_000);
    const [item] = await redis.lrange(keys.queue('q'), 0, -1);
    expect(item).toContain(',"status":86400000');
    expect(decodePayload(item!).status).toBe(86_400_000);
    expect(await resque.status(id)).toMatchObject({
      id,
      state: 'queued',
      source: 'record',
      className: 'Report',
    });
    expect(worker).toBeUndefined();

    const events = await listen(keys, id);
    const w = new Worker({
      redis: sharedRedisUrl(),
      namespace: keys.namespace,
      queues: ['q'],
      jobs: JOBS,
      isolation: 'none',
      logLevel: 'silent',
      setProcessTitle: false,
      intervalMs: 100,
    });
    workers.push(w);
    await w.start();
    const running = await waitFor(async () => {
      const status = await resque.status(id);
      return status.state === 'running' && status.progress !== undefined ? status : undefined;
    });
    expect(running).toMatchObject({ worker: w.slotIds[0], attempt: 1, returns: 0 });
    expect(running.startedAt).toBeGreaterThan(0);
    await waitFor(async () => (await resque.status(id)).progress?.toString() !== undefined);
    const progressed = await waitFor(async () => {
      const status = await resque.status(id);
      return JSON.stringify(status.progress) === '{"done":3,"of":3}' ? status : undefined;
    });
    expect(progressed.state).toBe('running');
    gate('r1').open();
    const done = await resque.waitFor(id, { timeoutMs: 10_000 });
    expect(done).toMatchObject({ state: 'completed', result: { name: 'r1', rows: 30 } });
    expect(done.nextAt).toBeUndefined();
    await waitFor(() => events.events.some((e) => e['state'] === 'completed'));
    events.close();
    const states = events.events.map((e) => e['state']);
    expect(states[0]).toBe('running');
    expect(states.at(-1)).toBe('completed');
    expect(events.events.at(-1)).toMatchObject({ result: { name: 'r1', rows: 30 } });
    expect(events.events.filter((e) => 'progress' in e).length).toBeGreaterThanOrEqual(1);
  });

  it('withStatus tracks one enqueue of an untracked class, with its own TTL; withStatus(false) switches it off', async () => {
    const { keys, resque } = await setup({ worker: false });
    const tracked = await resque.enqueue(withStatus(Plain, { ttlMs: 5_000 }), 'p1');
    expect(await record(keys, tracked!.id!)).toMatchObject({ state: 'queued', class: 'Plain' });
    expect(await redis.pttl(keys.jobStatus(tracked!.id!))).toBeLessThanOrEqual(5_000);
    const off = await resque.enqueue(withStatus(Report, false), 'r', 1);
    expect(await redis.exists(keys.jobStatus(off!.id!))).toBe(0);
    const items = await redis.lrange(keys.queue('q'), 0, -1);
    expect(items[0]).toContain(',"status":5000');
    expect(items[1]).not.toContain('"status"');
    // Per-enqueue options compose, in the payload's key order.
    const both = await resque.enqueue(withStatus(withRetry(Plain, { attempts: 3 })), 'p2');
    const [, , third] = await redis.lrange(keys.queue('q'), 0, -1);
    expect(third).toMatch(/"retry":\{"attempts":3\},"status":86400000\}$/);
    expect(both?.id).toBeDefined();
  });

  it('a bulk enqueue and a tenant-less bare class name write their records in the same round trip', async () => {
    const { keys, resque } = await setup({ worker: false });
    const jobs = await resque.enqueueBulk(Report, [
      ['b1', 1],
      ['b2', 1],
    ]);
    for (const job of jobs) expect(await record(keys, job.id!)).toMatchObject({ state: 'queued' });
    const byName = await resque.enqueueTo('q', 'Report', 'b3', 1);
    expect(await record(keys, byName!.id!)).toMatchObject({ state: 'queued', class: 'Report' });
  });

  it('retrying, with the failed attempt, its error and when it runs next; then failed for good', async () => {
    const { keys, resque } = await setup();
    const { id } = (await resque.enqueue(Flaky))!;
    const retrying = await waitFor(async () => {
      const status = await resque.status(id!);
      return status.state === 'retrying' ? status : undefined;
    });
    expect(retrying).toMatchObject({
      attempt: 1,
      error: { class: 'RangeError', message: 'broke on attempt 1' },
    });
    expect(retrying.nextAt! - retrying.updatedAt!).toBe(30_000);
    expect(await redis.pttl(keys.jobStatus(id!))).toBeLessThanOrEqual(60_000);
    // Its retry due now: the promoter moves it, the second attempt fails for good.
    // The record says retrying before the worker files the retry (its next run must not find an older record).
    const [member, score] = await waitFor(async () => {
      const head = await redis.zrange(keys.retrySet, 0, 0, 'WITHSCORES');
      return head.length === 2 ? head : undefined;
    });
    expect(await moveRetries({ redis, keys }, [member!], Number(score))).toBe(1);
    const failure = await resque.waitFor(id!, { timeoutMs: 10_000 }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(JobNotCompletedError);
    expect((failure as JobNotCompletedError).status).toMatchObject({
      state: 'failed',
      attempt: 2,
      error: { class: 'RangeError', message: 'broke on attempt 2' },
    });
    expect((failure as Error).message).toBe(`Job ${id} failed: RangeError: broke on attempt 2`);
    expect((await resque.status(id!)).nextAt).toBeUndefined();
  });

  it('a result JSON cannot carry fails the job, naming the value; no result is written', async () => {
    const { keys, resque } = await setup();
    const { id } = (await resque.enqueue(BadResult))!;
    const error = await resque.waitFor(id!, { timeoutMs: 10_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobNotCompletedError);
    const status = (error as JobNotCompletedError).status;
    expect(status.error).toEqual({
      class: 'InvalidResultError',
      message:
        'BadResult returned a value JSON cannot carry, so its status record cannot keep it: result.when is a Date, which would lose its type in JSON (pass a plain value)',
    });
    expect(await redis.hexists(keys.jobStatus(id!), 'result')).toBe(0);
    const [failed] = await redis.lrange(keys.failed, 0, -1);
    expect(JSON.parse(failed!)).toMatchObject({ exception: 'InvalidResultError' });
  });

  it('ctx.progress with a value JSON cannot carry throws a clear TypeError in the job', async () => {
    const { resque } = await setup();
    const { id } = (await resque.enqueue(BadProgress))!;
    const done = await resque.waitFor(id!, { timeoutMs: 10_000 });
    expect(done.result).toBe(
      'ctx.progress takes a value JSON carries: progress.f is a function, which JSON cannot carry',
    );
    expect(done.progress).toBeUndefined();
    // It ended in the turn it started: its start and end went as one change, which keeps both.
    expect(done).toMatchObject({ state: 'completed', attempt: 1, returns: 0 });
    expect(done.worker).toBeDefined();
    expect(done.startedAt).toBeGreaterThan(0);
  });

  it('a job given back (USR1) is queued again, its slot cleared', async () => {
    const { keys, resque, worker } = await setup();
    const { id } = (await resque.enqueue(Stoppable))!;
    await waitFor(async () => (await resque.status(id!)).state === 'running');
    // An operator's USR1: the job stops and goes back to its queue, where this worker takes it again.
    await worker!.pause();
    worker!.abortRunning();
    const back = await waitFor(async () => {
      const status = await resque.status(id!);
      return status.state === 'queued' ? status : undefined;
    });
    expect(back.worker).toBeUndefined();
    expect(back.startedAt).toBeUndefined();
    expect(back.returns).toBe(0);
    expect(await record(keys, id!)).not.toHaveProperty('worker');
  });

  it('a cancelled job: waitFor rejects with its record, which the worker does not overwrite', async () => {
    const { keys, resque } = await setup();
    const { id } = (await resque.enqueue(Stoppable))!;
    await waitFor(async () => (await redis.hget(keys.jobStatus(id!), 'state')) === 'running');
    const waiting = resque.waitFor(id!, { timeoutMs: 10_000 }).catch((e: unknown) => e);
    expect((await resque.cancel(id!)).was).toBe('running');
    const error = await waiting;
    expect(error).toBeInstanceOf(JobNotCompletedError);
    expect((error as JobNotCompletedError).status.state).toBe('cancelled');
    await waitFor(async () => Number(await redis.get(keys.cancelledCount)) === 1);
    const status = await resque.status(id!);
    expect(status).toMatchObject({ state: 'cancelled', worker: expect.any(String) });
    expect(status.cancelledAt).toBeGreaterThan(0);
  });

  // PUBSUB NUMSUB counts one node's subscribers; on a cluster ioredis subscribes on any node (RESQUE_TEST_CLUSTER=1).
  it.skipIf(onCluster)(
    'a queued job removed by dequeue ends cancelled, and a waitFor on it rejects; untracked ones are left alone',
    async () => {
      const { keys, resque } = await setup({ worker: false });
      const { id } = (await resque.enqueue(Report, 'gone', 1))!;
      const other = (await resque.enqueue(Report, 'kept', 1))!;
      await resque.enqueue(Plain, 'plain');
      const waiting = resque.waitFor(id!, { timeoutMs: 10_000 }).catch((e: unknown) => e);
      await waitFor(async () => (await redis.pubsub('NUMSUB', keys.jobEvents(id!)))[1] === 1);
      expect(await resque.dequeue(Report, 'gone', 1)).toBe(1);
      const error = await waiting;
      expect(error).toBeInstanceOf(JobNotCompletedError);
      expect((error as JobNotCompletedError).status.state).toBe('cancelled');
      expect(await record(keys, id!)).toMatchObject({ state: 'cancelled' });
      expect(await record(keys, other.id!)).toMatchObject({ state: 'queued' });
      expect(await resque.dequeue(Plain)).toBe(1);
    },
  );

  it('a delayed job is delayed with its due time, and reads queued once that has passed', async () => {
    const { keys, resque } = await setup({ worker: false });
    const scheduled = await resque.enqueueIn(60_000, Report, 'd1', 1);
    const id = scheduled!.id!;
    const status = await resque.status(id);
    expect(status).toMatchObject({ state: 'delayed', nextAt: scheduled!.dueAtMs, className: 'Report' });
    const ctx = { redis, keys };
    expect((await jobStatus(ctx, id, scheduled!.dueAtMs - 1)).state).toBe('delayed');
    expect((await jobStatus(ctx, id, scheduled!.dueAtMs)).state).toBe('queued');
    // Promotion carries the marker into the payload it pushes.
    const [record] = await redis.hvals(keys.delayedRecords);
    expect(JSON.parse(record!)).toMatchObject({ l: 86_400_000 });
  });

  // A cluster forwards a PUBLISH to the other nodes over its bus, so an event published just before the test
  // subscribes (the 'delayed' one) can still arrive there (RESQUE_TEST_CLUSTER=1).
  it.skipIf(onCluster)(
    'a delayed job queued now, before its due time, reads queued; a record a worker moved on from is left alone',
    async () => {
      const { keys, resque } = await setup({ worker: false });
      const early = await resque.enqueueIn(3_600_000, Report, 'early', 1);
      const other = await resque.enqueueIn(3_600_000, Report, 'other', 1);
      const plain = await resque.enqueueIn(3_600_000, Plain, 'untracked');
      expect((await resque.status(early!.id!)).state).toBe('delayed');
      // A worker took `other` (as if it had been promoted) and wrote its start before the move reached its record.
      await redis.hset(keys.jobStatus(other!.id!), 'state', 'running');
      const events = await listen(keys, early!.id!);
      try {
        const second = Math.ceil(early!.dueAtMs / 1000);
        expect(Math.ceil(other!.dueAtMs / 1000)).toBe(second);
        expect(await resque.delayed.queueAllAt(second)).toBeGreaterThanOrEqual(2);
        const status = await resque.status(early!.id!);
        expect(status).toMatchObject({ state: 'queued', source: 'record' });
        expect(status.nextAt).toBeUndefined();
        expect(await redis.hget(keys.jobStatus(other!.id!), 'state')).toBe('running');
        await waitFor(() => events.events.length > 0, 5000, 'the queued event');
        expect(events.events).toEqual([{ state: 'queued', updated_at: expect.any(Number) }]);
      } finally {
        events.close();
      }
      expect(await redis.exists(keys.jobStatus(plain!.id!))).toBe(0);
      const queued = (await redis.lrange(keys.queue('q'), 0, -1)).map((raw) => decodePayload(raw).id);
      expect(queued).toEqual(expect.arrayContaining([early!.id, other!.id]));
      // One at a time ("Queue now" of the head job) does the same.
      const next = await resque.enqueueIn(7_200_000, Report, 'next', 1);
      expect(await resque.delayed.queueNextAt(Math.ceil(next!.dueAtMs / 1000))).toBe(1);
      expect((await resque.status(next!.id!)).state).toBe('queued');
    },
  );
});

describe('the first record, written with the push', () => {
  it('is written after Redis lost its scripts, and not at all when the push fails', async () => {
    // A server of its own: SCRIPT FLUSH must not reach other tests' scripts.
    const server = await startRedis();
    const namespace = uniqueNamespace('status-push');
    const keys = new Keys(namespace);
    const resque = new Resque({ redis: server.url, namespace, jobs: JOBS });
    const own = new Redis(server.url);
    try {
      await resque.enqueue(Plain, 'warm');
      await own.script('FLUSH');
      const { id } = (await resque.enqueue(Report, 'after-flush', 1))!;
      expect(await own.hget(keys.jobStatus(id!), 'state')).toBe('queued');
      expect(await own.llen(keys.queue('q'))).toBe(2);
      const scheduled = await resque.enqueueIn(60_000, Report, 'later', 1);
      expect(await own.hget(keys.jobStatus(scheduled!.id!), 'state')).toBe('delayed');

      await own.set(keys.queue('broken'), 'not a list');
      const error = await resque.enqueueTo('broken', Report, 'x', 1).catch((e: unknown) => e);
      expect(String(error)).toMatch(/WRONGTYPE/);
      const records = await own.keys(`${namespace}:ts:status:*`);
      expect(records).toHaveLength(2);
      const bulk = await resque.enqueueBulk(Report, [['b', 1]], { queue: 'broken' }).catch((e: unknown) => e);
      expect(String(bulk)).toMatch(/WRONGTYPE/);
      expect(await own.keys(`${namespace}:ts:status:*`)).toHaveLength(2);

      // A worker's batched writes by SHA find no script either: loaded, and sent again.
      await own.script('FLUSH');
      const worker = new Worker({
        redis: server.url,
        namespace,
        queues: ['q'],
        jobs: JOBS,
        isolation: 'none',
        logLevel: 'silent',
        setProcessTitle: false,
      });
      workers.push(worker);
      await worker.start();
      gate('after-flush').open();
      gate('warm').open();
      expect((await resque.waitFor(id!, { timeoutMs: 10_000 })).result).toEqual({
        name: 'after-flush',
        rows: 10,
      });
      await worker.stop('term');
    } finally {
      own.disconnect();
      await resque.close();
      await server.stop();
      removeDir(server.dir);
    }
  });
});

describe('waitFor', () => {
  // MONITOR of the single shared server (monitorAll) has no cluster form (RESQUE_TEST_CLUSTER=1).
  it.skipIf(onCluster)(
    'subscribes before it reads, reads the record once more at the end, and never polls',
    async () => {
      const { keys, resque } = await setup();
      const { id } = (await resque.enqueue(Report, 'w1', 1))!;
      const monitor = await monitorAll();
      const seen: string[] = [];
      monitor.on('monitor', (_time: string, args: string[]) => {
        if (args.some((a) => a.includes(id!))) seen.push(`${args[0]!.toUpperCase()} ${args[1]}`);
      });
      const waiting = resque.waitFor(id!, { timeoutMs: 10_000 });
      const state = () => redis.hget(keys.jobStatus(id!), 'state');
      await waitFor(async () => (await state()) === 'running');
      // Long enough for a poller to show itself.
      await new Promise((resolve) => setTimeout(resolve, 500));
      gate('w1').open();
      const done = await waiting;
      expect(done.state).toBe('completed');
      await new Promise((resolve) => setTimeout(resolve, 100));
      monitor.disconnect();
      const reads = seen.filter((line) => line.startsWith('HGETALL'));
      expect(reads).toEqual([`HGETALL ${keys.jobStatus(id!)}`, `HGETALL ${keys.jobStatus(id!)}`]);
      const subscribe = seen.indexOf(`SUBSCRIBE ${keys.jobEvents(id!)}`);
      expect(subscribe).toBeGreaterThanOrEqual(0);
      expect(seen.indexOf(reads[0]!)).toBeGreaterThan(subscribe);
      expect(seen).toContain(`UNSUBSCRIBE ${keys.jobEvents(id!)}`);
    },
  );

  // CLIENT LIST of one node; on a cluster ioredis subscribes on any node (RESQUE_TEST_CLUSTER=1).
  it.skipIf(onCluster)('many waits share one subscriber connection', async () => {
    const { resque } = await setup();
    const ids = await Promise.all(
      ['m1', 'm2', 'm3'].map(async (n) => (await resque.enqueue(Report, n, 1))!.id!),
    );
    const waits = ids.map((id) => resque.waitFor(id, { timeoutMs: 10_000 }));
    await new Promise((resolve) => setTimeout(resolve, 200));
    // One connection subscribed to the three channels (other tests' subscribers listen on one channel each).
    expect(await subscribersOnThree()).toBe(1);
    for (const n of ['m1', 'm2', 'm3']) gate(n).open();
    const results = await Promise.all(waits);
    expect(results.map((r) => (r.result as { name: string }).name)).toEqual(['m1', 'm2', 'm3']);
  });

  it('times out cleanly with the state it last saw, and leaves the channel', async () => {
    const { keys, resque } = await setup({ worker: false });
    const { id } = (await resque.enqueue(Report, 't1', 1))!;
    const error = await resque.waitFor(id!, { timeoutMs: 150 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WaitTimeoutError);
    expect((error as WaitTimeoutError).status.state).toBe('queued');
    expect((error as Error).message).toBe(`Job ${id} is still queued after waiting 150 ms`);
    await waitFor(async () => {
      const [, count] = (await redis.call('PUBSUB', 'NUMSUB', keys.jobEvents(id!))) as [string, number];
      return count === 0;
    });
  });

  it('rejects at once for an untracked job or an unknown id', async () => {
    const { resque } = await setup({ worker: false });
    const { id } = (await resque.enqueue(Plain, 'u1'))!;
    const error = await resque.waitFor(id!).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobNotTrackedError);
    expect((error as JobNotTrackedError).status.state).toBe('unknown');
    await expect(resque.waitFor('')).rejects.toThrow(TypeError);
  });

  it('calls onProgress with each progress published while it waits', async () => {
    const { resque } = await setup();
    const { id } = (await resque.enqueue(Report, 'o1', 2))!;
    const seen: JsonValue[] = [];
    const waiting = resque.waitFor(id!, { timeoutMs: 10_000, onProgress: (p) => void seen.push(p) });
    await waitFor(async () => (await resque.status(id!)).state === 'running');
    gate('o1').open();
    await waiting;
    // The job may have reported before the wait subscribed; whatever came after is in order.
    for (const p of seen) expect(p).toHaveProperty('of', 2);
  });
});

describe('an untracked job', () => {
  // MONITOR of the single shared server (monitorAll) has no cluster form (RESQUE_TEST_CLUSTER=1).
  it.skipIf(onCluster)('costs no command of status tracking, in the client or the worker', async () => {
    const { namespace, resque } = await setup();
    const monitor = await monitorAll();
    const seen: string[][] = [];
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      // Commands clients send (not those scripts run inside Redis) that name the namespace or carry the job.
      if (source === 'lua') return;
      if (args.some((a) => a.startsWith(`${namespace}:`) || a.includes(`"class":"Plain"`))) seen.push(args);
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const { id } = (await resque.enqueue(Plain, 'c1'))!;
    gate('c1').open();
    await waitFor(async () => (await redis.get(`${namespace}:stat:processed`)) === '1');
    await new Promise((resolve) => setTimeout(resolve, 100));
    monitor.disconnect();
    const touched = seen.filter((args) =>
      args.some((a) => a.includes(':ts:status:') || a.includes(':ts:job-events:') || a.includes(id!)),
    );
    // Its id appears only inside its payload (the push, and the reservation's reply, not a command); never in a
    // status key or channel.
    expect(touched.length).toBeGreaterThan(0);
    for (const args of touched) {
      expect(args.some((a) => a.includes(':ts:status:') || a.includes(':ts:job-events:'))).toBe(false);
      expect(['EVALSHA', 'EVAL']).toContain(args[0]!.toUpperCase());
    }
    const names = new Set(seen.map((args) => args[0]!.toUpperCase()));
    for (const name of ['HSET', 'PEXPIRE', 'PUBLISH', 'MULTI']) expect(names.has(name)).toBe(false);
  });

  it('reports what can be known: running, retrying, failed, delayed, unknown', async () => {
    const { keys, resque, worker } = await setup();
    const { id: runningId } = (await resque.enqueue(Plain, 'i1'))!;
    const running = await waitFor(async () => {
      const status = await resque.status(runningId!);
      return status.state === 'running' ? status : undefined;
    });
    expect(running).toMatchObject({ source: 'inferred', className: 'Plain', queue: 'q', attempt: 1 });
    expect(worker!.slotIds).toContain(running.worker);
    gate('i1').open();

    const { id: retryId } = (await resque.enqueue(withStatus(Flaky, false)))!;
    const retrying = await waitFor(async () => {
      const status = await resque.status(retryId!);
      return status.state === 'retrying' ? status : undefined;
    });
    expect(retrying).toMatchObject({ source: 'inferred', attempt: 1, error: { class: 'RangeError' } });
    expect(retrying.nextAt).toBeGreaterThan(Date.now());

    const { id: badId } = (await resque.enqueue(withStatus(BadResult, false)))!;
    // Untracked, its result is not looked at: it completes, and then nothing more is known of it.
    await waitFor(async () => Number(await redis.get(keys.processed)) >= 3);
    expect((await resque.status(badId!)).state).toBe('unknown');

    await redis.rpush(
      keys.failed,
      JSON.stringify({
        failed_at: '2026/12/01 10:00:00 UTC',
        payload: { class: 'Plain', args: ['x'], id: 'failed-one' },
        exception: 'Boom',
        error: 'it broke',
        backtrace: [],
        worker: 'h:1:q',
        queue: 'q',
      }),
    );
    expect(await resque.status('failed-one')).toMatchObject({
      state: 'failed',
      source: 'inferred',
      error: { class: 'Boom', message: 'it broke' },
    });

    const strict = new Resque({ redis: sharedRedisUrl(), namespace: keys.namespace, strictPayloads: true });
    clients.push(strict);
    const scheduled = await resque.enqueueIn(60_000, withStatus(Plain, false), 'later');
    expect(await resque.status(scheduled!.id!)).toMatchObject({
      state: 'delayed',
      source: 'inferred',
      nextAt: scheduled!.dueAtMs,
    });
    expect(await redis.exists(keys.jobStatus(scheduled!.id!))).toBe(0);
    // A strict enqueue carries no id, so nothing can be tracked, whatever the definition says.
    const strictJob = await strict.enqueue(Report, 's', 1);
    expect(strictJob?.id).toBeUndefined();
    expect(await resque.status('no-such-job')).toEqual({
      id: 'no-such-job',
      state: 'unknown',
      source: 'none',
    });
  });
});

async function subscribersOnThree(): Promise<number> {
  const list = String(await redis.call('CLIENT', 'LIST', 'TYPE', 'pubsub'));
  return list.split('\n').filter((line) => / sub=3 /.test(line)).length;
}

/**
 * A MONITOR connection that sees every command of every client, on a plain socket: `on('monitor', (time, args,
 * source))` as ioredis's, whose monitor mode can mistake the first lines for replies on a loaded machine.
 */
async function monitorAll(): Promise<{
  on(event: 'monitor', listener: (time: string, args: string[], source: string) => void): void;
  disconnect(): void;
}> {
  const { port, hostname } = new URL(sharedRedisUrl());
  const socket = connect(Number(port), hostname);
  const listeners: Array<(time: string, args: string[], source: string) => void> = [];
  let buffer = '';
  let ready!: () => void;
  const started = new Promise<void>((resolve) => {
    ready = resolve;
  });
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    let end = buffer.indexOf('\r\n');
    while (end >= 0) {
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      end = buffer.indexOf('\r\n');
      if (line === '+OK') ready();
      const parsed = /^\+(\d+\.\d+) \[\d+ ([^\]]+)\] (.*)$/.exec(line);
      if (!parsed) continue;
      const args = [...parsed[3]!.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) =>
        m[1]!.replace(/\\x([0-9a-f]{2})|\\(.)/g, (_all, hex: string | undefined, ch: string | undefined) =>
          hex
            ? String.fromCharCode(Number.parseInt(hex, 16))
            : ch === 'n'
              ? '\n'
              : ch === 'r'
                ? '\r'
                : ch === 't'
                  ? '\t'
                  : (ch ?? ''),
        ),
      );
      for (const listener of listeners) listener(parsed[1]!, args, parsed[2]!);
    }
  });
  socket.write('MONITOR\r\n');
  await started;
  return {
    on: (_event, listener) => void listeners.push(listener),
    disconnect: () => socket.destroy(),
  };
}
