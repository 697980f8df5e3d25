import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Discard, defineJob, Resque, RetryLater, type RetrySettings, withRetry } from '../../src/index.js';
import type { AnyJob } from '../../src/jobs/registry.js';
import { Keys } from '../../src/protocol/keys.js';
import { decodePayload } from '../../src/protocol/payload.js';
import { redisTime } from '../../src/redis/replies.js';
import { moveRetries } from '../../src/scheduler/retry-promotion.js';
import { Worker } from '../../src/worker/worker.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace, waitFor } from '../harness/context.js';

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
  await Promise.all(workers.splice(0).map((w) => w.stop('term')));
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

async function setup(jobs: AnyJob[], options: { promoteDelayed?: boolean } = {}) {
  const namespace = uniqueNamespace('retries');
  const worker = new Worker({
    redis: sharedRedisUrl(),
    namespace,
    queues: ['q'],
    jobs,
    isolation: 'none',
    logLevel: 'silent',
    setProcessTitle: false,
    // Some tests push items as Ruby would, without a wake-up.
    intervalMs: 100,
    ...options,
  });
  workers.push(worker);
  await worker.start();
  const resque = new Resque({ redis: sharedRedisUrl(), namespace });
  clients.push(resque);
  return { keys: new Keys(namespace), resque, worker };
}

/** A job that records each attempt and its hooks, failing until `succeedOn` (never by default). */
type Spec = RetrySettings & { succeedOn?: number; fail?: (attempt: number) => Error };

function recorder(spec: Spec) {
  const seen = {
    attempts: [] as Array<[number, number]>,
    onFailure: [] as string[],
    exhausted: [] as string[],
  };
  const { succeedOn, fail, ...rest } = spec;
  const Job = defineJob({
    className: 'Flaky',
    queue: 'q',
    backoff: { type: 'fixed', delayMs: 20 },
    ...rest,
    perform: async (ctx, name: string) => {
      seen.attempts.push([ctx.attempt, ctx.returns]);
      if (succeedOn !== undefined && ctx.attempt >= succeedOn) return;
      throw fail?.(ctx.attempt) ?? new TypeError(`${name} broke on attempt ${ctx.attempt}`);
    },
    hooks: {
      on_failure: (error: Error) => void seen.onFailure.push(error.message),
      retries_exhausted: (error: Error, name: string) =>
        void seen.exhausted.push(`${name}: ${error.name}: ${error.message}`),
    },
  });
  return { Job, seen };
}

async function failures(keys: Keys) {
  return (await redis.lrange(keys.failed, 0, -1)).map((raw) => JSON.parse(raw));
}

