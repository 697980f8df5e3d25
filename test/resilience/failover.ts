import { Redis } from 'ioredis';
import { NotReplicatedError, Resque, redisOptionsFromUrl } from '../../src/index.js';
import { spawnWorker, type WorkerProcess } from '../harness/processes.js';
import { startSentinelCluster } from '../harness/sentinel.js';
import { checkLedger } from './ledger.js';

export interface FailoverOptions {
  /** Enqueue with `waitForReplicas: 1` (the durable option) instead of Redis's asynchronous replication. */
  durable: boolean;
  jobsPerSecond: number;
  /** Load before and after the primary is killed. */
  phaseMs: number;
  log: (line: string) => void;
}

export interface FailoverReport {
  durable: boolean;
  /** Enqueues the client saw succeed: each must be performed (or failed with a reason). */
  confirmed: number;
  /** Enqueues that failed (connection lost mid-failover, or NotReplicatedError): the caller knows to retry them. */
  unconfirmed: number;
  notReplicated: number;
  /** Confirmed jobs neither performed nor failed. */
  lost: number[];
  duplicated: number;
  failoverMs: number;
}

const NS = 'failover';

/**
 * Kills the primary of a Sentinel-managed pair under load: the client and `resque work` processes follow the
 * failover through Sentinel and carry on; the ledger then shows what, if anything, was lost.
 */
export async function runFailover(options: FailoverOptions): Promise<FailoverReport> {
  const cluster = await startSentinelCluster();
  const resque = new Resque({
    redis: cluster.url,
    namespace: NS,
    commandRetries: 20,
    waitForReplicas: options.durable ? 1 : 0,
    replicaTimeoutMs: 500,
  });
  const env = {
    REDIS_URL: cluster.url,
    RESQUE_NAMESPACE: NS,
    QUEUES: 'ha',
    CONCURRENCY: '4',
    INTERVAL: '0.5',
    RESQUE_HEARTBEAT_INTERVAL: '0.5',
    RESQUE_PRUNE_INTERVAL: '3',
    RESQUE_REAPER_INTERVAL: '1',
  };
  const workers: WorkerProcess[] = [spawnWorker(env), spawnWorker(env)];
  const confirmed = new Set<number>();
  let unconfirmed = 0;
  let notReplicated = 0;
  let next = 1;
  let producing = true;
  const produce = async () => {
    while (producing) {
      const n = next++;
      try {
        await resque.enqueueTo('ha', 'Record', n);
        confirmed.add(n);
      } catch (error) {
        if (error instanceof NotReplicatedError) notReplicated++;
        unconfirmed++;
      }
      await new Promise((r) => setTimeout(r, 1000 / options.jobsPerSecond));
    }
  };
  const producer = produce();
  await sleep(options.phaseMs);
  options.log(`killing primary on port ${cluster.primary.port}`);
  const killedAt = Date.now();
  await cluster.primary.kill();
  while ((await cluster.currentPrimaryPort()) !== cluster.replica.port) await sleep(100);
  const failoverMs = Date.now() - killedAt;
  options.log(`sentinels promoted port ${cluster.replica.port} after ${failoverMs} ms`);
  await sleep(options.phaseMs / 2);
  await cluster.primary.restart();
  options.log('old primary restarted (sentinels make it a replica)');
  await sleep(options.phaseMs / 2);
  producing = false;
  await producer;

  const redis = new Redis({ ...redisOptionsFromUrl(cluster.url), maxRetriesPerRequest: null });
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const [size, inflight] = await Promise.all([
      redis.llen(`${NS}:queue:ha`),
      redis.keys(`${NS}:ts:inflight:*`),
    ]);
    if (size === 0 && inflight.length === 0) break;
    await sleep(250);
  }
  for (const worker of workers) worker.signal('SIGQUIT');
  await Promise.race([Promise.all(workers.map((w) => w.exited)), sleep(15_000)]);
  for (const worker of workers) worker.child.kill('SIGKILL');
  const ledger = await checkLedger(redis, NS, confirmed, new Set());
  redis.disconnect();
  await resque.close();
  await cluster.stop();
  return {
    durable: options.durable,
    confirmed: confirmed.size,
    unconfirmed,
    notReplicated,
    lost: ledger.lost,
    duplicated: ledger.duplicated.length,
    failoverMs,
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
