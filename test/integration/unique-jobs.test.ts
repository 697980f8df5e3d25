// Unique jobs: the lock taken with the push (enqueue, bulk, delayed), released where each mode says (reservation,
// final outcome) and only by the job holding it, kept across retries and give-backs, duplicates dropped at
// reservation for `while-running`, bad input refused with nothing written.
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { removeMatching } from '../../src/client/dequeue.js';
import { Resque } from '../../src/client/resque.js';
import { ConfigError, InvalidArgumentsError } from '../../src/errors/index.js';
import { defineJob } from '../../src/jobs/define.js';
import { type AnyJob, JobRegistry } from '../../src/jobs/registry.js';
import { argsDigest, DEFAULT_LOCK_TTL_MS } from '../../src/jobs/unique.js';
import { createLogger } from '../../src/logging/logger.js';
import { Keys } from '../../src/protocol/keys.js';
import { promoteEarliestSecond } from '../../src/scheduler/promotion.js';
import { Fetcher } from '../../src/worker/fetch/fetcher.js';
import { dropHeld, failHeld, giveBackHeld, retryHeld } from '../../src/worker/fetch/held.js';
import { QueuePatterns } from '../../src/worker/queue-patterns.js';
import { Worker } from '../../src/worker/worker.js';
import { keysUnder, rawRedis, sharedRedisUrl, uniqueNamespace, waitFor } from '../harness/context.js';

let redis: Redis;
beforeAll(() => {
  redis = rawRedis();
});
afterAll(async () => {
  await redis.quit();
});

const clients: Resque[] = [];
const workers: Worker[] = [];
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop('term')));
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

const config = { failureBackend: 'redis' as const, release: 'test', onTermTimeout: 'requeue' as const };
const logger = createLogger('silent');

const Queued = defineJob({ className: 'Queued', queue: 'q', unique: 'while-queued', perform: () => {} });
const Finished = defineJob({
  className: 'Finished',
  queue: 'q',
  unique: { mode: 'until-finished', lockTtlMs: 60_000 },
  perform: (_ctx, _n: number) => {},
});
const Running = defineJob({ className: 'Running', queue: 'q', unique: 'while-running', perform: () => {} });
const ByAccount = defineJob({
  className: 'ByAccount',
  queue: 'q',
  unique: { mode: 'until-finished', key: (account: number, _at: string) => `account:${account}` },
  perform: (_ctx, _account: number, _at: string) => {},
});

function setup(options: { strictPayloads?: boolean } = {}) {
  const keys = new Keys(uniqueNamespace('unique'));
  const resque = new Resque({ redis: sharedRedisUrl(), namespace: keys.namespace, ...options });
  clients.push(resque);
  const fetcher = () => new Fetcher(redis, keys, new QueuePatterns(['q']), config, logger, () => {});
  const lockOf = (className: string, key: string) => redis.get(keys.uniqueLock(`${className}:${key}`));
  return { keys, resque, fetcher, lockOf, ctx: { redis, keys, config } };
}

