// Where unique jobs, cancel, job status, tracing and flow control meet (docs/unique-jobs.md, docs/cancel.md,
// docs/status.md, docs/operations.md "Traces", docs/flow-control.md): one job carrying several of them at once.
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Resque } from '../../src/client/resque.js';
import { defineJob } from '../../src/jobs/define.js';
import { JobRegistry } from '../../src/jobs/registry.js';
import { argsDigest } from '../../src/jobs/unique.js';
import { publishClassLimits } from '../../src/limits/definitions.js';
import { createLogger } from '../../src/logging/logger.js';
import { Keys } from '../../src/protocol/keys.js';
import { metadataMembers } from '../../src/protocol/payload.js';
import { promoteEarliestSecond, promoteOwnBatch } from '../../src/scheduler/promotion.js';
import { promoteRetryBatch } from '../../src/scheduler/retry-promotion.js';
import { JobNotCompletedError } from '../../src/status/errors.js';
import { Fetcher } from '../../src/worker/fetch/fetcher.js';
import { giveBackHeld, retryHeld } from '../../src/worker/fetch/held.js';
import { rateLimitHeld } from '../../src/worker/fetch/rate-limited.js';
import { QueuePatterns } from '../../src/worker/queue-patterns.js';
import { Worker } from '../../src/worker/worker.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace, waitFor } from '../harness/context.js';
import { type InstalledTracing, installTracing } from '../harness/tracing.js';

let redis: Redis;
let tracing: InstalledTracing;
beforeAll(() => {
  redis = rawRedis();
  tracing = installTracing();
});
afterAll(async () => {
  await redis.quit();
  await tracing.uninstall();
});
const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

const config = { failureBackend: 'redis' as const, release: 'test', onTermTimeout: 'requeue' as const };
const logger = createLogger('silent');

/** Everything at once: unique until finished, tracked, a tenant, a keyed concurrency limit and a keyed rate limit. */
const Everything = defineJob({
  className: 'Everything',
  queue: 'q',
  unique: 'until-finished',
  status: true,
  attempts: 3,
  backoff: { type: 'fixed', delayMs: 0 },
  tenant: (tenant: string, _n: number) => tenant,
  concurrency: { limit: 1, key: (tenant: string) => tenant },
  rate: { limit: 100, windowMs: 60_000, key: (tenant: string) => tenant },
  perform: (_ctx, _tenant: string, _n: number) => {},
});

function setUp(label: string) {
  const keys = new Keys(uniqueNamespace(label));
  const resque = new Resque({ redis: sharedRedisUrl(), namespace: keys.namespace, tracing: true });
  closers.push(() => resque.close());
  const fetcher = (now?: number) =>
    new Fetcher(
      redis,
      keys,
      new QueuePatterns(['q']),
      config,
      logger,
      () => {},
      now === undefined ? undefined : async () => now,
    );
  const lock = (tenant: string, n: number) => keys.uniqueLock(`Everything:${argsDigest([tenant, n])}`);
  const statusKeys = async () => (await redis.keys(`${keys.jobStatus('')}*`)).sort();
  return { keys, resque, fetcher, lock, statusKeys };
}

async function limitsPublished(keys: Keys) {
  await publishClassLimits({ redis, keys }, new JobRegistry([Everything]));
}

/** The member names of a payload, in their order. */
const memberOrder = (raw: string) => Object.keys(JSON.parse(raw) as object);

/** The order metadataMembers writes every member in. */
const documentedOrder = Object.keys(
  JSON.parse(
    `{"class":"C","args":[]${metadataMembers({
      id: 'i',
      enqueuedAt: 1,
      statusTtlMs: 1,
      concurrencyKey: 'a',
      rateKey: 'a',
      tenant: 'a',
      unique: { key: 'k', mode: 'until-finished', ttl: 1 },
      trace: { traceparent: 'p' },
    })}}`,
  ) as object,
);

