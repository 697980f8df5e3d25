import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, type RedisServer, removeDir, startRedis } from './redis-server.js';

/** A primary, a replica and three sentinels on loopback ports, all owned by the test. */
export interface SentinelCluster {
  readonly masterName: string;
  /** `redis+sentinel://127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3/<master>` */
  readonly url: string;
  primary: RedisServer;
  replica: RedisServer;
  /** The address sentinels currently report for the primary. */
  currentPrimaryPort(): Promise<number>;
  stop(): Promise<void>;
}

export async function startSentinelCluster(masterName = 'resque-primary'): Promise<SentinelCluster> {
  const primary = await startRedis({ appendOnly: true });
  const replica = await startRedis({ appendOnly: true, replicaOf: primary.port });
  const dir = mkdtempSync(join(tmpdir(), 'resque-ts-sentinel-'));
  const sentinelPorts: number[] = [];
  const sentinels: ChildProcess[] = [];
  for (let i = 0; i < 3; i++) {
    const port = await freePort();
    const config = join(dir, `sentinel-${i}.conf`);
    writeFileSync(
      config,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor ${masterName} 127.0.0.1 ${primary.port} 2`,
        `sentinel down-after-milliseconds ${masterName} 1000`,
        `sentinel failover-timeout ${masterName} 5000`,
        `sentinel parallel-syncs ${masterName} 1`,
        '',
      ].join('\n'),
    );
    const child = spawn('redis-server', [config, '--sentinel'], { stdio: 'ignore' });
    sentinels.push(child);
    sentinelPorts.push(port);
  }
  const ask = async (): Promise<number> => {
    for (const port of sentinelPorts) {
      const client = new Redis({
        port,
        host: '127.0.0.1',
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      client.on('error', () => {});
      try {
        await client.connect();
        const reply = (await client.call('SENTINEL', 'get-master-addr-by-name', masterName)) as
          | [string, string]
          | null;
        if (reply) return Number(reply[1]);
      } catch {
        // try the next sentinel
      } finally {
        client.disconnect();
      }
    }
    return -1;
  };
  const deadline = Date.now() + 15_000;
  const replicaClient = new Redis({ port: replica.port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
  while (!(await replicaClient.info('replication')).includes('master_link_status:up')) {
    if (Date.now() > deadline) throw new Error('the replica did not finish its initial sync');
    await new Promise((r) => setTimeout(r, 100));
  }
  replicaClient.disconnect();
  while ((await ask()) !== primary.port) {
    if (Date.now() > deadline) throw new Error('sentinels did not come up');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    masterName,
    url: `redis+sentinel://${sentinelPorts.map((p) => `127.0.0.1:${p}`).join(',')}/${masterName}`,
    primary,
    replica,
    currentPrimaryPort: ask,
    async stop() {
      for (const child of sentinels) child.kill('SIGKILL');
      await primary.stop().catch(() => {});
      await replica.stop().catch(() => {});
      removeDir(primary.dir);
      removeDir(replica.dir);
      removeDir(dir);
    },
  };
}
