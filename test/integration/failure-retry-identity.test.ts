// A retried job is the same job: it keeps the id it was enqueued with, and its queue wait starts again at the retry.
import { afterAll, describe, expect, it } from 'vitest';
import { Resque } from '../../src/client/resque.js';
import { Failures } from '../../src/failure/store.js';
import { Keys } from '../../src/protocol/keys.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace } from '../harness/context.js';
import { newFailure, writeFailures } from './failure-helpers.js';

/** Enqueued 2001-09-09: any retry today is later, whatever this machine's clock says to the second. */
const LONG_AGO = 1_000_000_000;

describe('retrying a failure', () => {
  const redis = rawRedis();
  afterAll(() => redis.disconnect());

  /** A job enqueued through the client, popped as a worker would, and failed with its payload's own bytes. */
  async function failedJob(namespace: string, args: number[], extra = '') {
    const resque = new Resque({ redis: sharedRedisUrl(), namespace });
    const enqueued = await resque.enqueueTo('default', 'Archive', ...args);
    await resque.close();
    const keys = new Keys(namespace);
    const popped = (await redis.lpop(keys.queue('default')))!;
    const rawPayload = popped
      .replace(/"enqueued_at":[\d.]+/, `"enqueued_at":${LONG_AGO}`)
      .replace(/}$/, `${extra}}`);
    await writeFailures(redis, namespace, [
      newFailure({ rawPayload, payload: JSON.parse(rawPayload), queue: 'default' }),
    ]);
    return { id: enqueued!.id!, keys };
  }

  const queued = async (keys: Keys) =>
    (await redis.lrange(keys.queue('default'), 0, -1)).map((raw) => ({ raw, job: JSON.parse(raw) }));

  it('keeps the job id and gives it a new enqueued_at and a retried_at (by id)', async () => {
    const namespace = uniqueNamespace('retry-id');
    const { id, keys } = await failedJob(namespace, [7], ',"returns":2');
    const store = new Failures(redis, keys, { redis: sharedRedisUrl() });
    const before = Date.now() / 1000;
    await store.retry((await store.page()).failures[0]!.id);
    const [entry, ...more] = await queued(keys);
    expect(more).toEqual([]);
    expect(entry!.raw.startsWith('{"class":"Archive","args":[7],"id":')).toBe(true);
    expect(entry!.job).toEqual({
      class: 'Archive',
      args: [7],
      id,
      enqueued_at: entry!.job.enqueued_at,
      retried_at: entry!.job.enqueued_at,
    });
    // The reaper's count of returns belonged to the failed attempt; the retry starts afresh.
    expect(entry!.job.returns).toBeUndefined();
    expect(entry!.job.enqueued_at).toBeGreaterThan(LONG_AGO);
    expect(entry!.job.enqueued_at).toBeGreaterThanOrEqual(Math.floor(before));
    // The failure record keeps the original payload, and gains Ruby's retried_at.
    const [failure] = (await store.page()).failures;
    expect(failure!.record.payload).toMatchObject({ id, enqueued_at: LONG_AGO });
    expect(failure!.retriedAt).toBeInstanceOf(Date);
  });

  it('keeps each job id in a bulk retry', async () => {
    const namespace = uniqueNamespace('retry-id-bulk');
    const first = await failedJob(namespace, [1]);
    const second = await failedJob(namespace, [2]);
    const store = new Failures(redis, first.keys, { redis: sharedRedisUrl() });
    expect(await store.retryAll()).toMatchObject({ done: 2 });
    const jobs = (await queued(first.keys)).map((entry) => entry.job);
    expect(jobs.map((job) => [job.args[0], job.id])).toEqual(
      expect.arrayContaining([
        [1, first.id],
        [2, second.id],
      ]),
    );
    for (const job of jobs) {
      expect(job.enqueued_at).toBeGreaterThan(LONG_AGO);
      expect(job.retried_at).toBe(job.enqueued_at);
    }
  });

  it("pushes Ruby's {class, args} for a job that had no id (Ruby's requeue, byte for byte)", async () => {
    const namespace = uniqueNamespace('retry-no-id');
    const keys = new Keys(namespace);
    await writeFailures(redis, namespace, [newFailure({ args: [1.5] })]);
    const store = new Failures(redis, keys, { redis: sharedRedisUrl() });
    await store.retryAll();
    expect(await redis.lrange(keys.queue('default'), 0, -1)).toEqual(['{"class":"Archive","args":[1.5]}']);
  });
});