describe('unique enqueue', () => {
  it('takes the lock with the push; a duplicate pushes nothing and returns the holder id', async () => {
    const { keys, resque, lockOf } = setup();
    const first = await resque.enqueue(Finished, 1);
    expect(first).toEqual({ queue: 'q', id: expect.any(String) });
    const again = await resque.enqueue(Finished, 1);
    expect(again).toEqual({ queue: 'q', id: first?.id, duplicate: true });
    const other = await resque.enqueue(Finished, 2);
    expect(other?.duplicate).toBeUndefined();
    expect(await redis.llen(keys.queue('q'))).toBe(2);
    const digest = argsDigest([1]);
    expect(await lockOf('Finished', digest)).toBe(first?.id);
    const ttl = await redis.pttl(keys.uniqueLock(`Finished:${digest}`));
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    const [item] = await redis.lrange(keys.queue('q'), 0, 0);
    expect(JSON.parse(item!)).toMatchObject({
      class: 'Finished',
      args: [1],
      id: first?.id,
      unique: { key: `Finished:${digest}`, mode: 'until-finished', ttl: 60_000 },
    });
  });

  it('keys by class and canonical arguments by default, or by the key function', async () => {
    const { resque, lockOf } = setup();
    const Canon = defineJob({
      className: 'Canon',
      queue: 'q',
      unique: 'while-queued',
      perform: (_ctx, _o: { a: number; b: number[] }) => {},
    });
    const a = await resque.enqueue(Canon, { a: 1, b: [2, 3] });
    expect(await resque.enqueue(Canon, { b: [2, 3], a: 1 })).toMatchObject({ id: a?.id, duplicate: true });
    expect((await resque.enqueue(Canon, { a: 1, b: [3, 2] }))?.duplicate).toBeUndefined();
    // Same arguments, another class: another key.
    expect((await resque.enqueueTo('q', Queued))?.duplicate).toBeUndefined();

    const one = await resque.enqueue(ByAccount, 7, 'monday');
    expect(await resque.enqueue(ByAccount, 7, 'tuesday')).toMatchObject({ id: one?.id, duplicate: true });
    expect(await lockOf('ByAccount', 'account:7')).toBe(one?.id);
    // The default TTL applies without lockTtlMs.
    const ttl = await redis.pttl(`${resque.keys.uniqueLock('ByAccount:account:7')}`);
    expect(ttl).toBeGreaterThan(DEFAULT_LOCK_TTL_MS - 10_000);
  });

  it('bulk: one round trip, duplicates within the batch and against queued jobs collapse', async () => {
    const { keys, resque } = setup();
    const queued = await resque.enqueue(Finished, 1);
    const results = await resque.enqueueBulk(Finished, [[1], [2], [2], [3]]);
    expect(results.map((r) => [r.id === queued?.id, r.duplicate ?? false])).toEqual([
      [true, true],
      [false, false],
      [false, true],
      [false, false],
    ]);
    expect(results[2]?.id).toBe(results[1]?.id);
    const items = (await redis.lrange(keys.queue('q'), 0, -1)).map((raw) => JSON.parse(raw).args[0]);
    expect(items).toEqual([1, 2, 3]);
  });

  it('bulk past one script call (1,000 jobs each): duplicates across the calls collapse too', async () => {
    const { keys, resque } = setup();
    const argsList = Array.from({ length: 2500 }, (_, i): [number] => [i % 1200]);
    const results = await resque.enqueueBulk(Finished, argsList);
    expect(results.filter((r) => !r.duplicate)).toHaveLength(1200);
    expect(results[1200]).toMatchObject({ id: results[0]?.id, duplicate: true });
    expect(results[2499]).toMatchObject({ id: results[99]?.id, duplicate: true });
    expect(await redis.llen(keys.queue('q'))).toBe(1200);
  });

  it('a unique class with a tenant on a fair queue goes to its tenant list, locked', async () => {
    const { keys, resque } = setup();
    const Fair = defineJob({
      className: 'Fair',
      queue: 'q',
      tenant: (account: number) => `a${account}`,
      unique: 'while-queued',
      perform: (_ctx, _account: number) => {},
    });
    await resque.fairQueue('q');
    const [a, b, c] = await resque.enqueueBulk(Fair, [[1], [1], [2]]);
    expect(b).toMatchObject({ id: a?.id, duplicate: true });
    expect(c?.duplicate).toBeUndefined();
    expect(await redis.llen(keys.fairTenant('q', 'a1'))).toBe(1);
    expect(await redis.lrange(keys.fairRotation('q'), 0, -1)).toEqual(['a1', 'a2']);
    expect(await redis.zscore(keys.nonEmptyQueues, 'q')).toBe('0');
  });

  it('delayed jobs take the lock at filing, for the delay and the TTL after it', async () => {
    const { keys, resque, fetcher } = setup();
    const now = Date.now();
    const later = await resque.enqueueAt(now + 30_000, Queued);
    expect(later).toMatchObject({ delayed: true });
    expect(await resque.enqueue(Queued)).toEqual({ queue: 'q', id: later?.id, duplicate: true });
    expect(await resque.enqueueIn(5_000, Queued)).toMatchObject({ id: later?.id, duplicate: true });
    const [, dup] = await resque.enqueueAtBulk(Queued, [
      { at: now + 40_000, args: [] },
      { at: now + 50_000, args: [] },
    ]);
    expect(dup).toMatchObject({ id: later?.id, duplicate: true });
    expect(await resque.delayed.count()).toBe(1);
    const lock = keys.uniqueLock(`Queued:${argsDigest([])}`);
    expect(await redis.pttl(lock)).toBeGreaterThan(30_000 + DEFAULT_LOCK_TTL_MS - 10_000);

    // Promoted with its lock member; the reservation releases a while-queued lock.
    await promoteEarliestSecond({ redis, keys, strictPayloads: false }, now + 32_000, 100);
    const [item] = await redis.lrange(keys.queue('q'), 0, -1);
    expect(JSON.parse(item!)).toMatchObject({ id: later?.id, unique: { mode: 'while-queued' } });
    expect(await redis.get(lock)).toBe(later?.id);
    const reply = await fetcher().reserve(['s1']);
    expect(reply.reservations).toHaveLength(1);
    expect(await redis.exists(lock)).toBe(0);
  });
});

