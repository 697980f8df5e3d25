// The admin model, the CLI and the dashboard's reads over a sharded namespace on a real 3-primary Redis Cluster:
// each shard's namespace (filled directly, as an unsharded client of that shard would) lives on its own primary, and
// the sharded Admin's reads reach all three, its queue calls and failure retries the primary of the shard concerned.
import calculateSlot from 'cluster-key-slot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Admin } from '../../src/api/admin.js';
import { Resque } from '../../src/client/resque.js';
import { Keys } from '../../src/protocol/keys.js';
import { ShardLayout } from '../../src/protocol/shard-layout.js';
import { resqueInProcess } from '../harness/cli-in-process.js';
import { type RedisClusterHarness, startRedisCluster } from '../harness/cluster.js';
import { newFailure, writeFailures } from '../integration/failure-helpers.js';
import { registerWorker, serve } from '../web/client.js';

let cluster: RedisClusterHarness;
const base = `shards-admin-${Math.random().toString(36).slice(2, 8)}`;
const layout = new ShardLayout(base, 3);
const queueOn = (shard: number): string => {
  for (let n = 0; ; n++) if (layout.shardOf(`q${n}`) === shard) return `q${n}`;
};
const queues = [0, 1, 2].map(queueOn);
let admin: Admin;

beforeAll(async () => {
  cluster = await startRedisCluster();
  for (const [shard, namespace] of layout.namespaces.entries()) {
    const resque = new Resque({ redis: cluster.url, namespace });
    await resque.enqueueBulk(
      'Mailer',
      Array.from({ length: shard + 1 }, (_, i) => [i]),
      { queue: queues[shard]! },
    );
    const keys = new Keys(namespace);
    const node = cluster.node(await cluster.ownerOf(keys.queue(queues[shard]!)));
    await writeFailures(node, namespace, [newFailure({ queue: queues[shard]!, args: [shard] })]);
    await registerWorker(node, namespace, `host:${shard}:${queues[shard]}`);
    await resque.close();
  }
  admin = new Admin({ redis: cluster.url, namespace: base, shards: 3 });
});

afterAll(async () => {
  await admin?.close();
  await cluster?.stop();
});

describe('a sharded Admin on a 3-primary cluster', () => {
  it('finds each shard on its own primary', async () => {
    const owners = await Promise.all(layout.namespaces.map((ns) => cluster.ownerOf(new Keys(ns).queues)));
    expect(new Set(owners).size).toBe(3);
    const node = cluster.node(owners[0]!);
    for (const ns of layout.namespaces) {
      const key = new Keys(ns).queue('x');
      expect(Number(await node.call('CLUSTER', 'KEYSLOT', key))).toBe(calculateSlot(key));
    }
  });

  it('merges queues, workers, failures and counters from the three primaries', async () => {
    expect((await admin.queues()).map((q) => [q.name, q.shard, q.size]).sort()).toEqual(
      queues.map((q, shard) => [q, shard, shard + 1]).sort(),
    );
    expect((await admin.workers()).map((w) => w.shard).sort()).toEqual([0, 1, 2]);
    expect(await admin.failures.count()).toBe(3);
    expect((await admin.info()).pending).toBe(6);
    // INFO once per primary: three servers, each serving one shard.
    const servers = (await admin.redisInfo()).filter((s) => s.name.startsWith('Server'));
    expect(servers.map((s) => s.name).sort()).toEqual([
      'Server · shard 0',
      'Server · shard 1',
      'Server · shard 2',
    ]);
  });

  it('retries a failure of shard 2 on shard 2’s primary, and pauses a queue on its shard', async () => {
    const { failures } = await admin.failures.page({ queue: queues[2] });
    const result = await admin.failures.retry(failures[0]!.id, { remove: true });
    expect(result.queue).toBe(queues[2]);
    const keys2 = new Keys(layout.namespaces[2]!);
    const node = cluster.node(await cluster.ownerOf(keys2.queue(queues[2]!)));
    expect(await node.llen(keys2.queue(queues[2]!))).toBe(4);
    expect(await node.llen(keys2.failed)).toBe(0);
    expect(await admin.pauseQueue(queues[2]!)).toBe(true);
    expect(await node.hexists(keys2.pausedQueues, queues[2]!)).toBe(1);
  });

  it('resque queues --shards 3 --json and the dashboard read every shard', async () => {
    const cli = await resqueInProcess([
      'queues',
      '--json',
      '--redis',
      cluster.url,
      '--namespace',
      base,
      '--shards',
      '3',
    ]);
    expect(cli.code, cli.stderr).toBe(0);
    expect((JSON.parse(cli.stdout) as Array<{ shard: number }>).map((q) => q.shard).sort()).toEqual([
      0, 1, 2,
    ]);
    const web = await serve({ redis: cluster.url, namespace: base, shards: 3 });
    try {
      const page = await web.client.get('/queues');
      expect(page.status).toBe(200);
      for (const queue of queues) expect(page.text).toContain(`>${queue}</a>`);
      const api = (await web.client.get('/api/failed')).json<{ failures: Array<{ id: string }> }>();
      expect(api.failures.map((f) => f.id.split('@')[0]).sort()).toEqual(['0', '1']);
    } finally {
      await web.close();
    }
  });
});
