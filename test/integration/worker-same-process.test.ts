import { afterEach, describe, expect, it } from 'vitest';
import { defineJob, Resque } from '../../src/index.js';
import { Keys } from '../../src/protocol/keys.js';
import { parseWorkerId } from '../../src/protocol/worker-id.js';
import { Worker } from '../../src/worker/worker.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace, waitFor } from '../harness/context.js';

// Two Worker objects in one process on the same queue list: each has slots of its own, so neither overwrites the
// other's in-flight jobs, and stopping one leaves the other registered and working.
const workers: Worker[] = [];
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop('term')));
});

describe('several Workers in one process', () => {
  it('take distinct slot ids, hold distinct jobs, and run every job once', async () => {
    const namespace = uniqueNamespace('same-process');
    const keys = new Keys(namespace);
    const redis = rawRedis();
    const runs: number[] = [];
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const Job = defineJob({
      className: 'Gated',
      queue: 'q',
      perform: async (_ctx, n: number) => {
        runs.push(n);
        await gate;
      },
    });
    const make = () => {
      const worker = new Worker({
        redis: sharedRedisUrl(),
        namespace,
        queues: ['q'],
        concurrency: 3,
        jobs: [Job],
        setProcessTitle: false,
        logLevel: 'silent',
      });
      workers.push(worker);
      return worker;
    };
    const first = make();
    const second = make();
    expect(first.id).not.toBe(second.id);
    const all = [...first.slotIds, ...second.slotIds];
    expect(new Set(all).size).toBe(6);
    for (const id of all)
      expect(parseWorkerId(id)).toMatchObject({ pid: String(process.pid), queues: ['q'] });
    expect(second.slotIds.map((id) => parseWorkerId(id)?.slot)).toEqual([3, 4, 5]);

    const resque = new Resque({ redis: sharedRedisUrl(), namespace });
    try {
      await resque.enqueueBulk(
        Job,
        Array.from({ length: 20 }, (_, i) => [i]),
      );
      await first.start();
      await second.start();
      await waitFor(() => runs.length === 6, 15_000, 'six jobs running');
      const held = await Promise.all(all.map((slot) => redis.get(keys.inflight(slot))));
      expect(held.every((value) => value !== null)).toBe(true);
      expect(new Set(held).size).toBe(6);
      expect(await redis.smembers(keys.workers)).toEqual(expect.arrayContaining(all));

      release();
      await waitFor(async () => (await resque.size('q')) === 0 && runs.length === 20, 15_000, 'all jobs run');
      await first.stop('graceful');
      const registered = await redis.smembers(keys.workers);
      for (const id of first.slotIds) expect(registered).not.toContain(id);
      expect(registered).toEqual(expect.arrayContaining([...second.slotIds]));
      expect([...runs].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    } finally {
      release();
      await resque.close();
      await redis.quit();
    }
  });

  it('gives the slot numbers back when a Worker stops, so the next one starts from slot 0 again', async () => {
    const namespace = uniqueNamespace('same-process-reuse');
    const options = {
      redis: sharedRedisUrl(),
      namespace,
      queues: ['reuse'],
      concurrency: 2,
      jobs: [],
      setProcessTitle: false,
      logLevel: 'silent' as const,
    };
    const first = new Worker(options);
    workers.push(first);
    await first.start();
    await first.stop('graceful');
    const next = new Worker(options);
    workers.push(next);
    expect(next.id).toBe(first.id);
    expect(next.slotIds).toEqual(first.slotIds);
  });
});