describe('reading and freeing a key', () => {
  it('uniqueHolder names the holder; releaseUnique frees the key whoever holds it', async () => {
    const { keys, resque } = setup();
    expect(await resque.uniqueHolder(Finished, 1)).toBeNull();
    const first = await resque.enqueue(Finished, 1);
    expect(await resque.uniqueHolder(Finished, 1)).toBe(first?.id);
    // Removed by hand without dequeue (a raw LPOP): the lock would stay until its TTL.
    await redis.lpop(keys.queue('q'));
    expect(await resque.enqueue(Finished, 1)).toMatchObject({ id: first?.id, duplicate: true });
    expect(await resque.releaseUnique(Finished, 1)).toBe(true);
    expect(await resque.releaseUnique(Finished, 1)).toBe(false);
    const second = await resque.enqueue(Finished, 1);
    expect(second?.duplicate).toBeUndefined();
    expect(await redis.llen(keys.queue('q'))).toBe(1);
    await expect(resque.uniqueHolder(defineJob({ className: 'Plain', perform: () => {} }))).rejects.toThrow(
      /Job Plain is not unique/,
    );
  });
});

describe('release points', () => {
  it('dequeue removes a job and frees its lock, whatever its mode; a lock another job holds is left', async () => {
    const { keys, resque, lockOf } = setup();
    await resque.enqueue(Finished, 1);
    await resque.enqueue(Queued);
    await resque.enqueue(Finished, 2);
    expect(await resque.dequeue(Finished, 1)).toBe(1);
    expect(await lockOf('Finished', argsDigest([1]))).toBeNull();
    expect(await resque.dequeue(Queued)).toBe(1);
    expect(await lockOf('Queued', argsDigest([]))).toBeNull();
    // A job whose lock expired and was taken by a later job with its key: removing it leaves that lock alone.
    const [item] = await redis.lrange(keys.queue('q'), 0, 0);
    await redis.del(keys.uniqueLock(`Finished:${argsDigest([2])}`));
    const other = await resque.enqueue(Finished, 2);
    const client = { redis, keys, config: resque.config, jobs: new JobRegistry() };
    expect(await removeMatching(client, keys.queue('q'), (raw) => raw === item)).toBe(1);
    expect(await lockOf('Finished', argsDigest([2]))).toBe(other?.id);
    expect(await redis.llen(keys.queue('q'))).toBe(1);
  });

  it('while-queued: released when a worker reserves the job, so the same job can be queued while it runs', async () => {
    const { resque, fetcher, lockOf } = setup();
    const first = await resque.enqueue(Queued);
    const [held] = (await fetcher().reserve(['s1'])).reservations;
    expect(held?.jobId).toBe(first?.id);
    expect(await lockOf('Queued', argsDigest([]))).toBeNull();
    const second = await resque.enqueue(Queued);
    expect(second?.duplicate).toBeUndefined();
    // The first job's end does not touch the second's lock.
    await held?.ack({ kind: 'performed' });
    await fetcher().reserve([]);
    expect(await lockOf('Queued', argsDigest([]))).toBe(second?.id);
  });

  it('until-finished: held while running, released by the acknowledgement of its final outcome', async () => {
    const { resque, fetcher, lockOf } = setup();
    const first = await resque.enqueue(Finished, 1);
    const f = fetcher();
    const [held] = (await f.reserve(['s1'])).reservations;
    expect(await lockOf('Finished', argsDigest([1]))).toBe(first?.id);
    expect(await resque.enqueue(Finished, 1)).toMatchObject({ id: first?.id, duplicate: true });
    await held?.ack({ kind: 'failed', failure: { exception: 'Error', error: 'no', backtrace: [] } });
    await f.reserve([]);
    expect(await lockOf('Finished', argsDigest([1]))).toBeNull();
    expect((await resque.enqueue(Finished, 1))?.duplicate).toBeUndefined();
  });

  it('until-finished: kept across a retry (extended past its due time) and a give-back; released by fail_held and drop_held', async () => {
    const { keys, resque, fetcher, lockOf, ctx } = setup();
    const lock = keys.uniqueLock(`Finished:${argsDigest([1])}`);
    const first = await resque.enqueue(Finished, 1);
    const f = fetcher();
    let [held] = (await f.reserve(['s1'])).reservations;
    const failure = { exception: 'Error', error: 'no', backtrace: [] };
    expect(await retryHeld(ctx, held!, failure, 120_000, Date.now())).toBe('filed');
    expect(await lockOf('Finished', argsDigest([1]))).toBe(first?.id);
    expect(await redis.pttl(lock)).toBeGreaterThan(170_000);

    await resque.enqueue(Finished, 1); // a duplicate: nothing pushed
    expect(await redis.llen(keys.queue('q'))).toBe(0);
    await redis.rpush(keys.queue('q'), held!.raw);
    [held] = (await f.reserve(['s1'])).reservations;
    expect(await giveBackHeld(ctx, held!, true, 'reaper')).toBe(true);
    expect(await lockOf('Finished', argsDigest([1]))).toBe(first?.id);

    [held] = (await f.reserve(['s1'])).reservations;
    expect(await failHeld(ctx, held!, held!.failureRecord(failure))).toBe(true);
    expect(await redis.exists(lock)).toBe(0);

    const second = await resque.enqueue(Finished, 1);
    [held] = (await f.reserve(['s1'])).reservations;
    expect(await lockOf('Finished', argsDigest([1]))).toBe(second?.id);
    expect(await dropHeld(ctx, held!)).toBe(true);
    expect(await redis.exists(lock)).toBe(0);
  });

  it('a lock another job holds is never released by a job that lost it', async () => {
    const { keys, resque, fetcher } = setup();
    const lock = keys.uniqueLock(`Finished:${argsDigest([1])}`);
    await resque.enqueue(Finished, 1);
    const f = fetcher();
    const [held] = (await f.reserve(['s1'])).reservations;
    // Its lock expired and another job with the key was enqueued meanwhile.
    await redis.del(lock);
    const other = await resque.enqueue(Finished, 1);
    await held?.ack({ kind: 'performed' });
    await f.reserve([]);
    expect(await redis.get(lock)).toBe(other?.id);
  });

  it('a job pushed as Ruby pushes it (no "unique" member) neither takes nor releases a lock', async () => {
    const { keys, resque, fetcher, lockOf } = setup();
    const queued = await resque.enqueue(Finished, 1);
    await redis.rpush(keys.queue('q'), '{"class":"Finished","args":[1]}', '{"class":"Running","args":[]}');
    const f = fetcher();
    const reply = await f.reserve(['s1', 's2', 's3']);
    expect(reply.reservations.map((r) => r.jobId ?? 'ruby')).toEqual([queued?.id, 'ruby', 'ruby']);
    for (const held of reply.reservations.slice(1)) await held.ack({ kind: 'performed' });
    await f.reserve([]);
    expect(await lockOf('Finished', argsDigest([1]))).toBe(queued?.id);
    expect(await lockOf('Running', argsDigest([]))).toBeNull();
  });

  it('while-running: no lock at enqueue; a duplicate reserved while one runs is dropped, counted and reported', async () => {
    const { keys, resque, fetcher, lockOf, ctx } = setup();
    const a = await resque.enqueue(Running);
    const b = await resque.enqueue(Running);
    expect(b?.duplicate).toBeUndefined();
    expect(await lockOf('Running', argsDigest([]))).toBeNull();
    await resque.enqueueTo('q', 'Plain');
    const f = fetcher();
    const reply = await f.reserve(['s1', 's2']);
    expect(reply.reservations.map((r) => r.className)).toEqual(['Running', 'Plain']);
    expect(reply.reservations[0]?.jobId).toBe(a?.id);
    expect(f.droppedDuplicates).toBe(1);
    expect(await redis.hgetall(keys.uniqueDropped)).toEqual({ Running: '1' });
    expect(await redis.llen(keys.queue('q'))).toBe(0);
    expect(await lockOf('Running', argsDigest([]))).toBe(a?.id);
    // A give-back ends the run: the lock goes, and the job takes it again when it is reserved again.
    expect(await giveBackHeld(ctx, reply.reservations[0]!, false)).toBe(true);
    expect(await lockOf('Running', argsDigest([]))).toBeNull();
    const [again] = (await f.reserve(['s1'])).reservations;
    expect(await lockOf('Running', argsDigest([]))).toBe(a?.id);
    await again?.ack({ kind: 'performed' });
    await f.reserve([]);
    expect(await lockOf('Running', argsDigest([]))).toBeNull();
  });
});