describe('a tracked unique job and its duplicates', () => {
  it("a duplicate (single, bulk, delayed) leaves no record of its own and the holder's stays right", async () => {
    const { resque, statusKeys, keys } = setUp('interplay-dup');
    const first = await resque.enqueue(Everything, 'a', 1);
    const before = await resque.status(first!.id!);
    expect(before.state).toBe('queued');

    expect(await resque.enqueue(Everything, 'a', 1)).toMatchObject({ id: first!.id, duplicate: true });
    const bulk = await resque.enqueueBulk(Everything, [
      ['a', 1],
      ['a', 2],
    ]);
    expect(bulk[0]).toMatchObject({ id: first!.id, duplicate: true });
    expect(bulk[1]?.duplicate).toBeUndefined();
    expect(await resque.enqueueIn(60_000, Everything, 'a', 1)).toMatchObject({
      id: first!.id,
      duplicate: true,
    });

    expect(await statusKeys()).toEqual([keys.jobStatus(first!.id!), keys.jobStatus(bulk[1]!.id!)].sort());
    expect(await resque.status(first!.id!)).toEqual(before);

    // Duplicates within one batch collapse onto its first job, queued or delayed.
    const [c1, c2] = await resque.enqueueBulk(Everything, [
      ['c', 1],
      ['c', 1],
    ]);
    expect(c2).toMatchObject({ id: c1!.id, duplicate: true });
    const now = Date.now();
    const [d1, d2] = await resque.enqueueAtBulk(Everything, [
      { at: now + 60_000, args: ['d', 1] },
      { at: now + 70_000, args: ['d', 1] },
    ]);
    expect(d2).toMatchObject({ id: d1!.id, duplicate: true });
    expect((await resque.status(d1!.id!)).state).toBe('delayed');
    expect(await statusKeys()).toEqual(
      [first, bulk[1], c1, d1].map((job) => keys.jobStatus(job!.id!)).sort(),
    );
  });
});

describe('a delayed job carrying everything', () => {
  for (const via of ['promote_own', 'promote_second'] as const) {
    it(`is promoted (${via}) with every member in order, onto its tenant's list, and a retry keeps them`, async () => {
      const { keys, resque, fetcher, lock } = setUp(`interplay-promote-${via}`);
      await resque.fairQueue('q');
      await limitsPublished(keys);
      const now = Date.now();
      const dueMs = now + 5_000;
      const filed = await resque.enqueueAt(dueMs, Everything, 'a', 1);
      expect(filed).toMatchObject({ delayed: true });
      const [record] = await redis.hvals(keys.delayedRecords);
      expect(Object.keys(JSON.parse(record!) as object)).toEqual(
        expect.arrayContaining(['t', 'u', 'c', 'k', 'n', 'l']),
      );

      if (via === 'promote_own') {
        await promoteOwnBatch({ redis, keys, strictPayloads: false }, dueMs + 1, 10);
      } else {
        await promoteEarliestSecond({ redis, keys, strictPayloads: false }, dueMs + 2_000, 10);
      }
      expect(await redis.llen(keys.queue('q'))).toBe(0);
      const [raw] = await redis.lrange(keys.fairTenant('q', 'a'), 0, -1);
      expect(memberOrder(raw!)).toEqual(documentedOrder);
      expect(JSON.parse(raw!)).toMatchObject({
        id: filed!.id,
        tenant: 'a',
        concurrency_key: 'a',
        rate_key: 'a',
      });
      expect(await redis.get(lock('a', 1))).toBe(filed!.id);

      // A failed attempt retried at once: back on its tenant's list with every member, its lock kept.
      const f = fetcher();
      const held = await f.reserve(['s1']);
      expect(held.reservations).toHaveLength(1);
      const failure = { exception: 'Error', error: 'broke', backtrace: [] };
      expect(await retryHeld({ redis, keys, config }, held.reservations[0]!, failure, 0, Date.now())).toBe(
        'filed',
      );
      expect(await redis.get(lock('a', 1))).toBe(filed!.id);
      expect(await redis.llen(keys.queue('q'))).toBe(0);
      const [retried] = await redis.lrange(keys.fairTenant('q', 'a'), 0, -1);
      expect(retried).toBeDefined();
      const order = memberOrder(retried!);
      for (const member of documentedOrder) expect(order).toContain(member);
      expect(JSON.parse(retried!)).toMatchObject({ attempt: 2, id: filed!.id, tenant: 'a' });

      // Failed again, retried later: through the retry set, then to the back of its tenant's list.
      const again = await f.reserve(['s2']);
      expect(again.reservations).toHaveLength(1);
      const failedAt = Date.now();
      expect(
        await retryHeld({ redis, keys, config }, again.reservations[0]!, failure, 30_000, failedAt),
      ).toBe('filed');
      expect(await redis.pttl(lock('a', 1))).toBeGreaterThan(30_000);
      expect(await promoteRetryBatch({ redis, keys }, failedAt + 30_000, 10)).toMatchObject({ moved: 1 });
      expect(await redis.llen(keys.queue('q'))).toBe(0);
      const [third] = await redis.lrange(keys.fairTenant('q', 'a'), 0, -1);
      for (const member of documentedOrder) expect(memberOrder(third!)).toContain(member);
      expect(JSON.parse(third!)).toMatchObject({
        attempt: 3,
        id: filed!.id,
        tenant: 'a',
        status: expect.any(Number),
      });
    });
  }
});

