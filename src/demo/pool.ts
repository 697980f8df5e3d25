import type { Resque } from '../client/resque.js';
import type { RedisTarget } from '../config/options.js';
import { createLogger } from '../logging/logger.js';
import { Worker } from '../worker/worker.js';
import {
  ChargeCard,
  DEMO_QUEUES,
  demoJobs,
  ExportReport,
  FetchRates,
  ResizeImage,
  SendWelcomeEmail,
} from './jobs.js';

/** Demo workers: a few in-process workers on the demo queues, so the dashboard has something to show at once. */
export async function startDemoWorkers(
  redis: RedisTarget,
  namespace: string,
  count: number,
  concurrency: number,
): Promise<Worker[]> {
  // Workers in one process share its pid: each gets its own host name (demo-1, demo-2…) so their ids differ.
  const workers = Array.from(
    { length: count },
    (_, i) =>
      new Worker({
        hostname: `demo-${i + 1}`,
        redis,
        namespace,
        jobs: demoJobs,
        queues: [...DEMO_QUEUES],
        concurrency,
        setProcessTitle: false,
        logger: createLogger('silent'),
      }),
  );
  for (const worker of workers) await worker.start();
  return workers;
}

export async function stopDemoWorkers(workers: readonly Worker[]): Promise<void> {
  await Promise.all(workers.map((worker) => worker.stop('term')));
}

/**
 * Keeps work coming while the demo runs: every tick a few quick jobs, a card charge (some declined), a resize, and
 * now and then a report export (which always fails), a rates fetch (which succeeds on its third attempt) and a very
 * slow resize (which the dashboard flags as stuck).
 */
export function trickle(resque: Resque, everyMs = 1000): () => void {
  let tick = 0;
  const timer = setInterval(() => {
    tick++;
    const n = 10_000 + tick;
    const jobs = [
      resque.enqueueBulk(SendWelcomeEmail, [
        [n, `user${n}@example.com`],
        [n + 1, `user${n + 1}@example.com`],
      ]),
      resque.enqueue(ChargeCard, n, tick % 4 === 0 ? 700 : 995 + tick),
      resque.enqueue(ResizeImage, `uploads/live-${tick}.jpg`, 320, 150 + (tick % 5) * 150),
      tick % 5 === 0 ? resque.enqueue(ExportReport, `report-live-${tick}`) : undefined,
      tick % 4 === 2 ? resque.enqueue(FetchRates, tick) : undefined,
      tick % 30 === 1 ? resque.enqueue(ResizeImage, `uploads/huge-${tick}.tiff`, 8000, 45_000) : undefined,
    ];
    Promise.all(jobs).catch(() => {
      // Redis went away: the demo is stopping, or will show the error page.
    });
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
