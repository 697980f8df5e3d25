import { afterEach, describe, expect, it } from 'vitest';
import { defineJob, Resque } from '../../src/index.js';
import { Worker } from '../../src/worker/worker.js';
import { sharedRedisUrl, uniqueNamespace, waitFor } from '../harness/context.js';

// Jobs reserved in one call share an AbortSignal (the worker aborts every running job at once anyway): aborting
// reaches each of them, jobs reserved later get a fresh signal, and many listeners raise no leak warning.
const workers: Worker[] = [];
const clients: Resque[] = [];
afterEach(async () => {
  await Promise.all(workers.splice(0).map((worker) => worker.stop('term')));
  await Promise.all(clients.splice(0).map((client) => client.close()));
});

describe('worker abort signals', () => {
  it('abortRunning reaches every running job of a batch; a later job starts with a live signal', async () => {
    const namespace = uniqueNamespace('abort');
    const started: number[] = [];
    const aborted: Array<[number, string]> = [];
    const laterSignals: boolean[] = [];
    const Waits = defineJob({
      className: 'Waits',
      queue: 'q',
      perform: async (ctx, n: number) => {
        if (n >= 100) {
          laterSignals.push(ctx.signal.aborted);
          return;
        }
        started.push(n);
        // Several listeners per job: 20 jobs × 3 on one signal must not look like a leak.
        for (let i = 0; i < 2; i++) ctx.signal.addEventListener('abort', () => {});
        await new Promise<void>((resolve) =>
          ctx.signal.addEventListener('abort', () => {
            aborted.push([n, (ctx.signal.reason as Error).message]);
            resolve();
          }),
        );
      },
    });
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const resque = new Resque({ redis: sharedRedisUrl(), namespace });
      clients.push(resque);
      await resque.enqueueBulk(
        Waits,
        Array.from({ length: 20 }, (_, n) => [n]),
      );
      const worker = new Worker({
        redis: sharedRedisUrl(),
        namespace,
        queues: ['q'],
        concurrency: 20,
        isolation: 'none',
        jobs: [Waits],
        setProcessTitle: false,
        logLevel: 'silent',
      });
      workers.push(worker);
      await worker.start();
      await waitFor(() => started.length === 20, 10_000, '20 jobs running');
      worker.abortRunning(new Error('stop now'));
      await waitFor(() => aborted.length === 20, 10_000, '20 jobs aborted');
      expect(aborted.every(([, reason]) => reason === 'stop now')).toBe(true);
      await resque.enqueueBulk(Waits, [[100], [101]]);
      await waitFor(() => laterSignals.length === 2, 10_000, 'later jobs');
      expect(laterSignals).toEqual([false, false]);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.filter((warning) => warning.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });
});
