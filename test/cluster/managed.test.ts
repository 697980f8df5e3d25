// What managed cluster services change: nodes that refuse CONFIG (renamed away, as many services do), and TLS
// (`rediss+cluster://`, the cluster bus and CLUSTER SLOTS on TLS ports, a CA the client is given).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { Admin } from '../../src/api/admin.js';
import { defineJob } from '../../src/jobs/define.js';
import { Worker } from '../../src/worker/worker.js';
import { type RedisClusterHarness, startRedisCluster } from '../harness/cluster.js';
import { waitFor } from '../harness/context.js';
import { freePort, removeDir } from '../harness/redis-server.js';

const run = promisify(execFile);

const clusters: RedisClusterHarness[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const cluster of clusters) await cluster.stop();
  for (const dir of dirs) removeDir(dir);
});

/** Enqueues jobs through `admin`, runs them with an in-process worker on the same Redis, and reads the dashboard's views. */
async function roundTrip(redis: string, cluster: object | undefined, namespace: string) {
  const ran: number[] = [];
  const Job = defineJob({ className: 'Job', queue: 'q', perform: (_ctx, n: number) => void ran.push(n) });
  const options = { redis, namespace, jobs: [Job], ...(cluster ? { cluster } : {}) };
  const admin = new Admin(options);
  const worker = new Worker({
    ...options,
    queues: ['q'],
    isolation: 'none',
    logLevel: 'silent',
    setProcessTitle: false,
    intervalMs: 100,
  });
  try {
    await admin.resque.enqueueBulk(
      Job,
      Array.from({ length: 20 }, (_, i) => [i]),
    );
    await worker.start();
    await waitFor(() => ran.length === 20, 30_000, '20 jobs');
    await waitFor(async () => (await admin.counters()).processed === 20, 10_000, 'the processed count');
    return {
      safety: await admin.redisSafety(),
      redisInfo: await admin.redisInfo(),
      queues: await admin.queues(),
    };
  } finally {
    await worker.stop().catch(() => {});
    await admin.close();
  }
}

describe('managed cluster services', () => {
  it('nodes that refuse CONFIG: workers start, jobs run, the safety check reads what INFO shows and skips the rest', async () => {
    const cluster = await startRedisCluster({ args: ['--rename-command', 'CONFIG', ''] });
    clusters.push(cluster);
    await expect(cluster.node(cluster.servers[0]!.port).call('CONFIG', 'GET', 'maxmemory')).rejects.toThrow(
      /unknown command/i,
    );
    const { safety, redisInfo, queues } = await roundTrip(cluster.url, undefined, '{no-config}');
    expect(queues.map((q) => q.name)).toEqual(['q']);
    expect(redisInfo.length).toBeGreaterThan(0);
    // INFO still answers (the eviction policy, AOF off); the save rules, which only CONFIG GET gives, are unknown,
    // so the missing persistence is not claimed.
    expect(safety).toMatchObject({ maxmemoryPolicy: 'noeviction', appendOnly: false, saveRules: undefined });
  });

  it('TLS: rediss+cluster:// with the service CA, through CLUSTER SLOTS on the TLS ports', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'resque-ts-tls-'));
    dirs.push(dir);
    const file = (name: string) => join(dir, name);
    await run(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=test-ca'].concat([
        '-keyout',
        file('ca.key'),
        '-out',
        file('ca.crt'),
      ]),
    );
    writeFileSync(file('san.cnf'), 'subjectAltName=IP:127.0.0.1\n');
    await run(
      'openssl',
      ['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1'].concat([
        '-keyout',
        file('node.key'),
        '-out',
        file('node.csr'),
      ]),
    );
    await run(
      'openssl',
      ['x509', '-req', '-in', file('node.csr'), '-CA', file('ca.crt'), '-CAkey', file('ca.key')].concat([
        '-CAcreateserial',
        '-days',
        '1',
        '-extfile',
        file('san.cnf'),
        '-out',
        file('node.crt'),
      ]),
    );
    const cluster = await startRedisCluster({
      tls: { certFile: file('node.crt'), keyFile: file('node.key'), caFile: file('ca.crt') },
    });
    clusters.push(cluster);
    const tls = { ca: readFileSync(file('ca.crt')) };
    const { queues } = await roundTrip(cluster.tlsUrl!, { redisOptions: { tls } }, '{tls}');
    expect(queues.map((q) => q.name)).toEqual(['q']);
  });

  it('natMap: nodes that announce ports nothing listens on are reached through the map', async () => {
    const cluster = await startRedisCluster();
    clusters.push(cluster);
    // Each node announces another port (as behind NAT or a proxy): CLUSTER SLOTS and MOVED then name ports with no
    // listener, which the client maps back to the real ones.
    const natMap: Record<string, { host: string; port: number }> = {};
    for (const server of cluster.servers) {
      const announced = await freePort();
      natMap[`127.0.0.1:${announced}`] = { host: '127.0.0.1', port: server.port };
      await cluster.node(server.port).call('CONFIG', 'SET', 'cluster-announce-port', String(announced));
    }
    await waitFor(
      async () => {
        for (const server of cluster.servers) {
          const slots = (await cluster.node(server.port).call('CLUSTER', 'SLOTS')) as [
            number,
            number,
            [string, number],
          ][];
          if (!slots.every(([, , [host, port]]) => natMap[`${host}:${port}`] !== undefined)) return false;
        }
        return true;
      },
      20_000,
      'every node to know the announced ports',
    );

    // Without the map, a client reaches its start-up node, learns the announced ports and cannot go further.
    const { Cluster } = await import('ioredis');
    const unmapped = new Cluster([{ host: '127.0.0.1', port: cluster.servers[0]!.port }], {
      clusterRetryStrategy: () => null,
      redisOptions: { connectTimeout: 500, maxRetriesPerRequest: 0 },
    });
    unmapped.on('error', () => {});
    const reached = await Promise.race([
      unmapped.set('{nat-map}:probe', '1').then(
        () => 'reached',
        () => 'refused',
      ),
      new Promise((resolve) => setTimeout(() => resolve('timed out'), 5000)),
    ]);
    unmapped.disconnect();
    expect(reached).not.toBe('reached');

    const { queues, redisInfo } = await roundTrip(cluster.url, { natMap }, '{nat-map}');
    expect(queues.map((q) => q.name)).toEqual(['q']);
    expect(redisInfo.length).toBeGreaterThan(0);
  });
});
