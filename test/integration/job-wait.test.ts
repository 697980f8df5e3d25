// Why a queued job waits (Admin.whyWaiting): pauses, no worker or only busy ones on its queue, its full concurrency
// limits and used-up rate limits, and the jobs ahead of it, read from the keys the reservation script decides by.
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Admin } from '../../src/api/admin.js';
import { describeWaitReason } from '../../src/api/job-wait.js';
import { Resque } from '../../src/client/resque.js';
import { defineJob } from '../../src/jobs/define.js';
import { JobRegistry } from '../../src/jobs/registry.js';
import { publishClassLimits } from '../../src/limits/definitions.js';
import { publishClassRates } from '../../src/limits/rate-definitions.js';
import { createLogger } from '../../src/logging/logger.js';
import { Keys } from '../../src/protocol/keys.js';
import { Fetcher } from '../../src/worker/fetch/fetcher.js';
import { QueuePatterns } from '../../src/worker/queue-patterns.js';
import { Worker } from '../../src/worker/worker.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace, waitFor } from '../harness/context.js';

const redis = rawRedis();
const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});
afterAll(() => redis.quit());

const config = { failureBackend: 'redis' as const, release: 'test', onTermTimeout: 'requeue' as const };
const Export = defineJob({
  className: 'Export',
  queue: 'exports',
  concurrency: { limit: 1, key: (customer: number) => `customer:${customer}` },
  perform: (_ctx, _customer: number) => {},
});
const Mail = defineJob({
  className: 'Mail',
  queue: 'mail',
  rate: { limit: 1, windowMs: 3_600_000 },
  perform: () => {},
});

function setUp(name: string) {
  const keys = new Keys(uniqueNamespace(name));
  const resque = new Resque({ redis: sharedRedisUrl(), namespace: keys.namespace });
  const admin = new Admin({ redis: sharedRedisUrl(), namespace: keys.namespace });
  closers.push(
    () => resque.close(),
    () => admin.close(),
  );
  const fetcher = (queue: string) =>
    new Fetcher(redis, keys, new QueuePatterns([queue]), config, createLogger('silent'), () => {});
  return { keys, resque, admin, fetcher };
}

describe('Admin.whyWaiting', () => {
  it('names a queue no live worker takes from, and the jobs on it', async () => {
    const { resque, admin } = setUp('wait-lonely');
    await resque.enqueueTo('lonely', 'Note', 1);
    await resque.enqueueTo('lonely', 'Note', 2);
    const reasons = await admin.whyWaiting({ queue: 'lonely', className: 'Note' });
    expect(reasons).toEqual([{ kind: 'no-worker' }, { kind: 'queue-backlog', jobs: 2 }]);
    expect(await admin.whyWaiting({ queue: 'lonely', className: 'Note' }, 1)).toEqual([
      { kind: 'no-worker' },
      { kind: 'queued-behind', jobs: 1 },
    ]);
    expect(reasons.map(describeWaitReason)).toEqual([
      'no live worker takes jobs from its queue',
      '2 job(s) on its queue',
    ]);
  });

  it('names pause-all-workers and a paused queue', async () => {
    const { resque, admin } = setUp('wait-paused');
    await resque.pauseQueue('held');
    await resque.pauseAll();
    const reasons = await admin.whyWaiting({ queue: 'held', className: 'Note' }, 0);
    expect(reasons[0]).toEqual({ kind: 'all-paused' });
    expect(reasons[1]).toMatchObject({ kind: 'queue-paused' });
    expect(reasons.some((r) => r.kind === 'queued-behind')).toBe(false);
  });

  it("names a job's full keyed concurrency limit, and not another key's", async () => {
    const { keys, resque, admin, fetcher } = setUp('wait-concurrency');
    await publishClassLimits({ redis, keys }, new JobRegistry([Export]));
    await resque.enqueue(Export, 1);
    await resque.enqueue(Export, 1);
    await fetcher('exports').reserve(['s1', 's2']);
    const busy = await admin.whyWaiting(
      { queue: 'exports', className: 'Export', concurrencyKey: 'customer:1' },
      0,
    );
    expect(busy).toContainEqual({ kind: 'concurrency', limit: 'key:Export customer:1', running: 1, max: 1 });
    expect(describeWaitReason(busy.find((r) => r.kind === 'concurrency')!)).toBe(
      'concurrency limit key:Export customer:1 is full (1 of 1 running)',
    );
    const free = await admin.whyWaiting(
      { queue: 'exports', className: 'Export', concurrencyKey: 'customer:2' },
      0,
    );
    expect(free.some((r) => r.kind === 'concurrency')).toBe(false);
  });

  it("names a class's used-up rate limit", async () => {
    const { keys, resque, admin, fetcher } = setUp('wait-rate');
    await publishClassRates({ redis, keys }, new JobRegistry([Mail]));
    await resque.enqueue(Mail);
    await resque.enqueue(Mail);
    await fetcher('mail').reserve(['m1', 'm2']);
    const reasons = await admin.whyWaiting({ queue: 'mail', className: 'Mail' }, 0);
    expect(reasons).toContainEqual({
      kind: 'rate',
      limit: 'class:Mail',
      starts: 1,
      max: 1,
      windowMs: 3_600_000,
    });
  });

  it('names workers on the queue that are all busy', async () => {
    const { keys, resque, admin } = setUp('wait-busy');
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const Slow = defineJob({ className: 'Slow', queue: 'slow', perform: () => gate });
    const worker = new Worker({
      redis: sharedRedisUrl(),
      namespace: keys.namespace,
      queues: ['sl*'],
      concurrency: 1,
      jobs: [Slow],
      setProcessTitle: false,
      logLevel: 'silent',
    });
    closers.push(() => worker.stop('term'));
    closers.push(async () => release());
    await resque.enqueue(Slow);
    await resque.enqueue(Slow);
    await worker.start();
    await waitFor(async () => (await resque.size('slow')) === 1, 15_000, 'the first job taken');
    const reasons = await admin.whyWaiting({ queue: 'slow', className: 'Slow' });
    expect(reasons).toContainEqual({ kind: 'workers-busy', busy: 1, slots: 1 });
    expect(reasons.some((r) => r.kind === 'no-worker')).toBe(false);
  });
});
