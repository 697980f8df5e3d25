// Idle workers wait on wake lists (worker/wake.ts, redis/lua/announce.lua): one enqueue wakes one idle worker, a
// wake-up its taker cannot use passes on, and jobs pushed by other clients are found within the poll interval.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defineJob, JobRegistry, Resque } from '../../src/index.js';
import { Fetcher } from '../../src/worker/fetch/fetcher.js';
import { Worker, type WorkerOptions } from '../../src/worker/worker.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace, waitFor } from '../harness/context.js';

const workers: Worker[] = [];
const clients: Resque[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(workers.splice(0).map((w) => w.stop('term')));
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

function startWorker(namespace: string, options: Omit<WorkerOptions, 'redis' | 'namespace'>): Worker {
  const worker = new Worker({
    redis: sharedRedisUrl(),
    namespace,
    setProcessTitle: false,
    logLevel: 'silent',
    isolation: 'none',
    ...options,
  });
  workers.push(worker);
  return worker;
}

function client(namespace: string): Resque {
  const resque = new Resque({ redis: sharedRedisUrl(), namespace });
  clients.push(resque);
  return resque;
}

/** Resolves once `worker` has reserved and found nothing, i.e. waits on its wake lists. */
function idle(worker: Worker): Promise<void> {
  return new Promise((resolve) => worker.once('idle', () => resolve()));
}

const ran: Array<{ worker: string; n: number }> = [];
const Noop = defineJob({
  className: 'WakeNoop',
  queue: 'q',
  perform: async (ctx, n: number) => {
    ran.push({ worker: ctx.workerId, n });
  },
});

describe('waking idle workers', () => {
  it('one enqueue wakes one idle worker: reservation calls per job do not grow with the idle fleet', async () => {
    const namespace = uniqueNamespace('wake-one');
    const reserve = vi.spyOn(Fetcher.prototype, 'reserve');
    const fleet = Array.from({ length: 8 }, () =>
      startWorker(namespace, { queues: ['q'], jobs: new JobRegistry([Noop]), intervalMs: 120_000 }),
    );
    await Promise.all(fleet.map(async (w) => Promise.all([idle(w), w.start()])));
    let idled = 0;
    for (const w of fleet) w.on('idle', () => idled++);
    const atRest = reserve.mock.calls.length;
    const resque = client(namespace);
    ran.length = 0;
    const jobs = 12;
    for (let n = 0; n < jobs; n++) {
      await resque.enqueue(Noop, n);
      await waitFor(() => ran.length === n + 1, 10_000, `job ${n}`);
      // The worker that ran it goes back to waiting after one more call (its acknowledgement).
      await waitFor(() => idled === n + 1, 10_000, 'idle again');
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    const calls = reserve.mock.calls.length - atRest;
    // One call takes the job, one acknowledges it and finds the queue empty; eight idle workers all woken would be
    // about nine per job.
    expect(calls).toBeLessThanOrEqual(2 * jobs + 2);
    expect(ran.map((r) => r.n)).toEqual(Array.from({ length: jobs }, (_, n) => n));
  });

  it('a worker that waited while busy and then ran out of jobs wakes for the next job, without waiting for a poll', async () => {
    // At concurrency 2 a worker that takes one job still has a free slot, so it waits on its wake lists while the job
    // runs; once the job ends it is idle. Each job below reaches a worker in that state (the fleet's longest waiter).
    const namespace = uniqueNamespace('wake-busy-wait');
    const prepare = vi.spyOn(Fetcher.prototype, 'prepare');
    const fleet = Array.from({ length: 3 }, () =>
      startWorker(namespace, {
        queues: ['q'],
        jobs: new JobRegistry([Noop]),
        concurrency: 2,
        intervalMs: 120_000,
      }),
    );
    await Promise.all(fleet.map(async (w) => Promise.all([idle(w), w.start()])));
    const atRest = prepare.mock.calls.length;
    const resque = client(namespace);
    ran.length = 0;
    const jobs = 12;
    for (let n = 0; n < jobs; n++) {
      await resque.enqueue(Noop, n);
      // A wake-up left unused would leave the job to the 120 s poll.
      await waitFor(() => ran.length === n + 1, 10_000, `job ${n}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    // Per job: the call that takes it and the one that acknowledges it.
    expect(prepare.mock.calls.length - atRest).toBeLessThanOrEqual(2 * jobs + 2);
    expect(new Set(ran.map((r) => r.worker)).size).toBe(3);
  });

  it('a wake-up taken by a worker that cannot use it (paused) passes on to the next idle one', async () => {
    const namespace = uniqueNamespace('wake-pass');
    const first = startWorker(namespace, {
      queues: ['q'],
      jobs: new JobRegistry([Noop]),
      intervalMs: 120_000,
    });
    await Promise.all([idle(first), first.start()]);
    const second = startWorker(namespace, {
      queues: ['q'],
      jobs: new JobRegistry([Noop]),
      intervalMs: 120_000,
    });
    await Promise.all([idle(second), second.start()]);
    // The first worker has waited longest, so Redis hands it the token; paused, it must not keep it.
    await first.pause();
    ran.length = 0;
    await client(namespace).enqueue(Noop, 1);
    // Without the hand-on the job would wait for the 120 s poll interval.
    await waitFor(() => ran.length === 1, 15_000, 'the job, run by the second worker');
    expect(ran[0]!.worker).toBe(second.id);
  });

  it('a queue some other client fills is found within the poll interval by a worker on a glob', async () => {
    const namespace = uniqueNamespace('wake-foreign');
    const worker = startWorker(namespace, { queues: ['*'], jobs: new JobRegistry([Noop]), intervalMs: 300 });
    await Promise.all([idle(worker), worker.start()]);
    const redis = rawRedis();
    ran.length = 0;
    // What Ruby's push does: SADD queues, RPUSH queue:<name>; no announcement, no index entry.
    await redis.sadd(`${namespace}:queues`, 'brand_new');
    await redis.rpush(`${namespace}:queue:brand_new`, '{"class":"WakeNoop","args":[7]}');
    await waitFor(() => ran.length === 1, 15_000, 'the foreign job');
    expect(ran[0]!.n).toBe(7);
    expect(await redis.zrange(`${namespace}:ts:queues:non-empty`, 0, -1)).toEqual([]);
    redis.disconnect();
  });

  it('a worker naming a queue finds a foreign push there on its next poll', async () => {
    const namespace = uniqueNamespace('wake-named');
    const worker = startWorker(namespace, {
      queues: ['named'],
      jobs: new JobRegistry([Noop]),
      intervalMs: 300,
    });
    await Promise.all([idle(worker), worker.start()]);
    const redis = rawRedis();
    ran.length = 0;
    await redis.rpush(`${namespace}:queue:named`, '{"class":"WakeNoop","args":[8]}');
    await waitFor(() => ran.length === 1, 15_000, 'the foreign job');
    redis.disconnect();
  });

  it('a worker naming many queues finds a foreign push onto one of them once the index is repaired', async () => {
    const namespace = uniqueNamespace('wake-named-many');
    const worker = startWorker(namespace, {
      queues: ['one', 'two', 'three', 'four', 'five'],
      jobs: new JobRegistry([Noop]),
      intervalMs: 300,
    });
    await Promise.all([idle(worker), worker.start()]);
    const redis = rawRedis();
    ran.length = 0;
    await redis.sadd(`${namespace}:queues`, 'four');
    await redis.rpush(`${namespace}:queue:four`, '{"class":"WakeNoop","args":[9]}');
    await waitFor(() => ran.length === 1, 15_000, 'the foreign job');
    redis.disconnect();
  });

  it('a stop while waiting hands a token taken on the way to another worker', async () => {
    const namespace = uniqueNamespace('wake-stop');
    const staying = startWorker(namespace, {
      queues: ['q'],
      jobs: new JobRegistry([Noop]),
      intervalMs: 120_000,
    });
    await Promise.all([idle(staying), staying.start()]);
    const leaving = startWorker(namespace, {
      queues: ['q'],
      jobs: new JobRegistry([Noop]),
      intervalMs: 120_000,
    });
    await Promise.all([idle(leaving), leaving.start()]);
    await leaving.stop('term');
    ran.length = 0;
    await client(namespace).enqueue(Noop, 2);
    await waitFor(() => ran.length === 1, 15_000, 'the job');
    expect(ran[0]!.worker).toBe(staying.id);
  });
});
