// A worker paused by its own queue_empty hook (a hook awaiting `worker.pause()`, run while the worker goes idle): the
// pause completes, and a resume makes the worker take jobs again.
import { afterEach, describe, expect, it } from 'vitest';
import { defineJob, Resque } from '../../src/index.js';
import { Worker } from '../../src/worker/worker.js';
import { sharedRedisUrl, uniqueNamespace, waitFor } from '../harness/context.js';

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

describe('a pause from a queue_empty hook', () => {
  it('completes, and the worker takes jobs again once resumed', async () => {
    const namespace = uniqueNamespace('pausehook');
    const done: number[] = [];
    const Job = defineJob({ className: 'Once', queue: 'q', perform: (_ctx, n: number) => void done.push(n) });
    let paused = false;
    const worker: Worker = new Worker({
      redis: sharedRedisUrl(),
      namespace,
      queues: ['q'],
      jobs: [Job],
      setProcessTitle: false,
      logLevel: 'silent',
      hooks: {
        queue_empty: async () => {
          await worker.pause();
          paused = true;
        },
      },
    });
    closers.push(() => worker.stop('term'));
    await worker.start();
    const resque = new Resque({ redis: sharedRedisUrl(), namespace });
    closers.push(() => resque.close());
    await resque.enqueue(Job, 1);
    await waitFor(() => paused, 5_000, 'the hook’s pause');
    expect(worker.paused).toBe(true);
    await worker.resume();
    await resque.enqueue(Job, 2);
    await waitFor(() => done.length === 2, 5_000, 'the job after the resume');
    expect(done).toEqual([1, 2]);
  });
});
