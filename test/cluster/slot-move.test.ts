// Moving the namespace's slot while clients and workers write to it (docs/cluster.md, Moving the slot), on a cluster of
// 3 primaries with one replica each:
// - a tracked durable enqueue (MULTI … EXEC, then WAIT) sent to the slot's old primary meets MOVED and is sent again:
//   it succeeds, and each job is pushed once with one status record;
// - while the slot's keys are moved one at a time (the slot MIGRATING on the old primary, IMPORTING on the new one),
//   calls meet ASK and TRYAGAIN: none of them reaches the caller as an error, no script stops part-way, and every job
//   of a mixed stream (plain, unique, tracked, all durable) runs exactly once;
// - what the slot guard prevents: a script that touches a key it does not declare, run by a plain Cluster client while
//   the slot is open, stops at that key ("non local key") after its first write; the one-slot client's call waits for
//   the move to end and runs whole;
// - a pipeline whose commands met different answers while the slot is open (one ran, a script call was refused): the
//   refused one is sent again once the move ends, the other is not run twice.
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Resque } from '../../src/client/resque.js';
import { defineJob } from '../../src/jobs/define.js';
import type { LogFields } from '../../src/logging/logger.js';
import { OneSlotCluster } from '../../src/redis/cluster.js';
import { Worker } from '../../src/worker/worker.js';
import { type RedisClusterHarness, startRedisCluster } from '../harness/cluster.js';
import { waitFor } from '../harness/context.js';

