// One-slot cluster mode on a real 3-primary Redis Cluster: a tagged namespace keeps every key in one slot, and the
// client, workers (in-process and supervised), failures and retries, delayed jobs, limits and the dashboard's reads
// all work there, including while the slot moves to another primary.
import { fileURLToPath } from 'node:url';
import calculateSlot from 'cluster-key-slot';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Admin } from '../../src/api/admin.js';
import { Resque } from '../../src/client/resque.js';
import { resolveConfig } from '../../src/config/resolve.js';
import { ConfigError } from '../../src/errors/index.js';
import { defineJob } from '../../src/jobs/define.js';
import type { AnyJob } from '../../src/jobs/registry.js';
import { JobRegistry } from '../../src/jobs/registry.js';
import { createLogger } from '../../src/logging/logger.js';
import { Keys } from '../../src/protocol/keys.js';
import { openRedis } from '../../src/redis/connection.js';
import { Scheduler } from '../../src/scheduler/scheduler.js';
import { Worker, type WorkerOptions } from '../../src/worker/worker.js';
import { type RedisClusterHarness, startRedisCluster } from '../harness/cluster.js';
import { waitFor } from '../harness/context.js';
import { spawnWorker, type WorkerProcess } from '../harness/processes.js';
import { serve } from '../web/client.js';

let cluster: RedisClusterHarness;
beforeAll(async () => {
  cluster = await startRedisCluster();
});
afterAll(async () => {
  await cluster?.stop();
});

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close().catch(() => {});
});

let counter = 0;
/** A fresh tagged namespace: `{cluster-<n>-<random>}`, every key of which hashes to one slot. */
function taggedNamespace(): string {
  counter += 1;
  return `{cluster-${counter}-${Math.random().toString(36).slice(2, 8)}}`;
}

function client(namespace: string, jobs: AnyJob[] = []): Resque {
  const resque = new Resque({ redis: cluster.url, namespace, jobs });
  closers.push(() => resque.close());
  return resque;
}

async function startWorker(namespace: string, jobs: AnyJob[], options: Partial<WorkerOptions> = {}) {
  const worker = new Worker({
    redis: cluster.url,
    namespace,
    queues: ['q'],
    jobs,
    isolation: 'none',
    logLevel: 'silent',
    setProcessTitle: false,
    intervalMs: 100,
    ...options,
  });
  closers.push(() => worker.stop());
  await worker.start();
  return worker;
}

/** Every key of the namespace, read with SCAN on the primary that owns its slot (independent of the code under test). */
async function keysOf(namespace: string): Promise<string[]> {
  return keysOn(await cluster.ownerOf(namespace), namespace);
}

/** The namespace's keys held by the node on `port`. */
async function keysOn(port: number, namespace: string): Promise<string[]> {
  const owner = cluster.node(port);
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await owner.scan(
      cursor,
      'MATCH',
      `${namespace.replace(/[{}[\]*?]/g, '\\$&')}:*`,
      'COUNT',
      1000,
    );
    cursor = next;
    found.push(...batch);
  } while (cursor !== '0');
  return found.sort();
}

function recorder(className = 'Work') {
  const ran: number[] = [];
  const Job = defineJob({ className, queue: 'q', perform: (_ctx, n: number) => void ran.push(n) });
  return { Job, ran };
}

describe('configuration', () => {
  it('refuses a namespace without a hash tag in cluster mode, naming the fix', () => {
    expect(() => new Resque({ redis: cluster.url, namespace: 'resque' })).toThrow(ConfigError);
    expect(() => new Resque({ redis: cluster.url, namespace: 'resque' })).toThrow(/"\{resque\}"/);
    expect(() => new Resque({ redis: cluster.url, namespace: 'app:{}' })).toThrow(/hash tag/);
    expect(() => new Resque({ redis: cluster.url })).toThrow(/hash tag/);
  });

  it('refuses a malformed cluster URL', () => {
    expect(() => new Resque({ redis: 'redis+cluster://127.0.0.1:notaport', namespace: '{x}' })).toThrow(
      ConfigError,
    );
  });

  it('takes `cluster: true` with a plain URL naming one node', async () => {
    const namespace = taggedNamespace();
    const { Job } = recorder();
    const resque = new Resque({
      redis: `redis://127.0.0.1:${cluster.servers[1]!.port}`,
      cluster: true,
      namespace,
    });
    closers.push(() => resque.close());
    await resque.enqueue(Job, 1);
    expect(await resque.size('q')).toBe(1);
  });
});

