// Pointing resque-ts at the wrong kind of Redis: a plain URL at a cluster node, or a cluster URL at a Redis without
// cluster support. The client, the worker and the dashboard's reads say what to change, and nothing is written.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Admin } from '../../src/api/admin.js';
import { Resque } from '../../src/client/resque.js';
import { ConfigError } from '../../src/errors/index.js';
import { defineJob } from '../../src/jobs/define.js';
import { Worker } from '../../src/worker/worker.js';
import { type RedisClusterHarness, startRedisCluster } from '../harness/cluster.js';
import { keysUnder, rawRedis, sharedRedisUrl, uniqueNamespace } from '../harness/context.js';
import { serve } from '../web/client.js';

let cluster: RedisClusterHarness;
beforeAll(async () => {
  cluster = await startRedisCluster();
});
afterAll(async () => {
  await cluster?.stop();
});

const Job = defineJob({ className: 'Job', queue: 'q', perform: () => {} });

/** Total keys on every node of the cluster. */
async function clusterKeyCount(): Promise<number> {
  const sizes = await Promise.all(cluster.servers.map((s) => cluster.node(s.port).dbsize()));
  return sizes.reduce((sum, n) => sum + n, 0);
}

describe('a plain URL at a cluster node', () => {
  const plainUrl = () => `redis://127.0.0.1:${cluster.servers[0]!.port}`;

  it('the client says to use redis+cluster:// and a tagged namespace, with the default and a tagged namespace', async () => {
    for (const namespace of ['resque', '{resque}']) {
      let refused = 0;
      const resque = new Resque({ redis: plainUrl(), namespace, commandRetries: 0 });
      for (const attempt of [
        () => resque.enqueue(Job),
        () => resque.enqueueBulk(Job, [[], []]),
        () => resque.queues(),
      ]) {
        const error = await attempt().catch((e: unknown) => e);
        // A command that happens to land on the node owning its keys succeeds; the others say what to change.
        if (error === undefined || !(error instanceof Error)) continue;
        expect(error).toBeInstanceOf(ConfigError);
        expect(error.message).toMatch(/this Redis is a cluster node: use redis\+cluster:\/\/.*\{resque\}/);
        refused += 1;
      }
      expect(refused).toBeGreaterThan(0);
      await resque.close();
    }
  });

  it('the worker refuses to start before writing anything', async () => {
    const before = await clusterKeyCount();
    const worker = new Worker({
      redis: plainUrl(),
      namespace: '{resque}',
      queues: ['q'],
      jobs: [Job],
      isolation: 'none',
      logLevel: 'silent',
      setProcessTitle: false,
    });
    const error = await worker.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/this Redis is a cluster node: use redis\+cluster:\/\//);
    await worker.finished;
    expect(await clusterKeyCount()).toBe(before);
  });

  it("the dashboard's reads say the same", async () => {
    const admin = new Admin({ redis: plainUrl(), namespace: 'resque', commandRetries: 0 });
    const attempts = [
      () => admin.queues(),
      () => admin.info(),
      () => admin.workers(),
      () => admin.failures.count(),
    ];
    const errors = await Promise.all(
      attempts.map((read) =>
        read().then(
          () => undefined,
          (e: unknown) => e,
        ),
      ),
    );
    const refused = errors.filter((e) => e !== undefined);
    expect(refused.length).toBeGreaterThan(0);
    for (const error of refused) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(/this Redis is a cluster node/);
    }
    await admin.close();
  });

  it('the dashboard over HTTP says the same', async () => {
    const served = await serve({ redis: plainUrl(), namespace: 'resque' });
    try {
      const api = await served.client.get('/api/queues');
      expect(api.status).toBeGreaterThanOrEqual(400);
      expect(api.text).toContain('this Redis is a cluster node');
      const page = await served.client.get('/overview');
      expect(page.text).toContain('this Redis is a cluster node');
    } finally {
      await served.close();
    }
  });
});

describe('a cluster URL at a Redis without cluster support', () => {
  const clusterUrl = () => sharedRedisUrl().replace('redis://', 'redis+cluster://');

  it('the client says so, and writes nothing', async () => {
    const namespace = `{${uniqueNamespace('not-cluster')}}`;
    const resque = new Resque({ redis: clusterUrl(), namespace, commandRetries: 1 });
    const error = await resque.enqueue(Job).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/this Redis is not a cluster node .*use redis:\/\//);
    await resque.close();
    const raw = rawRedis();
    expect(await keysUnder(raw, namespace)).toEqual([]);
    await raw.quit();
  });

  it('the worker refuses to start, and writes nothing', async () => {
    const namespace = `{${uniqueNamespace('not-cluster')}}`;
    const worker = new Worker({
      redis: clusterUrl(),
      namespace,
      queues: ['q'],
      jobs: [Job],
      isolation: 'none',
      logLevel: 'silent',
      setProcessTitle: false,
    });
    const error = await worker.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/this Redis is not a cluster node/);
    const raw = rawRedis();
    expect(await keysUnder(raw, namespace)).toEqual([]);
    await raw.quit();
  });
});