describe('in a worker', () => {
  async function start(jobs: AnyJob[]) {
    const namespace = uniqueNamespace('unique-worker');
    const worker = new Worker({
      redis: sharedRedisUrl(),
      namespace,
      queues: ['q'],
      jobs,
      isolation: 'none',
      logLevel: 'silent',
      setProcessTitle: false,
      intervalMs: 100,
    });
    workers.push(worker);
    await worker.start();
    const resque = new Resque({ redis: sharedRedisUrl(), namespace });
    clients.push(resque);
    return { keys: new Keys(namespace), resque };
  }

  it('each mode holds its lock where it says while perform runs, and none is left after', async () => {
    const seen: Record<string, string | null> = {};
    let keys: Keys | undefined;
    const observed = (name: string, mode: 'while-queued' | 'until-finished' | 'while-running') =>
      defineJob({
        className: name,
        queue: 'q',
        unique: mode,
        perform: async () => {
          seen[name] = await redis.get(keys!.uniqueLock(`${name}:${argsDigest([])}`));
        },
      });
    const jobs = [
      observed('WQ', 'while-queued'),
      observed('UF', 'until-finished'),
      observed('WR', 'while-running'),
    ];
    const started = await start(jobs);
    keys = started.keys;
    const ids = await Promise.all(jobs.map((job) => started.resque.enqueue(job)));
    await waitFor(() => Object.keys(seen).length === 3, 15_000, 'the three jobs to run');
    expect(seen).toEqual({ WQ: null, UF: ids[1]?.id, WR: ids[2]?.id });
    await waitFor(
      async () => (await keysUnder(redis, `${keys!.namespace}:ts:unique`)).length === 0,
      15_000,
      'every lock to be released',
    );
  });

  it('until-finished holds the lock through every retry and releases it after the final failure', async () => {
    let keys: Keys | undefined;
    const locks: Array<string | null> = [];
    const Flaky = defineJob({
      className: 'Flaky',
      queue: 'q',
      unique: 'until-finished',
      attempts: 3,
      backoff: { type: 'fixed', delayMs: 20 },
      perform: async () => {
        locks.push(await redis.get(keys!.uniqueLock(`Flaky:${argsDigest([])}`)));
        throw new Error('still broken');
      },
    });
    const started = await start([Flaky]);
    keys = started.keys;
    const job = await started.resque.enqueue(Flaky);
    await waitFor(async () => (await redis.llen(keys!.failed)) === 1, 15_000, 'the final failure');
    expect(locks).toEqual([job?.id, job?.id, job?.id]);
    await waitFor(
      async () => (await redis.exists(keys!.uniqueLock(`Flaky:${argsDigest([])}`))) === 0,
      15_000,
      'the lock to be released',
    );
  });
});

