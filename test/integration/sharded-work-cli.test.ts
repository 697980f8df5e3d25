// `resque work --shards 3`: one process working every shard, supervised or not; its signals reach every shard's
// part; killed with -9, the reapers of a peer give every shard's jobs back.
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/resolve.js';
import { shardLayoutOf } from '../../src/config/shards.js';
import { Resque } from '../../src/index.js';
import type { ShardLayout } from '../../src/protocol/shard-layout.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace, waitFor } from '../harness/context.js';
import { spawnWorker, type WorkerProcess } from '../harness/processes.js';

const FAST_REAPER = {
  RESQUE_HEARTBEAT_INTERVAL: '0.2',
  RESQUE_PRUNE_INTERVAL: '1',
  RESQUE_REAPER_INTERVAL: '0.3',
};

let redis: Redis;
const spawned: WorkerProcess[] = [];
const clients: Resque[] = [];
beforeAll(() => {
  redis = rawRedis();
});
afterAll(() => redis.disconnect());
afterEach(async () => {
  for (const w of spawned.splice(0)) w.child.kill('SIGKILL');
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

function start(namespace: string, env: Record<string, string> = {}, args: string[] = []): WorkerProcess {
  const worker = spawnWorker(
    { REDIS_URL: sharedRedisUrl(), RESQUE_NAMESPACE: namespace, QUEUES: '*', INTERVAL: '0.2', ...env },
    ['--shards', '3', ...args],
  );
  spawned.push(worker);
  return worker;
}

function layoutOf(namespace: string): ShardLayout {
  return shardLayoutOf(resolveConfig({ redis: sharedRedisUrl(), namespace, shards: 3 }, {}))!;
}

/** One queue per shard, each with a plain client of that shard's namespace. */
function shardQueues(layout: ShardLayout): Array<{ queue: string; client: Resque; namespace: string }> {
  return layout.namespaces.map((namespace, shard) => {
    let n = 0;
    while (layout.shardOf(`q${n}`) !== shard) n++;
    const client = new Resque({ redis: sharedRedisUrl(), namespace });
    clients.push(client);
    return { queue: `q${n}`, client, namespace };
  });
}

/** Waits until the worker's parts are registered on every shard. */
async function registeredEverywhere(layout: ShardLayout, worker: WorkerProcess): Promise<void> {
  await waitFor(
    async () => {
      for (const ns of layout.namespaces)
        if (!(await redis.smembers(`${ns}:workers`)).some((id) => id.includes(`:${worker.pid}:`)))
          return false;
      return true;
    },
    20_000,
    'registration on every shard',
  );
}

const ledgerCount = (namespace: string, n: number) => redis.hlen(`${namespace}:test:ledger:${n}`);
const startedCount = (namespace: string) => redis.hlen(`${namespace}:test:started`);

describe('resque work --shards 3', () => {
  it('supervised: performs the jobs of every shard; QUIT finishes and unregisters everywhere', async () => {
    const namespace = uniqueNamespace('shcli');
    const layout = layoutOf(namespace);
    const shards = shardQueues(layout);
    const worker = start(namespace, { CONCURRENCY: '2' });
    await registeredEverywhere(layout, worker);
    expect(worker.output()).toMatch(/namespace "[^"]+" in 3 shards; working shards 0 \{[^}]+\} \(\*\)/);
    for (const [shard, { queue, client }] of shards.entries())
      for (const k of [0, 1]) await client.enqueueTo(queue, 'Record', shard * 10 + k);
    await waitFor(
      async () => {
        for (const shard of [0, 1, 2])
          for (const k of [0, 1]) if ((await ledgerCount(namespace, shard * 10 + k)) !== 1) return false;
        return true;
      },
      20_000,
      'six jobs',
    );
    // Supervised: each shard's part runs its own children, shown in its stats hash on that shard.
    for (const ns of layout.namespaces) {
      await waitFor(
        async () => {
          const [stats] = await redis.keys(`${ns}:ts:worker-stats:*`);
          return stats !== undefined && (await redis.hget(stats, 'child:0')) !== null;
        },
        10_000,
        `the children of the part on ${ns}`,
      );
    }
    worker.signal('SIGQUIT');
    expect(await worker.exited).toEqual({ code: 0, signal: null });
    for (const ns of layout.namespaces) expect(await redis.smembers(`${ns}:workers`)).toEqual([]);
  });

  it('TERM gives the running job of each shard back to its queue there', async () => {
    const namespace = uniqueNamespace('shcli-term');
    const layout = layoutOf(namespace);
    const shards = shardQueues(layout);
    const worker = start(namespace, { RESQUE_ISOLATION: 'none', RESQUE_TERM_TIMEOUT: '0.3' });
    await registeredEverywhere(layout, worker);
    for (const [shard, { queue, client }] of shards.entries())
      await client.enqueueTo(queue, 'Slow', shard, 60_000);
    await waitFor(async () => (await startedCount(namespace)) === 3, 15_000, 'three slow jobs running');
    worker.signal('SIGTERM');
    expect((await worker.exited).code).toBe(0);
    for (const { queue, client, namespace: ns } of shards) {
      expect(await client.size(queue)).toBe(1);
      expect(await redis.keys(`${ns}:ts:inflight:*`)).toEqual([]);
      expect(await redis.smembers(`${ns}:workers`)).toEqual([]);
    }
  });

  it('USR2 pauses every shard and CONT resumes them', async () => {
    const namespace = uniqueNamespace('shcli-pause');
    const layout = layoutOf(namespace);
    const shards = shardQueues(layout);
    const worker = start(namespace, { RESQUE_ISOLATION: 'none' });
    await registeredEverywhere(layout, worker);
    worker.signal('SIGUSR2');
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const [shard, { queue, client }] of shards.entries()) await client.enqueueTo(queue, 'Record', shard);
    await new Promise((resolve) => setTimeout(resolve, 800));
    for (const shard of [0, 1, 2]) expect(await ledgerCount(namespace, shard)).toBe(0);
    worker.signal('SIGCONT');
    await waitFor(
      async () => (await Promise.all([0, 1, 2].map((n) => ledgerCount(namespace, n)))).every((c) => c === 1),
      15_000,
      'the jobs after CONT',
    );
    worker.signal('SIGQUIT');
    expect((await worker.exited).code).toBe(0);
  });

  it('kill -9 mid-job: a peer’s reaper on each shard gives every job back, and each runs once to the end', async () => {
    const namespace = uniqueNamespace('shcli-kill');
    const layout = layoutOf(namespace);
    const shards = shardQueues(layout);
    const victim = start(namespace, { ...FAST_REAPER, RESQUE_ISOLATION: 'none' });
    await registeredEverywhere(layout, victim);
    for (const [shard, { queue, client }] of shards.entries())
      await client.enqueueTo(queue, 'Slow', shard, 2500);
    await waitFor(async () => (await startedCount(namespace)) === 3, 15_000, 'three slow jobs running');
    victim.signal('SIGKILL');
    await victim.exited;
    for (const { namespace: ns } of shards) expect(await redis.keys(`${ns}:ts:inflight:*`)).toHaveLength(1);
    const rescuer = start(namespace, { ...FAST_REAPER, RESQUE_ISOLATION: 'none' });
    await waitFor(
      async () => (await Promise.all([0, 1, 2].map((n) => ledgerCount(namespace, n)))).every((c) => c === 1),
      30_000,
      'every job performed by the rescuer',
    );
    for (const { queue, client, namespace: ns } of shards) {
      expect(await client.size(queue)).toBe(0);
      expect(await redis.llen(`${ns}:failed`)).toBe(0);
      const workers = await redis.smembers(`${ns}:workers`);
      expect(workers.every((id) => id.includes(`:${rescuer.pid}:`))).toBe(true);
    }
    rescuer.signal('SIGQUIT');
    expect((await rescuer.exited).code).toBe(0);
  });
});