describe('the flow-control payload reader with members after the keys', () => {
  it('a keyed concurrency limit still binds a unique, traced job', async () => {
    const { keys, resque, fetcher } = setUp('interplay-reader');
    await limitsPublished(keys);
    for (let n = 0; n < 3; n++) await resque.enqueue(Everything, 'a', n);
    await resque.enqueue(Everything, 'b', 0);
    const [raw] = await redis.lrange(keys.queue('q'), 0, 0);
    expect(raw).toMatch(/"tenant":"a","unique":\{[^}]*\},"trace":\{[^}]*\}\}$/);
    const held = await fetcher().reserve(['s1', 's2', 's3', 's4']);
    expect(held.reservations.map((r) => r.payload?.args.join(':'))).toEqual(['a:0', 'b:0']);
    expect(await resque.limitUsage('key:Everything a')).toEqual({ running: 1, parked: 2 });
  });
});

describe("a unique job given back to its tenant's list", () => {
  it('by a worker, by the reaper and after RateLimited: lock kept, on the head of its list, runs once', async () => {
    const { keys, resque, fetcher, lock } = setUp('interplay-back');
    await resque.fairQueue('q');
    await limitsPublished(keys);
    const first = await resque.enqueue(Everything, 'a', 1);
    await resque.enqueue(Everything, 'a', 2);
    const tenantList = async () =>
      (await redis.lrange(keys.fairTenant('q', 'a'), 0, -1)).map((raw) =>
        (JSON.parse(raw) as { args: unknown[] }).args.join(':'),
      );

    for (const how of ['worker', 'reaper', 'rate-limited'] as const) {
      const now = Date.now();
      const f = fetcher(now);
      const held = await f.reserve(['s1']);
      expect(held.reservations.map((r) => r.payload?.args.join(':'))).toEqual(['a:1']);
      if (how === 'rate-limited') {
        expect(await rateLimitHeld({ redis, keys }, held.reservations[0]!, 1, String(now))).toBe(true);
        const { releaseRateParked } = await import('../../src/limits/rate-release.js');
        await releaseRateParked(redis, keys, now + 10_000);
      } else {
        expect(
          await giveBackHeld(
            { redis, keys, config },
            held.reservations[0]!,
            how === 'reaper',
            how === 'reaper' ? 'reaper' : 'holder',
          ),
        ).toBe(true);
      }
      expect(await redis.get(lock('a', 1))).toBe(first!.id);
      expect(await redis.llen(keys.queue('q'))).toBe(0);
      expect(await tenantList()).toEqual(['a:1', 'a:2']);
      expect(await resque.enqueue(Everything, 'a', 1)).toMatchObject({ id: first!.id, duplicate: true });
    }
  });
});