describe('a worker retrying failed jobs', () => {
  it('runs a failing job again after its backoff until it succeeds; each failed attempt counted, none listed', async () => {
    const { Job, seen } = recorder({ attempts: 3, succeedOn: 3 });
    const { keys, resque } = await setup([Job]);
    await resque.enqueue(Job, 'ada');
    await waitFor(() => seen.attempts.length === 3, 15_000, 'three attempts');
    await waitFor(async () => (await redis.get(keys.processed)) === '3', 5000, 'three acknowledgements');
    expect(seen.attempts).toEqual([
      [1, 0],
      [2, 0],
      [3, 0],
    ]);
    expect(seen.onFailure).toEqual(['ada broke on attempt 1', 'ada broke on attempt 2']);
    expect(seen.exhausted).toEqual([]);
    expect(await redis.get(keys.failedCount)).toBe('2');
    expect(await redis.llen(keys.failed)).toBe(0);
    expect(await redis.zcard(keys.retrySet)).toBe(0);
    const groups = (await redis.hvals(keys.failureGroupDetails)).map((g) => JSON.parse(g).count);
    expect(groups).toEqual([2]);
  });

  it('once the attempts are used up, the job reaches the failed list with its whole history', async () => {
    const { Job, seen } = recorder({ attempts: 3 });
    const { keys, resque } = await setup([Job]);
    const enqueued = await resque.enqueue(Job, 'bob');
    await waitFor(() => seen.exhausted.length === 1, 15_000, 'retries_exhausted');
    const [record, ...more] = await failures(keys);
    expect(more).toEqual([]);
    expect(record).toMatchObject({
      exception: 'TypeError',
      error: 'bob broke on attempt 3',
      queue: 'q',
      payload: {
        class: 'Flaky',
        args: ['bob'],
        id: enqueued!.id,
        attempt: 3,
        errors: [
          { attempt: 1, exception: 'TypeError', error: 'bob broke on attempt 1' },
          { attempt: 2, exception: 'TypeError', error: 'bob broke on attempt 2' },
        ],
      },
    });
    expect(seen.onFailure).toHaveLength(3);
    expect(seen.exhausted).toEqual(['bob: TypeError: bob broke on attempt 3']);
    expect(await redis.mget(keys.processed, keys.failedCount)).toEqual(['3', '3']);
  });

  it('Discard, discardOn and a retryOn that does not match fail the job at once', async () => {
    const thrown = (attempt: number) =>
      attempt === 1 ? new Discard('not worth retrying') : new Error('unexpected second attempt');
    const cases: Spec[] = [
      { attempts: 5, fail: thrown },
      { attempts: 5, discardOn: 'RangeError', fail: () => new RangeError('out of range') },
      { attempts: 5, retryOn: ['SyntaxError'], fail: () => new TypeError('not listed') },
      { attempts: 5, retryOn: (e) => e.message !== 'fatal', fail: () => new Error('fatal') },
    ];
    for (const spec of cases) {
      const { Job, seen } = recorder(spec);
      const { keys, resque } = await setup([Job]);
      await resque.enqueue(Job, 'cy');
      await waitFor(() => seen.exhausted.length === 1, 15_000, 'retries_exhausted');
      expect(seen.attempts).toEqual([[1, 0]]);
      const [record] = await failures(keys);
      expect(record.payload).toEqual({
        class: 'Flaky',
        args: ['cy'],
        id: expect.any(String),
        enqueued_at: expect.any(Number),
      });
      expect(await redis.zcard(keys.retrySet)).toBe(0);
    }
  });

  it('RetryLater from perform files the next attempt at its own delay; retry now runs it', async () => {
    const { Job, seen } = recorder({
      attempts: 2,
      succeedOn: 2,
      fail: () => new RetryLater(3_600_000, 'rate limited'),
    });
    const { keys, resque } = await setup([Job]);
    const before = (await redisTime(redis)).getTime();
    await resque.enqueue(Job, 'dee');
    const [member, score] = await waitFor(
      async () => {
        const found = await redis.zrange(keys.retrySet, 0, -1, 'WITHSCORES');
        return found.length === 2 ? found : undefined;
      },
      10_000,
      'the retry to be filed',
    );
    const after = (await redisTime(redis)).getTime();
    expect(Number(score)).toBeGreaterThanOrEqual(before + 3_600_000);
    expect(Number(score)).toBeLessThanOrEqual(after + 3_600_000);
    expect(seen.onFailure).toEqual(['rate limited']);
    expect(await moveRetries({ redis, keys }, [member!], Number(score))).toBe(1);
    await waitFor(() => seen.attempts.length === 2, 10_000, 'the second attempt');
    expect(seen.attempts).toEqual([
      [1, 0],
      [2, 0],
    ]);
  });

  it('withRetry: options given at enqueue (one job, in bulk, or delayed) win over the definition', async () => {
    const { Job, seen } = recorder({ succeedOn: 2 });
    const { keys, resque } = await setup([Job]);
    await resque.enqueue(Job, 'plain');
    await waitFor(() => seen.exhausted.length === 1, 10_000, 'the plain job to fail');
    const twice = withRetry(Job, { attempts: 2, backoff: { type: 'fixed', delayMs: 10 } });
    await resque.enqueue(twice, 'one');
    await resque.enqueueBulk(twice, [['bulk-1'], ['bulk-2']]);
    await resque.enqueueIn(20, twice, 'delayed');
    await waitFor(() => seen.attempts.length === 1 + 4 * 2, 15_000, 'each enqueued job to run twice');
    expect(seen.exhausted).toHaveLength(1);
    expect(await redis.llen(keys.failed)).toBe(1);
    expect(await redis.get(keys.failedCount)).toBe('5');
  });

  it('retries are promoted with promoteDelayed off', async () => {
    const { Job, seen } = recorder({ attempts: 2, succeedOn: 2 });
    const { resque } = await setup([Job], { promoteDelayed: false });
    await resque.enqueue(Job, 'eve');
    await waitFor(() => seen.attempts.length === 2, 10_000, 'the second attempt');
  });

  it('attempt counts retries; returns counts give-backs after a crash, which use up no attempt', async () => {
    const { Job, seen } = recorder({ attempts: 3, succeedOn: 1 });
    const { keys } = await setup([Job]);
    await redis.rpush(keys.queue('q'), '{"class":"Flaky","args":["x"],"returns":1,"attempt":2}');
    await waitFor(() => seen.attempts.length === 1, 10_000, 'the job');
    expect(seen.attempts).toEqual([[2, 1]]);
  });

  it('a job without retries fails exactly as before: its record holds the queued bytes', async () => {
    const { Job, seen } = recorder({});
    const { keys } = await setup([Job]);
    const raw = '{"class":"Flaky","args":["zed",1.0]}';
    await redis.rpush(keys.queue('q'), raw);
    await waitFor(() => seen.exhausted.length === 1, 10_000, 'the failure');
    const [record] = await redis.lrange(keys.failed, 0, -1);
    expect(record).toContain(`"payload":${raw},`);
    expect(decodePayload(raw).attempt).toBeUndefined();
    expect(await redis.zcard(keys.retrySet)).toBe(0);
  });
});
