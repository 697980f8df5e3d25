// A sharded namespace on a real 3-primary Redis Cluster: each shard's keys live on the primary serving its slot, one
// on each primary, and one sharded worker works all three.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Resque } from '../../src/client/resque.js';
import { resolveConfig } from '../../src/config/resolve.js';
import { shardLayoutOf } from '../../src/config/shards.js';
import { defineJob } from '../../src/jobs/define.js';
import { hashTagOf } from '../../src/redis/cluster.js';
import { Worker } from '../../src/worker/worker.js';
import { type RedisClusterHarness, startRedisCluster } from '../harness/cluster.js';
import { waitFor } from '../harness/context.js';

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

/** The port of the primary whose slot ranges in CLUSTER NODES hold `slot`. */
async function primaryServing(slot: number): Promise<number> {
  const nodes = String(await cluster.node(cluster.servers[0]!.port).call('CLUSTER', 'NODES'));
  for (const line of nodes.trim().split('\n')) {
    const [, address, flags, , , , , , ...ranges] = line.split(' ');
    if (!flags!.includes('master')) continue;
    for (const range of ranges) {
      const [low, high = low] = range.split('-').map(Number);
      if (slot >= low! && slot <= high!) return Number(address!.split('@')[0]!.split(':')[1]);
    }
  }
  throw new Error(`no primary serves slot ${slot}`);
}

describe('a sharded namespace on a 3-primary cluster', () => {
  it('puts each shard on its own primary, and one sharded worker performs the jobs of all three', async () => {
    const namespace = `shards-${Math.random().toString(36).slice(2, 8)}`;
    const config = resolveConfig({ redis: cluster.url, namespace, shards: 3 }, {});
    const layout = shardLayoutOf(config)!;
    const ran: string[] = [];
    const Job = defineJob({
      className: 'Spread',
      perform: (ctx, n: number) => void ran.push(`${ctx.queue}:${n}`),
    });
    const queues = [0, 1, 2].map((shard) => {
      for (let n = 0; ; n++) if (layout.shardOf(`q${n}`) === shard) return `q${n}`;
    });
    for (const [shard, ns] of layout.namespaces.entries()) {
      const client = new Resque({ redis: cluster.url, namespace: ns });
      closers.push(() => client.close());
      for (const n of [1, 2]) await client.enqueueTo(queues[shard]!, 'Spread', n);
    }
    const worker = new Worker({
      redis: cluster.url,
      namespace,
      shards: 3,
      queues: ['*'],
      jobs: [Job],
      isolation: 'none',
      logLevel: 'silent',
      setProcessTitle: false,
      intervalMs: 100,
    });
    closers.push(() => worker.stop());
    await worker.start();
    await waitFor(() => ran.length === 6, 20_000, 'six jobs');
    expect([...ran].sort()).toEqual(queues.flatMap((q) => [`${q}:1`, `${q}:2`]).sort());

    const owners: number[] = [];
    for (const [shard, ns] of layout.namespaces.entries()) {
      const workersKey = `${ns}:workers`;
      const slot = Number(
        await cluster.node(cluster.servers[0]!.port).call('CLUSTER', 'KEYSLOT', workersKey),
      );
      const statSlot = Number(
        await cluster.node(cluster.servers[0]!.port).call('CLUSTER', 'KEYSLOT', `${ns}:stat:processed`),
      );
      expect(statSlot).toBe(slot);
      // The shard's tag lands in its third of the slots.
      expect(slot).toBeGreaterThanOrEqual(Math.floor((shard * 16384) / 3));
      expect(slot).toBeLessThan(Math.floor(((shard + 1) * 16384) / 3));
      expect(hashTagOf(ns)).toBeDefined();
      const port = await primaryServing(slot);
      expect(await cluster.ownerOf(workersKey)).toBe(port);
      const owner = cluster.node(port);
      expect(await owner.smembers(workersKey)).toEqual([worker.shards[shard]!.id]);
      expect(await owner.get(`${ns}:stat:processed`)).toBe('2');
      owners.push(port);
    }
    expect(new Set(owners).size).toBe(3);
  });
});