describe('cancelling a tracked unique job', () => {
  it('queued, delayed, retrying: its lock freed, its record cancelled, waitFor rejects', async () => {
    const { keys, resque, fetcher, lock } = setUp('interplay-cancel');
    await limitsPublished(keys);
    const retrying = await resque.enqueue(Everything, 'b', 3);
    const held = await fetcher().reserve(['s1']);
    const failure = { exception: 'Error', error: 'broke', backtrace: [] };
    expect(await retryHeld({ redis, keys, config }, held.reservations[0]!, failure, 60_000, Date.now())).toBe(
      'filed',
    );
    const queued = await resque.enqueue(Everything, 'a', 1);
    const delayed = await resque.enqueueIn(60_000, Everything, 'a', 2);

    const cases = [
      [queued, 'queued', lock('a', 1)],
      [delayed, 'delayed', lock('a', 2)],
      [retrying, 'retrying', lock('b', 3)],
    ] as const;
    for (const [job, was] of cases) {
      expect(await resque.cancel(job!.id!)).toEqual({ id: job!.id, was });
      expect((await resque.status(job!.id!)).state).toBe('cancelled');
      await expect(resque.waitFor(job!.id!, { timeoutMs: 2_000 })).rejects.toBeInstanceOf(
        JobNotCompletedError,
      );
    }
    // The queued one is dropped at its reservation, which frees its lock.
    expect((await fetcher().reserve(['s2'])).reservations).toHaveLength(0);
    for (const [, , key] of cases) expect(await redis.get(key)).toBeNull();
    expect((await resque.status(queued!.id!)).state).toBe('cancelled');
  });

  it('parked on its full key limit: dropped when let back and reserved, its lock freed', async () => {
    const { keys, resque, fetcher, lock } = setUp('interplay-cancel-parked');
    await limitsPublished(keys);
    const running = await resque.enqueue(Everything, 'a', 1);
    const parked = await resque.enqueue(Everything, 'a', 2);
    const f = fetcher();
    const held = await f.reserve(['s1', 's2']);
    expect(held.reservations.map((r) => r.payload?.id)).toEqual([running!.id]);
    expect(await resque.limitUsage('key:Everything a')).toEqual({ running: 1, parked: 1 });
    expect(await resque.cancel(parked!.id!)).toMatchObject({ id: parked!.id });
    expect((await resque.status(parked!.id!)).state).toBe('cancelled');
    await held.reservations[0]!.ack({ kind: 'performed' });
    expect((await f.reserve(['s2'])).reservations).toHaveLength(0);
    expect(await redis.get(lock('a', 2))).toBeNull();
    expect(await resque.limitUsage('key:Everything a')).toEqual({ running: 0, parked: 0 });
  });

  it('promoted from delayed (its record still says delayed): dropped at reservation, its lock freed', async () => {
    const { keys, resque, fetcher, lock } = setUp('interplay-cancel-promoted');
    await resque.fairQueue('q');
    await limitsPublished(keys);
    const dueMs = Date.now() + 1_000;
    const job = await resque.enqueueAt(dueMs, Everything, 'a', 1);
    await promoteOwnBatch({ redis, keys, strictPayloads: false }, dueMs + 1, 10);
    expect(await redis.llen(keys.fairTenant('q', 'a'))).toBe(1);
    expect(await resque.cancel(job!.id!)).toEqual({ id: job!.id, was: 'queued' });
    expect((await fetcher().reserve(['s1'])).reservations).toHaveLength(0);
    expect(await redis.get(lock('a', 1))).toBeNull();
    await expect(resque.waitFor(job!.id!, { timeoutMs: 2_000 })).rejects.toBeInstanceOf(JobNotCompletedError);
  });

  it("queued on its tenant's list of a fair queue: dropped at reservation, its lock freed", async () => {
    const { keys, resque, fetcher, lock } = setUp('interplay-cancel-fair');
    await resque.fairQueue('q');
    await limitsPublished(keys);
    const queued = await resque.enqueue(Everything, 'a', 1);
    await resque.enqueue(Everything, 'b', 1);
    expect(await resque.cancel(queued!.id!)).toEqual({ id: queued!.id, was: 'queued' });
    const held = await fetcher().reserve(['s1', 's2']);
    expect(held.reservations.map((r) => r.payload?.args.join(':'))).toEqual(['b:1']);
    expect(await redis.get(lock('a', 1))).toBeNull();
    expect(await redis.get(keys.cancelledCount)).toBe('1');
    await expect(resque.waitFor(queued!.id!, { timeoutMs: 2_000 })).rejects.toBeInstanceOf(
      JobNotCompletedError,
    );
  });
});

describe('a tracked while-running duplicate dropped at reservation', () => {
  const Loner = defineJob({
    className: 'Loner',
    queue: 'q',
    unique: 'while-running',
    status: true,
    perform: () => {},
  });

  it('has its record end, so waitFor rejects instead of waiting for a job that will never run', async () => {
    const { resque, fetcher } = setUp('interplay-dropped');
    const first = await resque.enqueue(Loner);
    const second = await resque.enqueue(Loner);
    const held = await fetcher().reserve(['s1', 's2']);
    expect(held.reservations.map((r) => r.payload?.id)).toEqual([first!.id]);
    await expect(resque.waitFor(second!.id!, { timeoutMs: 2_000 })).rejects.toBeInstanceOf(
      JobNotCompletedError,
    );
    expect((await resque.status(second!.id!)).state).toBe('cancelled');
    expect((await resque.status(first!.id!)).state).toBe('queued');
  });
});

describe('cancelling a tracked unique job that runs', () => {
  const Long = defineJob({
    className: 'Long',
    queue: 'q',
    unique: 'until-finished',
    status: true,
    perform: (ctx) =>
      new Promise<void>((_resolve, reject) => {
        ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
      }),
  });

  it('frees its lock, says cancelled and rejects waitFor', async () => {
    const { keys, resque } = setUp('interplay-cancel-running');
    const worker = new Worker({
      redis: sharedRedisUrl(),
      namespace: keys.namespace,
      queues: ['q'],
      jobs: [Long],
      isolation: 'none',
      logLevel: 'silent',
      setProcessTitle: false,
    });
    closers.push(() => worker.stop('term'));
    await worker.start();
    const job = await resque.enqueue(Long);
    await waitFor(async () => (await resque.status(job!.id!)).state === 'running', 10_000, 'the job running');
    const waiting = resque.waitFor(job!.id!, { timeoutMs: 10_000 });
    expect(await resque.cancel(job!.id!)).toMatchObject({ id: job!.id, was: 'running' });
    await expect(waiting).rejects.toBeInstanceOf(JobNotCompletedError);
    expect((await resque.status(job!.id!)).state).toBe('cancelled');
    await waitFor(async () => (await redis.get(keys.cancelledCount)) === '1', 10_000, 'the cancel counted');
    expect(await resque.uniqueHolder(Long)).toBeNull();
    expect((await resque.enqueue(Long))?.duplicate).toBeUndefined();
  });
});
