// The benchmark's private Redis Cluster: `primaries` redis-servers with `--cluster-enabled yes` on free loopback ports
// (no persistence, no replicas), joined by `redis-cli --cluster create`, each stopped by its PID. Slots are split
// evenly, as `redis-cli --cluster create` and managed services do.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import calculateSlot from 'cluster-key-slot';
import { freeLoopbackPort } from '../../dist/redis/server-process.js';
import { startRedisServer } from './redis-server.mjs';

const run = promisify(execFile);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export async function startRedisCluster(primaries = 3) {
  const nodes = [];
  const stop = async () => {
    for (const node of nodes) await node.stop().catch(() => {});
  };
  try {
    for (let i = 0; i < primaries; i++) {
      const busPort = await freeLoopbackPort();
      const extraArgs = [
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        'nodes.conf',
        '--cluster-port',
        String(busPort),
        '--cluster-node-timeout',
        '5000',
      ];
      nodes.push(await startRedisServer({ extraArgs }));
    }
    const addresses = nodes.map((node) => `127.0.0.1:${node.port}`);
    await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes']);
    await waitForClusterOk(nodes);
  } catch (error) {
    await stop();
    throw error;
  }
  /** Each primary's slot ranges, asked of the cluster: `[{ port, ranges: [[from, to], …] }]`, in `nodes` order. */
  const slotRanges = async () => {
    const reply = await nodes[0].admin.call('CLUSTER', 'SLOTS');
    return nodes.map((node) => ({
      port: node.port,
      ranges: reply.filter((range) => Number(range[2][1]) === node.port).map(([from, to]) => [from, to]),
    }));
  };
  return {
    nodes,
    url: `redis+cluster://${nodes.map((node) => `127.0.0.1:${node.port}`).join(',')}`,
    slotRanges,
    /** The node whose primary serves the slot of `key`. */
    async ownerOf(key) {
      const slot = calculateSlot(key);
      const owner = (await slotRanges()).find(({ ranges }) =>
        ranges.some(([from, to]) => slot >= from && slot <= to),
      );
      if (!owner) throw new Error(`no node serves slot ${slot}`);
      return nodes.find((node) => node.port === owner.port);
    },
    async version() {
      return nodes[0].version();
    },
    stop,
  };
}

async function waitForClusterOk(nodes, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const infos = await Promise.all(nodes.map((node) => node.admin.call('CLUSTER', 'INFO').catch(() => '')));
    if (infos.every((info) => info.includes('cluster_state:ok'))) return;
    if (Date.now() > deadline) throw new Error('the cluster did not reach cluster_state:ok');
    await sleep(100);
  }
}

/**
 * A hash tag `{<base><i>}` (or `{<base><i>-<n>}`, the smallest n) whose slot the primary with `ranges` serves: how the
 * benchmark gives BullMQ's queues prefixes on three different primaries.
 */
export function tagServedBy(base, i, ranges) {
  for (let n = 0; ; n++) {
    const tag = n === 0 ? `${base}${i}` : `${base}${i}-${n}`;
    const slot = calculateSlot(tag);
    if (ranges.some(([from, to]) => slot >= from && slot <= to)) return `{${tag}}`;
  }
}
