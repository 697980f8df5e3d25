import { afterEach, describe, expect, it } from 'vitest';
import type { ClientContext } from '../../src/client/context.js';
import { defineJob, Resque } from '../../src/index.js';
import { scheduleJobs } from '../../src/scheduler/delayed-push.js';
import { Worker } from '../../src/worker/worker.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace, waitFor } from '../harness/context.js';
import { keysLeft } from './delayed-helpers.js';

const workers: Worker[] = [];
const clients: Resque[] = [];
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop('term')));
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

describe('every worker promotes due delayed jobs', () => {
  it('runs a job filed in the past second of a running worker, with before_delayed_enqueue, leaving no delayed key', async () => {
    const namespace = uniqueNamespace('work-delayed');
    const ran: string[] = [];
    const Remind = defineJob({
      className: 'Remind',
      queue: 'q',
      perform: async (ctx, who: string) => void ran.push(`${who}:${ctx.id}`),
      hooks: { before_delayed_enqueue: (who: string) => void ran.push(`moving ${who}`) },
    });
    const worker = new Worker({
      redis: sharedRedisUrl(),
      namespace,
      queues: ['q'],
      jobs: [Remind],
      isolation: 'none',
      logLevel: 'silent',
      setProcessTitle: false,
    });
    workers.push(worker);
    await worker.start();
    const resque = new Resque({ redis: sharedRedisUrl(), namespace });
    clients.push(resque);
    // Due in 50 ms by this machine's clock; the worker judges by Redis's, the same clock on one machine.
    const scheduled = await resque.enqueueIn(50, Remind, 'ada');
    await waitFor(() => ran.length === 2, 10_000, 'the delayed job to run');
    expect(ran).toEqual(['moving ada', `ada:${scheduled!.id}`]);
    const redis = rawRedis();
    try {
      const left = (await keysLeft(redis, namespace)).filter((key) =>
        /delayed|timestamps/.test(key.slice(namespace.length + 1)),
      );
      expect(left).toEqual([]);
    } finally {
      redis.disconnect();
    }
  });

  it('does not promote when promoteDelayed is off', async () => {
    const namespace = uniqueNamespace('work-no-promote');
    const Remind = defineJob({ className: 'Remind', queue: 'q', perform: async () => {} });
    const worker = new Worker({
      redis: sharedRedisUrl(),
      namespace,
      queues: ['q'],
      jobs: [Remind],
      isolation: 'none',
      logLevel: 'silent',
      setProcessTitle: false,
      promoteDelayed: false,
    });
    workers.push(worker);
    await worker.start();
    const resque = new Resque({ redis: sharedRedisUrl(), namespace });
    clients.push(resque);
    // Filed as a client whose clock read a minute earlier would file it, so it is a minute overdue now (an enqueueAt
    // of a time already due goes straight to the queue).
    const ctx = (resque as unknown as { ctx: ClientContext }).ctx;
    const now = Date.now();
    await scheduleJobs(ctx, Remind, undefined, [{ dueMs: now - 60_000, args: [] }], now - 120_000);
    expect(await resque.delayed.count()).toBe(1);
    // A promoting worker would have moved it on its first pass, which starts with the worker.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await resque.delayed.count()).toBe(1);
    expect(await resque.size('q')).toBe(0);
  });
});
