// Cancelling a unique job (docs/cancel.md, docs/unique-jobs.md): it ends for good, so its lock goes with it, whether
// it was queued (dropped at reservation), delayed or waiting for a retry; a duplicate can then be enqueued at once.
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Admin, defineJob, Resque } from '../../src/index.js';
import { Keys } from '../../src/protocol/keys.js';
import { Worker } from '../../src/worker/worker.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace, waitFor } from '../harness/context.js';

let redis: Redis;
beforeAll(() => {
  redis = rawRedis();
});
afterAll(async () => {
  await redis.quit();
});
const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

function setUp(name: string) {
  const namespace = uniqueNamespace(name);
  const resque = new Resque({ redis: sharedRedisUrl(), namespace });
  closers.push(() => resque.close());
  return { namespace, keys: new Keys(namespace), resque };
}

const ran: string[] = [];
const Sync = defineJob({
  className: 'UniqueSync',
  queue: 'q',
  unique: 'until-finished',
  attempts: 2,
  backoff: { type: 'fixed', delayMs: 60_000 },
  perform: (_ctx, account: string) => {
    ran.push(account);
    if (account.startsWith('fail')) throw new Error('broke');
  },
});

async function startWorker(namespace: string) {
  const worker = new Worker({
    redis: sharedRedisUrl(),
    namespace,
    queues: ['q'],
    jobs: [Sync],
    isolation: 'none',
    logLevel: 'silent',
    setProcessTitle: false,
  });
  closers.push(() => worker.stop('term'));
  await worker.start();
}

describe('cancelling a unique job', () => {
  it('queued: the job dropped at reservation frees its key', async () => {
    const { namespace, keys, resque } = setUp('cancel-unique-queued');
    const first = await resque.enqueue(Sync, 'a');
    expect(await resque.enqueue(Sync, 'a')).toMatchObject({ id: first!.id, duplicate: true });
    await resque.cancel(first!.id!);
    await startWorker(namespace);
    await waitFor(async () => (await redis.get(keys.cancelledCount)) === '1', 10_000, 'the job dropped');
    const again = await resque.enqueue(Sync, 'a');
    expect(again?.duplicate).toBeUndefined();
    expect(again?.id).not.toBe(first!.id);
  });

  it('delayed: removing it frees its key', async () => {
    const { resque } = setUp('cancel-unique-delayed');
    const first = await resque.enqueueIn(60_000, Sync, 'b');
    expect(await resque.enqueueIn(60_000, Sync, 'b')).toMatchObject({ id: first!.id, duplicate: true });
    expect(await resque.cancel(first!.id!)).toEqual({ id: first!.id, was: 'delayed' });
    const again = await resque.enqueueIn(60_000, Sync, 'b');
    expect(again?.duplicate).toBeUndefined();
  });

  it('waiting for a retry: removing it frees its key', async () => {
    const { namespace, keys, resque } = setUp('cancel-unique-retry');
    await startWorker(namespace);
    const first = await resque.enqueue(Sync, 'fail-c');
    await waitFor(async () => (await redis.zcard(keys.retrySet)) === 1, 10_000, 'the retry');
    expect(await resque.enqueue(Sync, 'fail-c')).toMatchObject({ id: first!.id, duplicate: true });
    expect(await resque.cancel(first!.id!)).toEqual({ id: first!.id, was: 'retrying' });
    const again = await resque.enqueue(Sync, 'fail-c');
    expect(again?.duplicate).toBeUndefined();
  });
});

describe('removing a unique job from the retry set by hand (the Retries tab)', () => {
  it('frees its key: the job ends for good', async () => {
    const { namespace, keys, resque } = setUp('remove-retry-unique');
    const admin = new Admin({ redis: sharedRedisUrl(), namespace });
    closers.push(() => admin.close());
    await startWorker(namespace);
    const first = await resque.enqueue(Sync, 'fail-d');
    await waitFor(async () => (await redis.zcard(keys.retrySet)) === 1, 10_000, 'the retry');
    expect(await resque.enqueue(Sync, 'fail-d')).toMatchObject({ id: first!.id, duplicate: true });
    const [waiting] = (await admin.retries()).jobs;
    expect(await admin.removeRetry(waiting!.ref)).toBe(true);
    expect(await redis.zcard(keys.retrySet)).toBe(0);
    expect((await resque.enqueue(Sync, 'fail-d'))?.duplicate).toBeUndefined();
  });
});
