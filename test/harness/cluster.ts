import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import calculateSlot from 'cluster-key-slot';
import { Redis } from 'ioredis';
import { freePort, type RedisServer, removeDir, startRedis } from './redis-server.js';

const run = promisify(execFile);

/** A Redis Cluster on loopback ports, owned by the test: primaries, and replicas when asked for. */
export interface RedisClusterHarness {
  /** Every node: the primaries first, then the replicas (as `redis-cli --cluster create` was given them). */
  readonly servers: readonly RedisServer[];
  /** `redis+cluster://127.0.0.1:p1,127.0.0.1:p2,…` */
  readonly url: string;
  /** With `tls`: `rediss+cluster://127.0.0.1:t1,…`, the nodes' TLS ports (the plain ports stay open for the harness). */
  readonly tlsUrl?: string;
  /** The ports of the live nodes that are primaries now (asked of each: `ROLE`). */
  primaryPorts(): Promise<number[]>;
  /** A plain connection to one node. */
  node(port: number): Redis;
  /** The port of the primary serving the slot of `key` (asked of the cluster, not computed). */
  ownerOf(key: string): Promise<number>;
  /**
   * Moves the slot of `key` to the primary on `toPort` as `redis-cli --cluster reshard` does: IMPORTING and
   * MIGRATING, the slot's keys moved with MIGRATE, then the new owner announced to every node.
   */
  moveSlotOf(key: string, toPort: number, options?: MoveOptions): Promise<void>;
  /**
   * Opens the move of the slot of `key` to `toPort` (IMPORTING, MIGRATING) and leaves it open for the test to move
   * its keys a few at a time; undefined when that node serves the slot already.
   */
  openMove(key: string, toPort: number): Promise<SlotMove | undefined>;
  /**
   * Starts one more node and joins it as a replica of the primary on `primaryPort` (`redis-cli --cluster add-node
   * --cluster-slave`), once it has caught up.
   */
  addReplica(primaryPort: number): Promise<RedisServer>;
  /** The ports of the replicas of the primary on `primaryPort` (its `ROLE`). */
  replicasOf(primaryPort: number): Promise<number[]>;
  /** The port of a replica of the primary on `primaryPort` (asked of that primary: `ROLE`). */
  replicaOf(primaryPort: number): Promise<number>;
  /**
   * Makes the replica on `replicaPort` a primary at once (`CLUSTER FAILOVER TAKEOVER`: no election, no handshake
   * with its primary, which may be dead), then waits until every live node agrees the cluster is ok again.
   */
  takeOver(replicaPort: number): Promise<void>;
  stop(): Promise<void>;
}

/** A slot move in progress. */
export interface SlotMove {
  /** Moves up to `count` of the slot's keys still on the old node (MIGRATE … KEYS); returns how many it moved. */
  migrate(count: number): Promise<number>;
  /** Moves these keys of the slot. */
  migrateKeys(keys: string[]): Promise<void>;
  /** Moves the rest, then names the new owner to every primary and waits for the cluster to be ok. */
  finish(): Promise<void>;
}

/** How a slot's keys are moved: `batch` keys per MIGRATE (1000), `pauseMs` between two MIGRATEs (0). */
export interface MoveOptions {
  batch?: number;
  pauseMs?: number;
}

