// `resque shards`: a sharded namespace's layout as the cluster serves it — each shard's namespace on its own primary
// (3 shards on an evenly created 3-primary cluster), where a queue lives, and the same table on a single Redis.
import calculateSlot from 'cluster-key-slot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Resque } from '../../src/client/resque.js';
import { ShardLayout } from '../../src/protocol/shard-layout.js';
import { hashTagOf } from '../../src/redis/cluster.js';
import { resqueInProcess } from '../harness/cli-in-process.js';
import { type RedisClusterHarness, startRedisCluster } from '../harness/cluster.js';
import { sharedRedisUrl, uniqueNamespace } from '../harness/context.js';

let cluster: RedisClusterHarness;
beforeAll(async () => {
  cluster = await startRedisCluster();
});
afterAll(async () => {
  await cluster?.stop();
});

interface ShardRow {
  shard: number;
  namespace: string;
  slot: number;
  node: string;
  queues: number;
  placed: string[];
}

describe('resque shards', () => {
  it('shows each shard on its own primary of an evenly created cluster, and where queues live', async () => {
    const base = `shards-${Math.random().toString(36).slice(2, 8)}`;
    const layout = new ShardLayout(base, 3);
    // A queue on shard 1, written there with a plain client of that shard's namespace.
    const queue = ['a', 'b', 'c', 'd', 'e', 'f'].find((q) => layout.shardOf(q) === 1)!;
    const shardClient = new Resque({ redis: cluster.url, namespace: layout.namespaces[1]! });
    await shardClient.watchQueue(queue);
    await shardClient.close();

    const result = await resqueInProcess(
      ['shards', '--redis', cluster.url, '--namespace', base, '--shards', '3', '--queue', queue, '--json'],
      { env: {} },
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const { shards } = JSON.parse(result.stdout) as { shards: ShardRow[] };
    expect(shards.map((s) => s.namespace)).toEqual(layout.namespaces);
    for (const row of shards) {
      expect(row.slot).toBe(calculateSlot(hashTagOf(row.namespace)!));
      expect(row.node).toBe(`127.0.0.1:${await cluster.ownerOf(`${row.namespace}:queues`)}`);
    }
    expect(new Set(shards.map((s) => s.node)).size).toBe(3);
    expect(shards.map((s) => s.queues)).toEqual([0, 1, 0]);
    expect(shards.map((s) => s.placed)).toEqual([[], [queue], []]);
  });

  it('prints the layout of a sharded namespace on a single Redis', async () => {
    const base = uniqueNamespace('shards-cmd').replace(/[{}]/g, '');
    const result = await resqueInProcess(['shards', '--redis', sharedRedisUrl(), '--namespace', base], {
      env: { RESQUE_SHARDS: '2' },
    });
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^SHARD\s+NAMESPACE\s+SLOT\s+NODE\s+QUEUES$/);
    expect(lines.slice(1).map((line) => line.split(/\s+/)[1])).toEqual(new ShardLayout(base, 2).namespaces);
  });

  it('refuses a namespace that is not sharded, and a bad --shards', async () => {
    const unsharded = await resqueInProcess(['shards', '--redis', sharedRedisUrl()], { env: {} });
    expect(unsharded.code).toBe(2);
    expect(unsharded.stderr).toMatch(/not sharded: give --shards n/);
    const bad = await resqueInProcess(['shards', '--redis', sharedRedisUrl(), '--shards', 'x'], { env: {} });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--shards must be a positive integer/);
    const outOfRange = await resqueInProcess(
      ['shards', '--redis', sharedRedisUrl(), '--shards', '2', '--queue-shards', 'mail=5'],
      { env: {} },
    );
    expect(outOfRange.code).toBe(2);
    expect(outOfRange.stderr).toMatch(/queue "mail" is placed on shard 5, but shards are numbered 0 to 1/);
  });
});

describe('--queue-shards', () => {
  it('names the flag, not the environment variable, when it is malformed', async () => {
    const result = await resqueInProcess(
      ['shards', '--redis', sharedRedisUrl(), '--shards', '2', '--queue-shards', 'mail'],
      { env: {} },
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--queue-shards/);
    expect(result.stderr).not.toMatch(/RESQUE_QUEUE_SHARDS/);
  });
});
