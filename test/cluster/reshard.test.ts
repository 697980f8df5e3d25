// Resharding with the real tool: `redis-cli --cluster reshard` moves the namespace's slot to another primary, twice
// (with the default `--cluster-pipeline 10`, then with 1000 as docs/cluster.md recommends), while an in-process worker
// and a supervised `resque work` run a stream of ledgered jobs and the client enqueues more. Every job enqueued runs,
// none is lost, none fails, no call reaches the client or a worker as an error, and nothing of the namespace is left
// on the old primaries.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import calculateSlot from 'cluster-key-slot';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Resque } from '../../src/client/resque.js';
import { defineJob } from '../../src/jobs/define.js';
import type { LogFields } from '../../src/logging/logger.js';
import { OneSlotCluster } from '../../src/redis/cluster.js';
import { Worker } from '../../src/worker/worker.js';
import { type RedisClusterHarness, startRedisCluster } from '../harness/cluster.js';
import { waitFor } from '../harness/context.js';
import { spawnWorker } from '../harness/processes.js';
import { checkLedger } from '../resilience/ledger.js';

const run = promisify(execFile);

let cluster: RedisClusterHarness;
let ledger: OneSlotCluster | undefined;
beforeAll(async () => {
  cluster = await startRedisCluster({ replicas: 1 });
});
afterAll(async () => {
  ledger?.disconnect();
  await cluster?.stop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A tagged namespace in slot 0. `redis-cli --cluster reshard --cluster-slots 1` moves its source's lowest slot, and
 * slot 0 is the lowest of whichever primary holds it: each reshard below moves the namespace's slot.
 */
function namespaceInSlotZero(): string {
  for (let i = 0; ; i++) if (calculateSlot(`{reshard-${i}}`) === 0) return `{reshard-${i}}`;
}

async function reshard(namespace: string, toPort: number, pipeline: number): Promise<string> {
  const id = async (port: number) => String(await cluster.node(port).call('CLUSTER', 'MYID'));
  const fromPort = await cluster.ownerOf(namespace);
  const { stdout } = await run('redis-cli', [
    '--cluster',
    'reshard',
    `127.0.0.1:${fromPort}`,
    '--cluster-from',
    await id(fromPort),
    '--cluster-to',
    await id(toPort),
    '--cluster-slots',
    '1',
    '--cluster-pipeline',
    String(pipeline),
    '--cluster-yes',
  ]);
  return stdout;
}

it('redis-cli --cluster reshard moves the namespace slot under load: every job runs, none is lost', {
  timeout: 180_000,
}, async () => {
  const NS = namespaceInSlotZero();
  ledger = new OneSlotCluster(
    cluster.servers.map((s) => ({ host: '127.0.0.1', port: s.port })),
    { redisOptions: { maxRetriesPerRequest: null } },
    NS,
  );
  ledger.on('error', () => {});
  const ledgerRedis = ledger;
  const Record = defineJob({
    className: 'LedgerRecord',
    queue: 'q',
    perform: async (_ctx, n: number) => {
      await ledgerRedis.hset(
        `${NS}:test:ledger:${n}`,
        Math.random().toString(36).slice(2),
        String(process.pid),
      );
    },
  });
  const resque = new Resque({ redis: cluster.url, namespace: NS, jobs: [Record] });
  const warnings: string[] = [];
  const note = (message: string, fields?: LogFields) =>
    warnings.push(`${message} ${JSON.stringify(fields ?? {})}`);
  const inProcess = new Worker({
    redis: cluster.url,
    namespace: NS,
    queues: ['q'],
    jobs: [Record],
    isolation: 'none',
    concurrency: 4,
    logger: { error: note, warn: note, info: () => {}, debug: () => {} },
    setProcessTitle: false,
    intervalMs: 100,
  });
  const supervised = spawnWorker(
    {
      REDIS_URL: cluster.url,
      RESQUE_NAMESPACE: NS,
      RESQUE_ISOLATION: 'process',
      COUNT: '1',
      CONCURRENCY: '4',
      QUEUES: 'q',
      INTERVAL: '0.2',
    },
    ['--require', fileURLToPath(new URL('../fixtures/cluster-jobs.mjs', import.meta.url))],
  );
  const enqueued = new Set<number>();
  const failedEnqueues: string[] = [];
  let next = 0;
  let producing = true;
  const produce = async () => {
    while (producing) {
      const batch = Array.from({ length: 20 }, () => ++next);
      try {
        await resque.enqueueBulk(
          Record,
          batch.map((n) => [n]),
        );
        for (const n of batch) enqueued.add(n);
      } catch (error) {
        failedEnqueues.push(`${batch[0]}…: ${(error as Error).message}`);
      }
      await sleep(5);
    }
  };
  try {
    await inProcess.start();
    const producer = produce();
    await waitFor(
      async () => (await ledgerRedis.exists(`${NS}:test:ledger:500`)) === 1,
      60_000,
      'the first 500 jobs',
    );
    const owners = [await cluster.ownerOf(NS)];
    for (const pipeline of [10, 1000]) {
      const to = (await cluster.primaryPorts()).find((port) => !owners.includes(port))!;
      const output = await reshard(NS, to, pipeline);
      expect(output).toContain('Moving slot 0 from');
      expect(await cluster.ownerOf(NS)).toBe(to);
      owners.push(to);
      const enqueuedBefore = next;
      await waitFor(() => next > enqueuedBefore + 200 || undefined, 30_000, '200 more enqueues');
    }
    producing = false;
    await producer;
    const total = next;
    await waitFor(
      async () => (await ledgerRedis.exists(`${NS}:test:ledger:${total}`)) === 1,
      60_000,
      'the last job',
    );
    await waitFor(async () => (await resque.size('q')) === 0, 60_000, 'the queue to drain');
    await waitFor(async () => (await resque.info()).working === 0, 30_000, 'the workers to finish');

    const report = await checkLedger(ledgerRedis as unknown as Redis, NS, enqueued, new Set());
    const context = JSON.stringify({
      failedEnqueues: failedEnqueues.slice(0, 5),
      warnings: warnings.filter((line) => !line.includes('persists nothing')).slice(0, 5),
      duplicated: report.duplicated.slice(0, 10),
      supervised: supervised.output().slice(-2000),
    });
    expect(failedEnqueues, context).toEqual([]);
    expect(enqueued.size, context).toBe(total);
    expect(report.lost, context).toEqual([]);
    expect(report.failedByReason, context).toEqual({});
    expect(report.duplicated, context).toEqual([]);
    expect(
      warnings.filter((line) => !line.includes('persists nothing')),
      context,
    ).toEqual([]);
    // Both workers ran jobs, and nothing of the namespace is left on the old primaries.
    const pids = new Set<string>();
    for (let n = Math.max(1, total - 500); n <= total; n++)
      for (const pid of Object.values(await ledgerRedis.hgetall(`${NS}:test:ledger:${n}`))) pids.add(pid);
    expect(pids.has(String(process.pid)), context).toBe(true);
    expect(pids.has(String(supervised.pid)) || pids.size > 1, context).toBe(true);
    for (const port of owners.slice(0, -1)) {
      const [, left] = await cluster.node(port).scan('0', 'MATCH', `${NS}:*`, 'COUNT', 100_000);
      expect(left, `keys left on ${port}`).toEqual([]);
    }
  } finally {
    producing = false;
    await inProcess.stop().catch(() => {});
    supervised.signal('SIGTERM');
    await Promise.race([supervised.exited, sleep(15_000)]);
    supervised.child.kill('SIGKILL');
    await resque.close();
  }
});