export interface RedisClusterOptions {
  primaries?: number;
  /** Replicas per primary (`--cluster-replicas`); 0 by default. */
  replicas?: number;
  /** More `redis-server` arguments for every node (e.g. `['--rename-command', 'CONFIG', '']`). */
  args?: string[];
  /**
   * TLS on a second port of every node (`--tls-port`, `--tls-cluster yes`: the cluster bus and `CLUSTER SLOTS`
   * answers to TLS clients use the TLS ports); clients need no certificate of their own.
   */
  tls?: { certFile: string; keyFile: string; caFile: string };
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

export async function startRedisCluster(
  options: RedisClusterOptions | number = {},
): Promise<RedisClusterHarness> {
  const {
    primaries = 3,
    replicas = 0,
    args = [],
    tls,
  } = typeof options === 'number' ? { primaries: options } : options;
  const tlsPorts: number[] = [];
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
    for (let i = 0; i < primaries * (1 + replicas); i++) {
      const busPort = await freePort();
      const tlsArgs: string[] = [];
      if (tls) {
        const tlsPort = await freePort();
        tlsPorts.push(tlsPort);
        tlsArgs.push(
          '--tls-port',
          String(tlsPort),
          '--tls-cluster',
          'yes',
          '--tls-cert-file',
          tls.certFile,
          '--tls-key-file',
          tls.keyFile,
          '--tls-ca-cert-file',
          tls.caFile,
          '--tls-auth-clients',
          'no',
        );
      }
      servers.push(await startRedis({ args: [...CLUSTER_ARGS(busPort), ...tlsArgs, ...args] }));
    }
    await run('redis-cli', [
      '--cluster',
      'create',
      ...servers.map((s) => `127.0.0.1:${s.port}`),
      '--cluster-replicas',
      String(replicas),
      '--cluster-yes',
    ]);
    await waitForClusterOk(servers.map((s) => node(s.port)));
    if (replicas > 0) await waitForReplicasInSync(servers.map((s) => node(s.port)));
  } catch (error) {
    await stop();
    throw error;
  }
  const live = new Set<RedisServer>();
  /** Keeps `live` up to date through the server's kill and restart. */
  const track = (server: RedisServer) => {
    live.add(server);
    const kill = server.kill.bind(server);
    const restart = server.restart.bind(server);
    Object.assign(server, {
      kill: async () => {
        live.delete(server);
        await kill();
      },
      restart: async () => {
        await restart();
        live.add(server);
      },
    });
  };
  for (const server of servers) track(server);
  const anyLiveNode = () => node([...live][0]!.port);
  const ownerOf = async (key: string): Promise<number> => {
    const slot = calculateSlot(key);
    const ranges = (await anyLiveNode().call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
    const range = ranges.find(([from, to]) => slot >= from && slot <= to);
    if (!range) throw new Error(`no node serves slot ${slot}`);
    return Number(range[2][1]);
  };
  const primaryPorts = async (): Promise<number[]> => {
    const ports: number[] = [];
    for (const server of live)
      if (((await node(server.port).call('ROLE')) as [string])[0] === 'master') ports.push(server.port);
    return ports;
  };
  const openMove = async (key: string, toPort: number): Promise<SlotMove | undefined> => {
    const slot = calculateSlot(key);
    const fromPort = await ownerOf(key);
    if (fromPort === toPort) return undefined;
    const from = node(fromPort);
    const to = node(toPort);
    const idOf = async (client: Redis) => String(await client.call('CLUSTER', 'MYID'));
    const [fromId, toId] = [await idOf(from), await idOf(to)];
    await to.call('CLUSTER', 'SETSLOT', slot, 'IMPORTING', fromId);
    await from.call('CLUSTER', 'SETSLOT', slot, 'MIGRATING', toId);
    const migrate = async (count: number) => {
      const keys = (await from.call('CLUSTER', 'GETKEYSINSLOT', slot, count)) as string[];
      if (keys.length > 0) await from.call('MIGRATE', '127.0.0.1', toPort, '', 0, 5000, 'KEYS', ...keys);
      return keys.length;
    };
    return {
      migrate,
      async migrateKeys(keys) {
        await from.call('MIGRATE', '127.0.0.1', toPort, '', 0, 5000, 'KEYS', ...keys);
      },
      async finish() {
        while ((await migrate(1000)) > 0);
        // Replicas refuse SETSLOT and learn the new owner from their primaries.
        for (const port of await primaryPorts())
          await node(port).call('CLUSTER', 'SETSLOT', slot, 'NODE', toId);
        await waitForClusterOk([...live].map((s) => node(s.port)));
      },
    };
  };
  return {
    servers,
    primaryPorts,
    url: `redis+cluster://${servers.map((s) => `127.0.0.1:${s.port}`).join(',')}`,
    ...(tls ? { tlsUrl: `rediss+cluster://${tlsPorts.map((port) => `127.0.0.1:${port}`).join(',')}` } : {}),
    node,
    ownerOf,
    async moveSlotOf(key, toPort, { batch = 1000, pauseMs = 0 } = {}) {
      const move = await openMove(key, toPort);
      if (!move) return;
      while ((await move.migrate(batch)) > 0)
        if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
      await move.finish();
    },
    openMove,
    async addReplica(primaryPort) {
      const server = await startRedis({ args: [...CLUSTER_ARGS(await freePort()), ...args] });
      servers.push(server);
      track(server);
      const primaryId = String(await node(primaryPort).call('CLUSTER', 'MYID'));
      await run('redis-cli', [
        '--cluster',
        'add-node',
        `127.0.0.1:${server.port}`,
        `127.0.0.1:${primaryPort}`,
        '--cluster-slave',
        '--cluster-master-id',
        primaryId,
      ]);
      await waitForClusterOk([...live].map((s) => node(s.port)));
      await waitForReplicasInSync([node(primaryPort), node(server.port)]);
      return server;
    },
    async replicasOf(primaryPort) {
      const role = (await node(primaryPort).call('ROLE')) as [string, number, [string, string, string][]];
      return role[0] === 'master' ? role[2].map((replica) => Number(replica[1])) : [];
    },
    async replicaOf(primaryPort) {
      const role = (await node(primaryPort).call('ROLE')) as [string, number, [string, string, string][]];
      const replica = role[2]?.[0];
      if (role[0] !== 'master' || !replica)
        throw new Error(`no replica of the primary on port ${primaryPort}`);
      return Number(replica[1]);
    },
    async takeOver(replicaPort) {
      await node(replicaPort).call('CLUSTER', 'FAILOVER', 'TAKEOVER');
      const deadline = Date.now() + 20_000;
      while (((await node(replicaPort).call('ROLE')) as [string])[0] !== 'master') {
        if (Date.now() > deadline)
          throw new Error(`the replica on port ${replicaPort} did not become a primary`);
        await new Promise((r) => setTimeout(r, 50));
      }
      await waitForClusterOk([...live].map((s) => node(s.port)));
    },
    stop,
  };
}

/** Until every primary's replicas are online and caught up with it (`ROLE`: same replication offset). */
async function waitForReplicasInSync(nodes: Redis[], timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const roles = (await Promise.all(nodes.map((n) => n.call('ROLE')))) as [string, number, string[][]][];
    const primaries = roles.filter((role) => role[0] === 'master');
    const inSync = primaries.every(
      ([, offset, replicas]) => replicas.length > 0 && replicas.every((r) => Number(r[2]) === Number(offset)),
    );
    if (inSync) return;
    if (Date.now() > deadline) throw new Error('the replicas did not catch up with their primaries');
    await new Promise((r) => setTimeout(r, 100));
  }
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
