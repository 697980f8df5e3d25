import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { Resque } from '../../src/client/resque.js';
import { defineJob, withStatus } from '../../src/jobs/define.js';
import { ShardLayout } from '../../src/protocol/shard-layout.js';
import { OneSlotCluster } from '../../src/redis/cluster.js';
import { startRedisCluster } from '../harness/cluster.js';
import { spawnWorker, type WorkerProcess } from '../harness/processes.js';
import { checkLedger, type LedgerReport } from './ledger.js';

export interface ClusterChaosOptions {
  /** How long faults are injected; the drain and checks come after. */
  durationMs: number;
  /** Mean pause between two kill -9 of a worker. */
  workerKillEveryMs: number;
  /**
   * A namespace in 3 shards (`shards: 3`, one queue placed on each), one shard on each primary: the primary killed is
   * one shard's. Else a one-slot namespace.
   */
  sharded?: boolean;
  seed: number;
  log: (line: string) => void;
}

export interface ClusterChaosReport extends LedgerReport {
  /** Enqueues that returned: each was on a replica (waitForReplicas: 1) and must be performed. */
  confirmed: number;
  /** Enqueues that failed, by error name: not confirmed, so they may or may not have been written. */
  failedEnqueues: Record<string, number>;
  workerKills: { inProcess: number; supervised: number };
  /**
   * The primary killed, the replica promoted in its place, and ms from the kill until an enqueue to the killed
   * primary's namespace (shard) returned again.
   */
  failover: { killed: number; promoted: number; enqueuesBackAfterMs: number | undefined };
  /** Confirmed jobs enqueued to the killed primary's namespace (shard) after the failover, all performed. */
  confirmedAfterFailover: number;
}

const ONE_SLOT = '{chaos}';
const SHARDED = 'chaos';
/** The ledger of the sharded run: a one-slot namespace of its own, on another primary than the shard killed. */
const SHARDED_LEDGER = '{chaos-ledger}';
const QUEUE_SHARDS = { a: 0, b: 1, c: 2 };
/** Workers notice a dead one within seconds (the defaults take 10 s of silence, then a reaper pass). */
const SETTINGS = {
  RESQUE_LIVENESS_INTERVAL: '0.5',
  RESQUE_LIVENESS_TIMEOUT: '3',
  RESQUE_REAPER_INTERVAL: '1',
  RESQUE_MAX_RETURNS: '50',
  RESQUE_HEARTBEAT_INTERVAL: '1',
  INTERVAL: '0.2',
  CONCURRENCY: '4',
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A chaos run on a Redis Cluster (3 primaries, one replica each, and a second replica for the primary of the
 * namespace's slot, so that durable enqueues go on after its failover; sharded: of one shard's slot): durable enqueues (`waitForReplicas: 1`, plain
 * and status-tracked, which go through MULTI) of ledgered jobs, run by `resque work` processes of both kinds (in-process,
 * `RESQUE_ISOLATION=none`, and supervised children), which are killed with SIGKILL at random and started again; a
 * third of the way in, the primary serving the namespace's slot (sharded: one shard's) is killed with SIGKILL and its most up-to-date replica
 * promoted; later the old primary comes back as a replica. Then the workers drain and the ledger is checked: every
 * enqueue that returned was performed (at least once).
 */