let cluster: RedisClusterHarness;
beforeAll(async () => {
  cluster = await startRedisCluster({ replicas: 1 });
});
afterAll(async () => {
  await cluster?.stop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Another primary than the one serving `namespace`'s slot. */
async function otherPrimary(namespace: string): Promise<number> {
  const from = await cluster.ownerOf(namespace);
  return (await cluster.primaryPorts()).find((port) => port !== from)!;
}

/** The namespace's keys on the node on `port` (SCAN of that node). */
async function keysOn(port: number, namespace: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await cluster.node(port).scan(cursor, 'MATCH', `${namespace}:*`, 'COUNT', 1000);
    found.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return found;
}

it('a tracked durable enqueue (MULTI) that meets MOVED is sent again and runs once', {
  timeout: 60_000,
}, async () => {
  const NS = '{multi-moved}';
  const Tracked = defineJob({
    className: 'Tracked',
    queue: 'q',
    status: true,
    perform: (_ctx, _n: number) => {},
  });
  const resque = new Resque({ redis: cluster.url, namespace: NS, jobs: [Tracked], waitForReplicas: 1 });
  try {
    await resque.enqueue(Tracked, 0);
    // The client's slot map still names the old primary: each MULTI goes there first and meets MOVED.
    await cluster.moveSlotOf(NS, await otherPrimary(NS));
    const enqueued = await Promise.all(Array.from({ length: 8 }, (_, i) => resque.enqueue(Tracked, i + 1)));
    expect(await resque.size('q')).toBe(9);
    for (const job of enqueued) expect((await resque.status(job!.id!))?.state).toBe('queued');
    const args = (await resque.peek('q', 0, 9)).map((job) => job.payload?.args[0]);
    expect(args.sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  } finally {
    await resque.close();
  }
});

it('while the slot moves key by key, no call fails, no script stops part-way, every job runs once', {
  timeout: 120_000,
}, async () => {
  const NS = '{slot-move-load}';
  const runs = new Map<number, number>();
  const record = async (n: number) => {
    runs.set(n, (runs.get(n) ?? 0) + 1);
    await sleep(2);
  };
  const Plain = defineJob({ className: 'Plain', queue: 'q', perform: (_ctx, n: number) => record(n) });
  const Tracked = defineJob({
    className: 'Tracked',
    queue: 'q',
    status: true,
    perform: (_ctx, n: number) => record(n),
  });
  const Unique = defineJob({
    className: 'Unique',
    queue: 'q',
    unique: 'while-queued',
    perform: (_ctx, n: number) => record(n),
  });
  const jobs = [Plain, Tracked, Unique];
  const resque = new Resque({ redis: cluster.url, namespace: NS, jobs, waitForReplicas: 1 });
  const warnings: string[] = [];
  const note = (message: string, fields?: LogFields) =>
    warnings.push(`${message} ${JSON.stringify(fields ?? {})}`);
  const worker = new Worker({
    redis: cluster.url,
    namespace: NS,
    queues: ['q'],
    jobs,
    isolation: 'none',
    concurrency: 4,
    logger: { error: note, warn: note, info: () => {}, debug: () => {} },
    setProcessTitle: false,
    intervalMs: 100,
  });
  const failedEnqueues: string[] = [];
  let next = 0;
  let producing = true;
  const produce = async (job: typeof Plain) => {
    while (producing) {
      const n = ++next;
      try {
        await resque.enqueue(job, n);
      } catch (error) {
        failedEnqueues.push(`${job.className} ${n}: ${(error as Error).message}`);
      }
    }
  };
  try {
    await worker.start();
    const producers = jobs.map((job) => produce(job as unknown as typeof Plain));
    await waitFor(() => runs.size > 300 || undefined, 30_000, 'the first jobs');
    const from = await cluster.ownerOf(NS);
    const to = await otherPrimary(NS);
    const move = (await cluster.openMove(NS, to))!;
    // One key per MIGRATE, with pauses: the slot stays open (MIGRATING/IMPORTING) for a few seconds under load.
    let moved = 0;
    const openAt = Date.now();
    while (Date.now() - openAt < 3000) {
      moved += await move.migrate(1);
      await sleep(5);
    }
    const enqueuedWhileOpen = next;
    await move.finish();
    await sleep(500);
    producing = false;
    await Promise.all(producers);
    const total = next;
    await waitFor(() => runs.size === total || undefined, 60_000, `${total} jobs (${runs.size} ran)`);

    const context = JSON.stringify({
      failedEnqueues: failedEnqueues.slice(0, 5),
      warnings: warnings.slice(0, 5),
    });
    expect(moved, context).toBeGreaterThan(20);
    expect(enqueuedWhileOpen, context).toBeGreaterThan(300);
    expect(failedEnqueues, context).toEqual([]);
    // The worker's calls were refused and sent again, never failed: no reservation, acknowledgement or status write
    // met an error (the start-up safety check's warning about persistence aside).
    expect(
      warnings.filter((line) => !line.includes('persists nothing')),
      context,
    ).toEqual([]);
    expect([...runs].filter(([, count]) => count > 1)).toEqual([]);
    expect(await resque.size('q')).toBe(0);
    expect(await keysOn(from, NS)).toEqual([]);
  } finally {
    producing = false;
    await worker.stop();
    await resque.close();
  }
});

it('the slot guard: a script call waits for the move to end instead of stopping at an undeclared key', {
  timeout: 60_000,
}, async () => {
  const NS = '{slot-guard}';
  const nodes = cluster.servers.map((s) => ({ host: '127.0.0.1', port: s.port }));
  const plain = new Cluster(nodes, { redisOptions: { maxRetriesPerRequest: 1 } });
  const oneSlot = new OneSlotCluster(nodes, { redisOptions: { maxRetriesPerRequest: 1 } }, NS);
  for (const client of [plain, oneSlot]) client.on('error', () => {});
  // Declares KEYS[1]; writes it, then a key built from ARGV[1] (undeclared, as many of resque-ts's scripts do).
  const script = "redis.call('INCR', KEYS[1]); redis.call('SET', ARGV[1], 'x'); return 1";
  try {
    await plain.set(`${NS}:declared`, '0');
    await plain.set(`${NS}:moved-early`, '0');
    const from = cluster.node(await cluster.ownerOf(NS));
    const move = (await cluster.openMove(NS, await otherPrimary(NS)))!;
    // Only `moved-early` moves: the undeclared key the script writes is missing on the old node.
    await move.migrateKeys([`${NS}:moved-early`]);

    await expect(plain.eval(script, 1, `${NS}:declared`, `${NS}:moved-early`)).rejects.toThrow(
      /non local key/,
    );
    // The plain client's call stopped after its first write: the INCR stayed.
    expect(await from.get(`${NS}:declared`)).toBe('1');

    const guarded = oneSlot.eval(script, 1, `${NS}:declared`, `${NS}:moved-early`);
    await sleep(500);
    let settled = false;
    void guarded.then(() => {
      settled = true;
    });
    await sleep(100);
    expect(settled).toBe(false);
    await move.finish();
    expect(await guarded).toBe(1);
    expect(await oneSlot.get(`${NS}:declared`)).toBe('2');
    expect(await oneSlot.get(`${NS}:moved-early`)).toBe('x');
  } finally {
    plain.disconnect();
    oneSlot.disconnect();
  }
});

it('a pipeline whose commands met different answers: the refused ones are sent again, the others ran once', {
  timeout: 60_000,
}, async () => {
  const NS = '{pipeline-split}';
  const nodes = cluster.servers.map((s) => ({ host: '127.0.0.1', port: s.port }));
  const client = new OneSlotCluster(nodes, { redisOptions: { maxRetriesPerRequest: 1 } }, NS);
  client.on('error', () => {});
  try {
    await client.set(`${NS}:stays`, '0');
    await client.set(`${NS}:script-ran`, '0');
    const move = (await cluster.openMove(NS, await otherPrimary(NS)))!;
    // While the slot is open: the INCR of a key still on the old primary runs there; the script call is refused
    // (the slot guard) until the move ends.
    const results = client
      .pipeline()
      .incr(`${NS}:stays`)
      .eval("return redis.call('INCR', KEYS[1])", 1, `${NS}:script-ran`)
      .exec();
    await sleep(300);
    await move.finish();
    expect(await results).toEqual([
      [null, 1],
      [null, 1],
    ]);
    expect(await client.get(`${NS}:stays`)).toBe('1');
    expect(await client.get(`${NS}:script-ran`)).toBe('1');
  } finally {
    client.disconnect();
  }
});
