// `resque migrate-to-cluster`: a namespace filled on a single Redis (queues, delayed jobs, failures, a pending retry, a
// unique lock, a status record, stats) is copied to a {tagged} namespace on a 3-primary cluster; a worker started on
// the cluster runs every job, and the admin reads match. Bad input is refused with a clear error, nothing written.

import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Admin } from '../../src/api/admin.js';
import { Resque } from '../../src/client/resque.js';
import { defineJob } from '../../src/jobs/define.js';
import { Worker } from '../../src/worker/worker.js';
import { resqueInProcess } from '../harness/cli-in-process.js';
import { type RedisClusterHarness, startRedisCluster } from '../harness/cluster.js';
import { keysUnder, waitFor } from '../harness/context.js';
import { type RedisServer, removeDir, startRedis } from '../harness/redis-server.js';

let cluster: RedisClusterHarness;
let single: RedisServer;
let singleRaw: Redis;
beforeAll(async () => {
  [cluster, single] = await Promise.all([startRedisCluster(), startRedis()]);
  singleRaw = new Redis(single.url, { maxRetriesPerRequest: 1 });
});
afterAll(async () => {
  singleRaw?.disconnect();
  await cluster?.stop();
  await single?.stop();
  if (single) removeDir(single.dir);
});

const ran: string[] = [];
const Work = defineJob({
  className: 'Work',
  queue: 'a',
  perform: (_ctx, n: number) => void ran.push(`work:${n}`),
});
const Other = defineJob({
  className: 'Other',
  queue: 'b',
  perform: (_ctx, n: number) => void ran.push(`other:${n}`),
});
const Once = defineJob({
  className: 'Once',
  queue: 'a',
  unique: 'while-queued',
  perform: (_ctx, n: number) => void ran.push(`once:${n}`),
});
const Tracked = defineJob({ className: 'Tracked', queue: 'b', status: true, perform: () => 'done' });
const Broken = defineJob({
  className: 'Broken',
  queue: 'a',
  perform: () => {
    throw new Error('broken for good');
  },
});
/** Fails on the single Redis (its first attempt) and is retried in an hour: a pending retry to carry over. */
const Later = defineJob({
  className: 'Later',
  queue: 'a',
  attempts: 2,
  backoff: { type: 'fixed', delayMs: 3_600_000 },
  perform: () => {
    throw new Error('try again later');
  },
});
const JOBS = [Work, Other, Once, Tracked, Broken, Later];

async function migrate(args: string[]) {
  return resqueInProcess(['migrate-to-cluster', ...args], { env: {} });
}

/** The namespace's keys but the short-lived queue-index turn marker. */
async function lastingKeys(redis: Redis, namespace: string): Promise<string[]> {
  return (await keysUnder(redis, namespace)).filter((key) => !key.endsWith(':ts:queues:index-turn'));
}

async function clusterKeys(namespace: string): Promise<string[]> {
  return keysUnder(cluster.node(await cluster.ownerOf(namespace)), namespace);
}