describe('the client', () => {
  it('enqueues, bulk-enqueues, peeks, lists and dequeues, every key in the namespace slot', async () => {
    const namespace = taggedNamespace();
    const { Job } = recorder();
    const resque = client(namespace, [Job]);
    await resque.enqueue(Job, 1);
    await resque.enqueueBulk(
      Job,
      Array.from({ length: 50 }, (_, i) => [i + 2]),
    );
    await resque.enqueueTo('other', Job, 99);
    expect(await resque.size('q')).toBe(51);
    expect(await resque.queues()).toEqual(['other', 'q']);
    expect(await resque.queueSizes()).toEqual({ other: 1, q: 51 });
    expect((await resque.peek('q', 0, 2)).map((job) => job.payload?.args)).toEqual([[1], [2]]);
    expect(await resque.dequeue(Job, 2)).toBe(1);
    expect(await resque.size('q')).toBe(50);

    const keys = await keysOf(namespace);
    expect(keys).toContain(`${namespace}:queue:q`);
    const expected = calculateSlot(namespace);
    const node = cluster.node(await cluster.ownerOf(namespace));
    for (const key of keys) expect(Number(await node.call('CLUSTER', 'KEYSLOT', key))).toBe(expected);
  });
});

describe('workers', () => {
  it('an in-process worker drains the queue', async () => {
    const namespace = taggedNamespace();
    const { Job, ran } = recorder();
    const resque = client(namespace, [Job]);
    await resque.enqueueBulk(
      Job,
      Array.from({ length: 100 }, (_, i) => [i]),
    );
    await startWorker(namespace, [Job], { concurrency: 5 });
    await waitFor(() => ran.length >= 100, 30_000, '100 jobs');
    expect([...ran].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    await waitFor(async () => (await resque.info()).processed === 100, 10_000, 'the processed count');
    const info = await resque.info();
    expect(info).toMatchObject({ pending: 0, processed: 100, failed: 0 });
  });

  it('records a failure, and a retry from the failure store runs the job again', async () => {
    const namespace = taggedNamespace();
    let attempts = 0;
    const Flaky = defineJob({
      className: 'Flaky',
      queue: 'q',
      perform: () => {
        attempts += 1;
        if (attempts === 1) throw new Error('first time fails');
      },
    });
    const admin = new Admin({ redis: cluster.url, namespace, jobs: [Flaky] });
    closers.push(() => admin.close());
    await admin.resque.enqueue(Flaky);
    await startWorker(namespace, [Flaky]);
    const failure = await waitFor(
      async () => (await admin.failures.page()).failures[0],
      15_000,
      'the failure',
    );
    expect(failure.record.error).toBe('first time fails');
    await admin.failures.retry(failure.id);
    await waitFor(() => attempts === 2, 15_000, 'the retried run');
    expect((await admin.counters()).failed).toBe(1);
  });

  it('promotes a delayed job when it is due', async () => {
    const namespace = taggedNamespace();
    const { Job, ran } = recorder();
    const resque = client(namespace, [Job]);
    const scheduled = await resque.enqueueIn(500, Job, 7);
    expect(scheduled).not.toBeNull();
    expect(await resque.delayed.count()).toBe(1);
    await startWorker(namespace, [Job]);
    await waitFor(() => ran.includes(7), 15_000, 'the delayed job');
    expect(await resque.delayed.count()).toBe(0);
  });

  it('the scheduler takes the master lock and fires a recurring job', async () => {
    const namespace = taggedNamespace();
    const { Job } = recorder();
    const redis = openRedis(resolveConfig({ redis: cluster.url, namespace }, {}), 'worker');
    closers.push(async () => redis.disconnect());
    const scheduler = new Scheduler({
      redis,
      keys: new Keys(namespace),
      logger: createLogger('silent'),
      jobs: new JobRegistry([Job]),
      schedules: [['every-minute', { cron: '* * * * *', class: 'Work', queue: 'q', args: [1] }]],
    });
    closers.push(() => scheduler.stop());
    const minute = Date.UTC(2026, 0, 1, 12, 0);
    expect((await scheduler.pass(minute - 1000)).master).toBe(true);
    const fired = await scheduler.pass(minute);
    expect(fired.fired.map((f) => f.name)).toEqual(['every-minute']);
    const resque = client(namespace, [Job]);
    expect((await resque.peek('q')).map((job) => job.payload?.args)).toEqual([[1]]);
    expect(await keysOf(namespace)).toContain(`${namespace}:${namespace}:resque_scheduler_master_lock`);
  });

  it('keeps a concurrency limit', async () => {
    const namespace = taggedNamespace();
    let running = 0;
    let most = 0;
    let done = 0;
    const Limited = defineJob({
      className: 'Limited',
      queue: 'q',
      concurrency: { limit: 1 },
      perform: async () => {
        running += 1;
        most = Math.max(most, running);
        await new Promise((r) => setTimeout(r, 20));
        running -= 1;
        done += 1;
      },
    });
    const resque = client(namespace, [Limited]);
    await resque.enqueueBulk(
      Limited,
      Array.from({ length: 8 }, () => []),
    );
    await startWorker(namespace, [Limited], { concurrency: 4 });
    await waitFor(() => done === 8, 30_000, 'the limited jobs');
    expect(most).toBe(1);
    // The last job's token is released by the acknowledgement its worker sends after perform returns.
    const usage = async () => JSON.stringify(await resque.limitUsage('class:Limited'));
    await waitFor(async () => (await usage()) === '{"running":0,"parked":0}', 10_000, 'the last token').catch(
      async (error: Error) => {
        throw new Error(`${error.message}: ${await usage()}`);
      },
    );
  });

  it('a supervised worker (resque work) drains the queue', async () => {
    const namespace = taggedNamespace();
    const Noop = defineJob({ className: 'Noop', queue: 'q', perform: () => {} });
    const resque = client(namespace, [Noop]);
    await resque.enqueueBulk(
      Noop,
      Array.from({ length: 20 }, () => []),
    );
    const worker: WorkerProcess = spawnWorker(
      {
        REDIS_URL: cluster.url,
        RESQUE_NAMESPACE: namespace,
        RESQUE_ISOLATION: 'process',
        COUNT: '1',
        QUEUES: 'q',
        INTERVAL: '0.2',
      },
      ['--require', fileURLToPath(new URL('../fixtures/cluster-jobs.mjs', import.meta.url))],
    );
    closers.push(async () => {
      worker.signal('SIGTERM');
      await worker.exited;
    });
    await waitFor(async () => (await resque.info()).processed === 20, 90_000, `20 jobs (${worker.output()})`);
    expect(await resque.size('q')).toBe(0);
  });
});

describe('pub/sub', () => {
  it("waitFor hears a tracked job's end, and a running job is cancelled through the cancel channel", async () => {
    const namespace = taggedNamespace();
    let started = false;
    let aborted = false;
    const Tracked = defineJob({ className: 'Tracked', queue: 'q', status: true, perform: () => 42 });
    const Long = defineJob({
      className: 'Long',
      queue: 'q',
      perform: (ctx) =>
        new Promise((_resolve, reject) => {
          started = true;
          ctx.signal.addEventListener('abort', () => {
            aborted = true;
            reject(ctx.signal.reason);
          });
        }),
    });
    const resque = client(namespace, [Tracked, Long]);
    await startWorker(namespace, [Tracked, Long], { concurrency: 2 });
    const tracked = await resque.enqueue(Tracked);
    const done = await resque.waitFor(tracked!.id!, { timeoutMs: 15_000 });
    expect(done).toMatchObject({ state: 'completed', result: 42 });

    const long = await resque.enqueue(Long);
    await waitFor(() => started, 15_000, 'the long job');
    expect((await resque.cancel(long!.id!)).was).toBe('running');
    await waitFor(() => aborted, 15_000, 'the cancel request to reach the job');
  });
});

describe('the reaper', () => {
  it('gives back the job of a worker killed with SIGKILL, and another worker runs it', async () => {
    const namespace = taggedNamespace();
    const ran: number[] = [];
    const Sleepy = defineJob({
      className: 'Sleepy',
      queue: 'q',
      perform: (_ctx, n: number) => void ran.push(n),
    });
    const admin = new Admin({ redis: cluster.url, namespace, jobs: [Sleepy] });
    closers.push(() => admin.close());
    const doomed = spawnWorker(
      {
        REDIS_URL: cluster.url,
        RESQUE_NAMESPACE: namespace,
        RESQUE_ISOLATION: 'none',
        QUEUES: 'q',
        INTERVAL: '0.2',
        RESQUE_LIVENESS_INTERVAL: '0.2',
      },
      ['--require', fileURLToPath(new URL('../fixtures/cluster-jobs.mjs', import.meta.url))],
    );
    closers.push(async () => {
      doomed.signal('SIGKILL');
      await doomed.exited;
    });
    await admin.resque.enqueue(Sleepy, 5);
    await waitFor(
      async () => (await admin.workers()).some((w) => w.job !== undefined),
      60_000,
      `the job running in ${doomed.pid} (${doomed.output()})`,
    );
    doomed.signal('SIGKILL');
    await doomed.exited;
    await startWorker(namespace, [Sleepy], {
      livenessIntervalMs: 200,
      livenessTimeoutMs: 1000,
      reaperIntervalMs: 200,
    });
    await waitFor(() => ran.includes(5), 30_000, 'the given-back job');
    expect(await admin.resque.size('q')).toBe(0);
  });
});

describe('the dashboard reads', () => {
  it('lists queues, workers, counters, keys and the Redis info of the slot primary', async () => {
    const namespace = taggedNamespace();
    const { Job, ran } = recorder();
    const admin = new Admin({ redis: cluster.url, namespace, jobs: [Job] });
    closers.push(() => admin.close());
    await admin.resque.enqueue(Job, 1);
    const worker = await startWorker(namespace, [Job]);
    await waitFor(() => ran.length === 1);
    await admin.resque.enqueueTo('waiting', Job, 2);

    expect((await admin.queues()).map((queue) => [queue.name, queue.size])).toEqual([
      ['q', 0],
      ['waiting', 1],
    ]);
    expect((await admin.workers()).map((w) => w.id)).toContain(worker.id);
    expect(await admin.counters()).toEqual({ processed: 1, failed: 0 });
    const page = await admin.scanKeys('0', 1000);
    expect(page.keys.map((key) => key.name)).toContain('queue:waiting');
    const sections = await admin.redisInfo();
    const server = sections.find((section) => section.name.toLowerCase() === 'server');
    expect(server?.entries.find(([name]) => name === 'tcp_port')?.[1]).toBe(
      String(await cluster.ownerOf(namespace)),
    );
    expect((await admin.info()).servers[0]).toBe(`${cluster.url}/${namespace}`);
  });
});

describe('the dashboard over HTTP', () => {
  it('serves its pages and JSON API from the cluster', async () => {
    const namespace = taggedNamespace();
    const { Job } = recorder();
    const resque = client(namespace, [Job]);
    await resque.enqueueBulk(
      Job,
      Array.from({ length: 3 }, (_, i) => [i]),
    );
    const served = await serve({ redis: cluster.url, namespace });
    closers.push(() => served.close());
    const queues = await served.client.get('/api/queues');
    expect(queues.status).toBe(200);
    expect(queues.json<{ queues: { name: string; size: number }[] }>().queues).toMatchObject([
      { name: 'q', size: 3 },
    ]);
    expect((await served.client.get('/api/overview')).status).toBe(200);
    const pages = [
      '/overview',
      '/queues/q',
      '/workers',
      '/failed',
      '/delayed',
      '/stats/resque',
      '/stats/keys',
      '/stats/redis',
    ];
    for (const page of pages) expect((await served.client.get(page)).status, page).toBe(200);
  });
});

describe('moving the slot', () => {
  it('workers follow the MOVED redirection while they run, and no job is lost', async () => {
    const namespace = taggedNamespace();
    const ran: number[] = [];
    const Job = defineJob({
      className: 'Work',
      queue: 'q',
      perform: async (_ctx, n: number) => {
        await new Promise((r) => setTimeout(r, 5));
        ran.push(n);
      },
    });
    const resque = client(namespace, [Job]);
    const total = 600;
    await startWorker(namespace, [Job], { concurrency: 4 });
    await startWorker(namespace, [Job], { concurrency: 4 });
    await resque.enqueueBulk(
      Job,
      Array.from({ length: total / 2 }, (_, i) => [i]),
    );
    await waitFor(() => ran.length > 20, 15_000, 'the first jobs');
    const from = await cluster.ownerOf(namespace);
    const to = cluster.servers.map((s) => s.port).find((port) => port !== from)!;
    await cluster.moveSlotOf(namespace, to);
    const ranWhenMoved = ran.length;
    expect(await cluster.ownerOf(namespace)).toBe(to);
    await resque.enqueueBulk(
      Job,
      Array.from({ length: total / 2 }, (_, i) => [total / 2 + i]),
    );
    await waitFor(() => new Set(ran).size === total, 60_000, `${total} jobs (${new Set(ran).size} ran)`);
    // The slot moved while jobs of the first batch were still waiting or running.
    expect(ranWhenMoved).toBeLessThan(total / 2);
    expect(await resque.size('q')).toBe(0);
    expect(await keysOf(namespace)).toContain(`${namespace}:queues`);
    expect(await keysOn(from, namespace)).toEqual([]);
  });
});