describe('bad input', () => {
  it('refuses invalid unique settings with clear errors', () => {
    const make = (unique: unknown) => () =>
      defineJob({ className: 'Bad', queue: 'q', unique: unique as never, perform: () => {} });
    expect(make('always')).toThrow(ConfigError);
    expect(make('always')).toThrow(/"unique".*"while-queued", "until-finished", "while-running".*"always"/);
    expect(make({ mode: 'until-done' })).toThrow(/unique\.mode/);
    expect(make({ mode: 'while-queued', key: 'id' })).toThrow(/unique\.key.*function/);
    expect(make({ mode: 'while-queued', lockTtlMs: 0 })).toThrow(/unique\.lockTtlMs.*got 0/);
    expect(make({ mode: 'while-queued', lockTtlMs: 1.5 })).toThrow(/unique\.lockTtlMs/);
    expect(make({ mode: 'while-queued', ttl: 5 })).toThrow(/unknown option "ttl"/);
    expect(make(true)).toThrow(/expected one of/);
  });

  it('a key function that throws or returns no key: a clear error and nothing written, in every enqueue path', async () => {
    const { keys, resque } = setup();
    const Throws = defineJob({
      className: 'Throws',
      queue: 'q',
      unique: {
        mode: 'until-finished',
        key: (n: number) => {
          if (n === 2) throw new RangeError('no account');
          return n === 3 ? '' : `k${n}`;
        },
      },
      perform: (_ctx, _n: number) => {},
    });
    await expect(resque.enqueue(Throws, 2)).rejects.toThrow(InvalidArgumentsError);
    await expect(resque.enqueue(Throws, 2)).rejects.toThrow(
      /give no unique key for Throws: its key function threw RangeError: no account/,
    );
    await expect(resque.enqueue(Throws, 3)).rejects.toThrow(/returned ""/);
    await expect(resque.enqueueBulk(Throws, [[1], [2]])).rejects.toThrow(InvalidArgumentsError);
    await expect(resque.enqueueIn(10_000, Throws, 2)).rejects.toThrow(InvalidArgumentsError);
    await expect(
      resque.enqueueAtBulk(Throws, [
        { at: Date.now() + 10_000, args: [1] },
        { at: Date.now() + 10_000, args: [2] },
      ]),
    ).rejects.toThrow(InvalidArgumentsError);
    expect(await keysUnder(redis, keys.namespace)).toEqual([]);
  });

  it('strict payloads (no job id) refuse unique jobs with a clear error, nothing written', async () => {
    const { keys, resque } = setup({ strictPayloads: true });
    await expect(resque.enqueue(Finished, 1)).rejects.toThrow(
      /Finished is unique: its lock holds the job's id/,
    );
    await expect(resque.enqueueBulk(Finished, [[1]])).rejects.toThrow(ConfigError);
    await expect(resque.enqueueIn(10_000, Finished, 1)).rejects.toThrow(ConfigError);
    expect(await keysUnder(redis, keys.namespace)).toEqual([]);
  });
});
