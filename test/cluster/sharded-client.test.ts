// The sharded client on a real 3-primary Redis Cluster: the jobs of three queues on three shards land on three
// different primaries (asked of the nodes: CLUSTER KEYSLOT, CLUSTER COUNTKEYSINSLOT), each shard's keyless commands
// reach its own primary, merged reads see every primary, and a job is found, waited for and cancelled by id.
import calculateSlot from 'cluster-key-slot';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ClientOptions, Resque } from '../../src/client/resque.js';
import { defineJob } from '../../src/jobs/define.js';
import { Keys } from '../../src/protocol/keys.js';
import type { ShardLayout } from '../../src/protocol/shard-layout.js';
import { Worker } from '../../src/worker/worker.js';
import { type RedisClusterHarness, startRedisCluster } from '../harness/cluster.js';

let cluster: RedisClusterHarness;
beforeAll(async () => {
  cluster = await startRedisCluster({ replicas: 1 });
});
afterAll(async () => {
  await cluster?.stop();
});

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close().catch(() => {});
});

let counter = 0;
function sharded(jobs: ReturnType<typeof defineJob>[] = [], options: Partial<ClientOptions> = {}): Resque {
  counter += 1;
  const resque = new Resque({
    redis: cluster.url,
    namespace: `sharded-${counter}`,
    shards: 3,
    jobs,
    ...options,
  });
  closers.push(() => resque.close());
  return resque;
}

/** The first queue named `q<n>` on each shard, by index. */
function queuesPerShard(layout: ShardLayout): string[] {
  const found: string[] = [];
  for (let n = 0; found.filter(Boolean).length < layout.count; n++) {
    const shard = layout.shardOf(`q${n}`);
    if (!found[shard]) found[shard] = `q${n}`;
  }
  return found;
}

/** How many times each primary ran WAIT (INFO commandstats). */
async function waitCalls(ports: readonly number[]): Promise<number[]> {
  return Promise.all(
    ports.map(async (port) => {
      const stats = await cluster.node(port).info('commandstats');
      return Number(/cmdstat_wait:calls=(\d+)/.exec(stats)?.[1] ?? 0);
    }),
  );
}

const Doubled = defineJob({
  className: 'Doubled',
  queue: 'doubled',
  status: true,
  perform: (_ctx, n: number) => n * 2,
});

describe('a sharded client on a 3-primary cluster', () => {
  it('puts the jobs of three queues on three shards on three different primaries', async () => {
    const resque = sharded();
    const layout = resque.layout!;
    const queues = queuesPerShard(layout);
    for (const [shard, queue] of queues.entries())
      await resque.enqueueBulk(
        'Plain',
        Array.from({ length: shard + 1 }, (_, i) => [i]),
        { queue: queue! },
      );
    const owners: number[] = [];
    for (const [shard, queue] of queues.entries()) {
      const key = new Keys(layout.namespaces[shard]!).queue(queue!);
      const owner = await cluster.ownerOf(key);
      owners.push(owner);
      const node = cluster.node(owner);
      const slot = Number(await node.call('CLUSTER', 'KEYSLOT', key));
      expect(slot).toBe(calculateSlot(layout.namespaces[shard]!));
      expect(Number(await node.call('CLUSTER', 'COUNTKEYSINSLOT', slot))).toBeGreaterThanOrEqual(2);
      expect(await node.llen(key)).toBe(shard + 1);
    }
    expect(new Set(owners).size).toBe(3);
    expect(await resque.queueSizes()).toEqual(
      Object.fromEntries([...queues].sort().map((q) => [q, queues.indexOf(q) + 1])),
    );
    expect(await resque.info()).toMatchObject({ pending: 6, queues: 3 });
  });

  it('sends each shard’s keyless commands to the primary serving its slot', async () => {
    const resque = sharded();
    const layout = resque.layout!;
    for (const [shard, namespace] of layout.namespaces.entries()) {
      const reply = String(await resque.shard(shard).redis.call('CLIENT', 'INFO'));
      const port = Number(/laddr=[^:\s]+:(\d+)/.exec(reply)![1]);
      expect(port, `shard ${shard}`).toBe(await cluster.ownerOf(`${namespace}:x`));
    }
  });

  it('makes a durable enqueue wait on the replicas of the primary that took it, per shard', async () => {
    const resque = sharded([], { waitForReplicas: 1, replicaTimeoutMs: 5000 });
    const layout = resque.layout!;
    const queues = queuesPerShard(layout);
    const owners = await Promise.all(layout.namespaces.map((namespace) => cluster.ownerOf(`${namespace}:x`)));
    expect(new Set(owners).size).toBe(3);
    for (const queue of queues) await resque.enqueueTo(queue!, 'Plain'); // warm up: scripts loaded
    const before = await waitCalls(owners);
    for (const queue of queues) await resque.enqueueTo(queue!, 'Plain');
    const after = await waitCalls(owners);
    expect(after.map((n, i) => n - before[i]!)).toEqual([1, 1, 1]);
    expect(await resque.queueSizes()).toEqual(Object.fromEntries([...queues].sort().map((q) => [q, 2])));
  });

  it('finds, waits for and cancels a job on shard 2 by its id', async () => {
    const resque = sharded([Doubled]);
    const layout = resque.layout!;
    const queue = queuesPerShard(layout)[2]!;
    const cancelled = await resque.enqueueTo(queue, Doubled, 1);
    expect(await resque.status(cancelled!.id!)).toMatchObject({ state: 'queued', queue });
    expect(await resque.cancel(cancelled!.id!)).toEqual({ id: cancelled!.id, was: 'queued' });
    const run = await resque.enqueueTo(queue, Doubled, 21);
    const waited = resque.waitFor(run!.id!, { timeoutMs: 20_000 });
    const worker = new Worker({
      redis: cluster.url,
      namespace: layout.namespaces[2]!,
      queues: [queue],
      jobs: [Doubled],
      isolation: 'none',
      logLevel: 'silent',
      setProcessTitle: false,
      intervalMs: 50,
    });
    closers.push(() => worker.stop());
    await worker.start();
    expect(await waited).toMatchObject({ state: 'completed', result: 42 });
    expect(await resque.status(cancelled!.id!)).toMatchObject({ state: 'cancelled' });
  });

  it('opens one one-slot cluster client per shard (its connections counted on the nodes)', async () => {
    const name = `sharded-conn-${counter}`;
    // Start-up nodes naming the primaries only: ioredis opens a READONLY connection to a start-up node it then finds
    // to be a replica, which the harness's URL (every node) would add to the count.
    const primaries = cluster.servers.slice(0, 3).map((server) => `127.0.0.1:${server.port}`);
    const resque = sharded([], {
      redis: `redis+cluster://${primaries.join(',')}`,
      cluster: { redisOptions: { connectionName: name } },
    });
    const queues = queuesPerShard(resque.layout!);
    for (const queue of queues) await resque.enqueueTo(queue, 'Plain');
    await resque.queueSizes();
    await resque.info();
    const perNode = await Promise.all(
      cluster.servers.map(async (server) => {
        const list = String(await cluster.node(server.port).call('CLIENT', 'LIST'));
        return list.split('\n').filter((line) => line.includes(` name=${name} `)).length;
      }),
    );
    // One connection per shard, to the primary serving its slot (each shard on its own primary here); none to the
    // replicas.
    expect(perNode).toEqual([1, 1, 1, 0, 0, 0]);
  });
});
