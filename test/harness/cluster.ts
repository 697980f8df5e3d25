import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import calculateSlot from 'cluster-key-slot';
import { Redis } from 'ioredis';
import { freePort, type RedisServer, removeDir, startRedis } from './redis-server.js';

const run = promisify(execFile);

/** A Redis Cluster of primaries without replicas on loopback ports, owned by the test. */
export interface RedisClusterHarness {
  readonly servers: readonly RedisServer[];
  /** `redis+cluster://127.0.0.1:p1,127.0.0.1:p2,…` */
  readonly url: string;
  /** A plain connection to one node. */
  node(port: number): Redis;
  /** The port of the primary serving the slot of `key` (asked of the cluster, not computed). */
  ownerOf(key: string): Promise<number>;
  /**
   * Moves the slot of `key` to the primary on `toPort` as `redis-cli --cluster reshard` does: IMPORTING and
   * MIGRATING, the slot's keys moved with MIGRATE, then the new owner announced to every node.
   */
  moveSlotOf(key: string, toPort: number): Promise<void>;
  stop(): Promise<void>;
}

const CLUSTER_ARGS = (busPort: number) => [
  '--cluster-enabled',
  'yes',
  '--cluster-config-file',
  'nodes.conf',
  '--cluster-port',
  String(busPort),
  '--cluster-node-timeout',
  '1000',
  '--cluster-require-full-coverage',
  'yes',
  '--maxmemory',
  '64mb',
];

export async function startRedisCluster(primaries = 3): Promise<RedisClusterHarness> {
  const servers: RedisServer[] = [];
  const clients = new Map<number, Redis>();
  const node = (port: number): Redis => {
    let client = clients.get(port);
    if (!client) {
      client = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1, lazyConnect: false });
      client.on('error', () => {});
      clients.set(port, client);
    }
    return client;
  };
  const stop = async () => {
    for (const client of clients.values()) client.disconnect();
    for (const server of servers) {
      await server.stop().catch(() => {});
      removeDir(server.dir);
    }
  };
  try {
    for (let i = 0; i < primaries; i++) {
      const busPort = await freePort();
      servers.push(await startRedis({ args: CLUSTER_ARGS(busPort) }));
    }
    await run('redis-cli', [
      '--cluster',
      'create',
      ...servers.map((s) => `127.0.0.1:${s.port}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    await waitForClusterOk(servers.map((s) => node(s.port)));
  } catch (error) {
    await stop();
    throw error;
  }
  const ownerOf = async (key: string): Promise<number> => {
    const slot = calculateSlot(key);
    const ranges = (await node(servers[0]!.port).call('CLUSTER', 'SLOTS')) as [
      number,
      number,
      [string, number],
    ][];
    const range = ranges.find(([from, to]) => slot >= from && slot <= to);
    if (!range) throw new Error(`no node serves slot ${slot}`);
    return Number(range[2][1]);
  };
  return {
    servers,
    url: `redis+cluster://${servers.map((s) => `127.0.0.1:${s.port}`).join(',')}`,
    node,
    ownerOf,
    async moveSlotOf(key, toPort) {
      const slot = calculateSlot(key);
      const fromPort = await ownerOf(key);
      if (fromPort === toPort) return;
      const from = node(fromPort);
      const to = node(toPort);
      const idOf = async (client: Redis) => String(await client.call('CLUSTER', 'MYID'));
      const [fromId, toId] = [await idOf(from), await idOf(to)];
      await to.call('CLUSTER', 'SETSLOT', slot, 'IMPORTING', fromId);
      await from.call('CLUSTER', 'SETSLOT', slot, 'MIGRATING', toId);
      for (;;) {
        const keys = (await from.call('CLUSTER', 'GETKEYSINSLOT', slot, 1000)) as string[];
        if (keys.length === 0) break;
        await from.call('MIGRATE', '127.0.0.1', toPort, '', 0, 5000, 'KEYS', ...keys);
      }
      for (const server of servers) await node(server.port).call('CLUSTER', 'SETSLOT', slot, 'NODE', toId);
      await waitForClusterOk(servers.map((s) => node(s.port)));
    },
    stop,
  };
}

async function waitForClusterOk(nodes: Redis[], timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const infos = await Promise.all(
      nodes.map((n) => n.call('CLUSTER', 'INFO').catch(() => '') as Promise<string>),
    );
    if (infos.every((info) => info.includes('cluster_state:ok'))) return;
    if (Date.now() > deadline) throw new Error('the cluster did not reach cluster_state:ok');
    await new Promise((r) => setTimeout(r, 100));
  }
}
