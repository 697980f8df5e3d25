// A primary of a cluster without replicas is killed: what the client and a running worker do. The killed node's keys
// are gone (no replica, no persistence); the client fails fast with a RedisConnectionError, the worker neither crashes
// nor exits, and once a node serves the slot again the worker takes new jobs.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Resque } from '../../src/client/resque.js';
import { RedisConnectionError } from '../../src/errors/index.js';
import { defineJob } from '../../src/jobs/define.js';
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

it('the client reports the lost slot, the worker waits, and both go on once the node is back', async () => {
  const namespace = '{primary-lost}';
  const ran: number[] = [];
  const Job = defineJob({ className: 'Job', queue: 'q', perform: (_ctx, n: number) => void ran.push(n) });
  const resque = new Resque({ redis: cluster.url, namespace, jobs: [Job], connectTimeoutMs: 500 });
  const worker = new Worker({
    redis: cluster.url,
    namespace,
    queues: ['q'],
    jobs: [Job],
    isolation: 'none',
    logLevel: 'silent',
    setProcessTitle: false,
    intervalMs: 100,
  });
  try {
    await worker.start();
    await resque.enqueue(Job, 1);
    await waitFor(() => ran.includes(1), 15_000, 'the first job');

    let workerFinished = false;
    void worker.finished.then(() => {
      workerFinished = true;
    });
    const ownerPort = await cluster.ownerOf(namespace);
    const killed = cluster.servers.find((s) => s.port === ownerPort)!;
    await killed.kill();

    const started = Date.now();
    const error = await resque.enqueue(Job, 2).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RedisConnectionError);
    expect((error as Error).message).toContain(cluster.url.replace('redis+cluster://', ''));
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(workerFinished).toBe(false);

    await killed.restart();
    await waitFor(
      async () =>
        (await resque.enqueue(Job, 3).then(
          () => true,
          () => false,
        )) || undefined,
      30_000,
      'an enqueue after the node came back',
    );
    await waitFor(() => ran.includes(3), 30_000, 'the worker to run a job after the node came back');
  } finally {
    await worker.stop().catch(() => {});
    await resque.close();
  }
});