export async function runClusterChaos(options: ClusterChaosOptions): Promise<ClusterChaosReport> {
  const random = mulberry32(options.seed);
  const sharded = options.sharded === true;
  const namespace = sharded ? SHARDED : ONE_SLOT;
  const ledgerNamespace = sharded ? SHARDED_LEDGER : ONE_SLOT;
  const queues = sharded ? Object.keys(QUEUE_SHARDS) : ['q'];
  const shardOptions = sharded ? { shards: 3, queueShards: QUEUE_SHARDS } : {};
  const cluster = await startRedisCluster({ replicas: 1 });
  const ledger = new OneSlotCluster(
    cluster.servers.map((s) => ({ host: '127.0.0.1', port: s.port })),
    { redisOptions: { maxRetriesPerRequest: null }, clusterRetryStrategy: () => 100 },
    ledgerNamespace,
  );
  ledger.on('error', () => {});
  const Record = defineJob({ className: 'LedgerRecord', queue: 'q', perform: (_ctx, _n: number) => {} });
  const Tracked = withStatus(Record);
  const resque = new Resque({
    redis: cluster.url,
    namespace,
    ...shardOptions,
    jobs: [Record],
    waitForReplicas: 1,
    replicaTimeoutMs: 500,
    connectTimeoutMs: 500,
  });
  /** Job n's queue: the queues in turn. */
  const queueOf = (n: number) => queues[n % queues.length]!;
  const confirmed = new Set<number>();
  const failedEnqueues: Record<string, number> = {};
  const workers = new Set<{ process: WorkerProcess; kind: 'none' | 'process' }>();
  const workerKills = { inProcess: 0, supervised: 0 };
  let keepWorkers = true;
  let producing = true;
  let next = 0;
  const fixture = fileURLToPath(new URL('../fixtures/cluster-jobs.mjs', import.meta.url));
  const spawnOne = (kind: 'none' | 'process') => {
    const process = spawnWorker(
      {
        ...SETTINGS,
        REDIS_URL: cluster.url,
        RESQUE_NAMESPACE: namespace,
        RESQUE_ISOLATION: kind,
        QUEUES: queues.join(','),
        LEDGER_NAMESPACE: ledgerNamespace,
        ...(sharded
          ? {
              RESQUE_SHARDS: '3',
              RESQUE_QUEUE_SHARDS: Object.entries(QUEUE_SHARDS)
                .map(([queue, shard]) => `${queue}=${shard}`)
                .join(','),
            }
          : {}),
      },
      ['--require', fixture],
    );
    const entry = { process, kind };
    workers.add(entry);
    void process.exited.then(() => {
      workers.delete(entry);
      if (keepWorkers) setTimeout(() => spawnOne(kind), 200);
    });
  };
  try {
    // The namespace killed: the one-slot namespace, or the shard of a queue on another primary than the ledger's.
    const ledgerPrimary = await cluster.ownerOf(ledgerNamespace);
    let killedQueues = queues;
    let slotPrimary = await cluster.ownerOf(namespace);
    if (sharded) {
      const layout = new ShardLayout(SHARDED, 3, new Map(Object.entries(QUEUE_SHARDS)));
      const owners = await Promise.all(layout.namespaces.map((ns) => cluster.ownerOf(ns)));
      if (new Set(owners).size !== 3)
        throw new Error(`the shards are not on three primaries: ${owners.join(', ')}`);
      const shard = owners.findIndex((port) => port !== ledgerPrimary);
      slotPrimary = owners[shard]!;
      killedQueues = queues.filter((queue) => layout.shardOf(queue) === shard);
      options.log(
        `shards on ${owners.join(', ')}; the ledger on ${ledgerPrimary}; shard ${shard} to be killed`,
      );
    }
    const onKilled = (n: number) => killedQueues.includes(queueOf(n));
    await cluster.addReplica(slotPrimary);
    for (const kind of ['none', 'none', 'process', 'process'] as const) spawnOne(kind);

    const produce = async () => {
      while (producing) {
        const n = ++next;
        try {
          await resque.enqueueTo(queueOf(n), n % 5 === 0 ? Tracked : Record, n);
          confirmed.add(n);
        } catch (error) {
          const name = (error as Error).name;
          failedEnqueues[name] = (failedEnqueues[name] ?? 0) + 1;
        }
        await sleep(5);
      }
    };
    const producers = [produce(), produce()];

    const killWorkers = async () => {
      const end = Date.now() + options.durationMs;
      while (Date.now() < end) {
        await sleep(options.workerKillEveryMs * (0.5 + random()));
        const alive = [...workers];
        if (alive.length === 0) continue;
        const victim = alive[Math.floor(random() * alive.length)]!;
        victim.process.signal('SIGKILL');
        if (victim.kind === 'none') workerKills.inProcess++;
        else workerKills.supervised++;
        options.log(
          `kill -9 ${victim.kind === 'none' ? 'in-process' : 'supervised'} worker ${victim.process.pid}`,
        );
      }
    };
    const killer = killWorkers();

    await sleep(options.durationMs / 3);
    const replicas = await cluster.replicasOf(slotPrimary);
    const killed = cluster.servers.find((s) => s.port === slotPrimary)!;
    await killed.kill();
    const killedAt = Date.now();
    const lastBeforeKill = next;
    // The replica the cluster's election would rank first: the one with the largest replication offset.
    const offsets = await Promise.all(
      replicas.map(async (port) => {
        const role = (await cluster.node(port).call('ROLE')) as [string, string, number, string, number];
        return { port, offset: Number(role[4]) };
      }),
    );
    const promoted = offsets.sort((a, b) => b.offset - a.offset)[0]!.port;
    await cluster.takeOver(promoted);
    options.log(`primary ${slotPrimary} killed, replica ${promoted} promoted`);
    const firstAfter = next;
    let enqueuesBackAfterMs: number | undefined;
    for (let waited = 0; waited < 30_000 && enqueuesBackAfterMs === undefined; waited += 50) {
      if ([...confirmed].some((n) => n > firstAfter && onKilled(n)))
        enqueuesBackAfterMs = Date.now() - killedAt;
      else await sleep(50);
    }
    await sleep(options.durationMs / 6);
    await killed.restart();
    options.log(`old primary ${slotPrimary} started again`);

    await killer;
    producing = false;
    await Promise.all(producers);
    // Drain with one live worker of each kind at least (the killer is done; replacements were started).
    const deadline = Date.now() + 120_000;
    const unperformed = async () => {
      const missing: number[] = [];
      const ids = [...confirmed];
      for (let i = 0; i < ids.length; i += 1000) {
        const pipeline = ledger.pipeline();
        const chunk = ids.slice(i, i + 1000);
        for (const n of chunk) pipeline.exists(`${ledgerNamespace}:test:ledger:${n}`);
        const results = (await pipeline.exec()) ?? [];
        chunk.forEach((n, k) => {
          if (Number(results[k]?.[1]) !== 1) missing.push(n);
        });
      }
      return missing;
    };
    let missing = await unperformed();
    while (missing.length > 0 && Date.now() < deadline) {
      await sleep(500);
      missing = await unperformed();
    }
    options.log(`drained: ${missing.length} confirmed jobs not performed`);
    const report = await checkLedger(ledger as unknown as Redis, ledgerNamespace, confirmed, new Set());
    return {
      ...report,
      confirmed: confirmed.size,
      failedEnqueues,
      workerKills,
      failover: { killed: slotPrimary, promoted, enqueuesBackAfterMs },
      confirmedAfterFailover: [...confirmed].filter((n) => n > lastBeforeKill && onKilled(n)).length,
    };
  } finally {
    producing = false;
    keepWorkers = false;
    for (const { process } of workers) process.signal('SIGTERM');
    await Promise.race([Promise.all([...workers].map(({ process }) => process.exited)), sleep(15_000)]);
    for (const { process } of workers) process.child.kill('SIGKILL');
    await resque.close().catch(() => {});
    ledger.disconnect();
    await cluster.stop();
  }
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