describe('migrate-to-cluster', () => {
  it('copies every key of a filled namespace; a worker on the cluster runs every job and the reads match', {
    timeout: 90_000,
  }, async () => {
    const from = 'mig';
    const to = '{mig}';
    const source = new Admin({ redis: single.url, namespace: from, jobs: JOBS });
    // Failures, a pending retry and stats, made by a worker on the single Redis that is then stopped.
    await source.resque.enqueue(Broken);
    await source.resque.enqueue(Later);
    await source.resque.enqueue(Work, 0);
    const before = new Worker({
      redis: single.url,
      namespace: from,
      queues: ['a'],
      jobs: JOBS,
      isolation: 'none',
      logLevel: 'silent',
      setProcessTitle: false,
      intervalMs: 100,
    });
    await before.start();
    await waitFor(
      async () => (await source.counters()).processed >= 1 && (await source.retryCount()) === 1,
      15_000,
      'the first jobs on the single Redis',
    );
    await waitFor(async () => (await source.failures.page()).failures.length === 1, 15_000, 'the failure');
    await before.stop();
    expect(ran).toEqual(['work:0']);
    // What waits: queued jobs in two queues, a unique one (its lock), a tracked one (its status), delayed jobs.
    await source.resque.enqueueBulk(
      Work,
      Array.from({ length: 30 }, (_, i) => [i + 1]),
    );
    await source.resque.enqueueBulk(
      Other,
      Array.from({ length: 10 }, (_, i) => [i]),
    );
    const once = await source.resque.enqueue(Once, 1);
    expect(once?.duplicate).toBeFalsy();
    const tracked = await source.resque.enqueue(Tracked);
    await source.resque.enqueueIn(3_600_000, Work, 99);
    await source.resque.enqueueIn(7_200_000, Other, 99);

    const sourceReads = {
      info: { ...(await source.resque.info()), workers: 0, working: 0, servers: [] },
      counters: await source.counters(),
      failures: (await source.failures.page()).failures.map((f) => f.record.error),
      retries: await source.retryCount(),
      delayed: await source.resque.delayed.count(),
      sizes: await source.resque.queueSizes(),
      status: (await source.resque.status(tracked!.id!)).state,
    };
    // Every key but the enqueue's short-lived turn marker (a TTL of a few ms), which may expire before it is copied.
    const sourceKeys = await lastingKeys(singleRaw, from);
    await source.close();

    const dry = await migrate([
      '--from',
      single.url,
      '--from-namespace',
      from,
      '--to',
      cluster.url,
      '--dry-run',
    ]);
    expect(dry.stderr).toBe('');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(
      /^would copy \d+ keys from mig to \{mig\} \(\d+ hash, \d+ list, \d+ set, \d+ string, \d+ zset; \d+ with a TTL\)\n$/,
    );
    expect(await clusterKeys(to)).toEqual([]);

    const run = await migrate([
      '--from',
      single.url,
      '--from-namespace',
      from,
      '--to',
      cluster.url,
      '--json',
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as {
      keys: number;
      byType: Record<string, number>;
      withTtl: number;
    };
    const copiedKeys = (await clusterKeys(to)).filter((key) => !key.endsWith(':ts:queues:index-turn'));
    expect(report.keys - copiedKeys.length).toBeGreaterThanOrEqual(0);
    expect(report.keys - copiedKeys.length).toBeLessThanOrEqual(1);
    expect(Object.keys(report.byType).sort()).toEqual(
      expect.arrayContaining(['hash', 'list', 'set', 'string', 'zset']),
    );
    expect(report.withTtl).toBeGreaterThan(0); // the unique lock, the status record
    expect(copiedKeys).toEqual(sourceKeys.map((key) => `{mig}${key.slice(from.length)}`).sort());
    for (const key of await clusterKeys(to))
      expect(cluster.ownerOf(key)).resolves.toBe(await cluster.ownerOf(to));
    // The source is only read.
    expect(await lastingKeys(singleRaw, from)).toEqual(sourceKeys);

    const target = new Admin({ redis: cluster.url, namespace: to, jobs: JOBS });
    try {
      expect(
        {
          info: { ...(await target.resque.info()), workers: 0, working: 0, servers: [] },
          counters: await target.counters(),
          failures: (await target.failures.page()).failures.map((f) => f.record.error),
          retries: await target.retryCount(),
          delayed: await target.resque.delayed.count(),
          sizes: await target.resque.queueSizes(),
          status: (await target.resque.status(tracked!.id!)).state,
        },
        JSON.stringify(sourceReads),
      ).toEqual(sourceReads);
      // The unique lock came along: the same job is not queued twice.
      expect(await target.resque.enqueue(Once, 1)).toMatchObject({ duplicate: true, id: once!.id });

      ran.length = 0;
      const worker = new Worker({
        redis: cluster.url,
        namespace: to,
        queues: ['a', 'b'],
        jobs: JOBS,
        isolation: 'none',
        concurrency: 4,
        logLevel: 'silent',
        setProcessTitle: false,
        intervalMs: 100,
      });
      await worker.start();
      try {
        await waitFor(() => ran.length >= 41, 30_000, 'every queued job on the cluster');
        expect(await target.resque.waitFor(tracked!.id!, { timeoutMs: 15_000 })).toMatchObject({
          state: 'completed',
          result: 'done',
        });
      } finally {
        await worker.stop();
      }
      expect(ran.sort()).toEqual(
        [
          ...Array.from({ length: 30 }, (_, i) => `work:${i + 1}`),
          ...Array.from({ length: 10 }, (_, i) => `other:${i}`),
          'once:1',
        ].sort(),
      );
      expect(await target.resque.delayed.count()).toBe(2);
      expect(await target.retryCount()).toBe(1);
    } finally {
      await target.close();
    }
  });

  it('refuses bad input with a clear error and writes nothing', { timeout: 60_000 }, async () => {
    const from = 'bad';
    const to = '{bad}';
    const source = new Resque({ redis: single.url, namespace: from, jobs: JOBS });
    await source.enqueue(Work, 1);
    await source.close();
    const args = ['--from', single.url, '--from-namespace', from];

    const cases: Array<[string[], RegExp]> = [
      [['--from', cluster.url, '--to', cluster.url], /--from must be the single Redis/],
      [
        ['--from', `redis://127.0.0.1:${cluster.servers[0]!.port}`, '--to', cluster.url],
        /the source is a Redis Cluster node/,
      ],
      [[...args, '--to', single.url], /--to must be a cluster URL/],
      [[...args, '--to', `redis+cluster://127.0.0.1:${single.port}`], /not a cluster node/],
      [[...args, '--to', cluster.url, '--to-namespace', 'bad'], /hash tag.*use "\{bad\}" instead of "bad"/],
      [[...args], /--to is required/],
    ];
    for (const [argv, message] of cases) {
      const result = await migrate(argv);
      expect(result.stderr, argv.join(' ')).toMatch(message);
      expect(result.code, argv.join(' ')).toBe(2);
    }
    expect(await clusterKeys(to)).toEqual([]);

    // A registered worker on the source.
    await singleRaw.sadd(`${from}:workers`, 'host:1:a');
    const live = await migrate([...args, '--to', cluster.url]);
    expect(live.stderr).toMatch(/1 worker\(s\) are registered on the source .*stop them first/);
    expect(live.code).toBe(2);
    expect(await clusterKeys(to)).toEqual([]);
    await singleRaw.srem(`${from}:workers`, 'host:1:a');

    // A target namespace that is not empty; --force overwrites it.
    const stray = new Redis({ host: '127.0.0.1', port: await cluster.ownerOf(to) });
    await stray.set(`${to}:stray`, 'x');
    stray.disconnect();
    const full = await migrate([...args, '--to', cluster.url]);
    expect(full.stderr).toMatch(/the target namespace \{bad\} is not empty \(\{bad\}:stray…\).*--force/);
    expect(full.code).toBe(2);
    expect(await clusterKeys(to)).toEqual([`${to}:stray`]);
    const forced = await migrate([...args, '--to', cluster.url, '--force']);
    expect(forced.code, forced.stderr).toBe(0);
    expect(await clusterKeys(to)).toEqual(
      expect.arrayContaining([`${to}:queue:a`, `${to}:queues`, `${to}:stray`]),
    );
  });
});
