import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { Keys, Resque } from '../../src/index.js';
import { parseInflight } from '../../src/worker/fetch/inflight.js';
import { spawnWorker, type WorkerProcess } from '../harness/processes.js';
import { removeDir, startRedis } from '../harness/redis-server.js';
import { checkLedger, type LedgerReport } from './ledger.js';

export interface ChaosOptions {
  /** How long faults are injected; the drain and checks come after. */
  durationMs: number;
  workers: number;
  concurrency: number;
  /** Mean pause between faults. */
  faultEveryMs: number;
  /** Jobs enqueued per second while faults run. */
  jobsPerSecond: number;
  seed: number;
  log: (line: string) => void;
}

export interface ChaosReport extends LedgerReport {
  faults: Record<string, number>;
  workerStarts: number;
  /** Worker processes still alive after the final QUIT and grace period: must be 0. */
  leftBehind: number;
  /** Registry entries of our dead workers still present at the end: must be 0. */
  staleRegistrations: string[];
  malformedPushed: number;
  /** For each kill -9 of a worker that held jobs: ms from the kill until none of its jobs was left in flight. */
  recoveryMs: number[];
}

const QUEUES = ['chaos_high', 'chaos_default', 'chaos_low'];
const NS = 'chaos';
const keys = new Keys(NS);
/**
 * The workers' settings: recovery (heartbeat, liveness, reaper, TERM) at their defaults. The job time limit is the
 * application's (the Hang jobs need one), the poll interval finds the malformed items pushed without a wake-up, and
 * a high maxReturns keeps jobs that were in flight during many kills running rather than failed.
 */
const SETTINGS = {
  RESQUE_MAX_RETURNS: '20',
  RESQUE_JOB_TIMEOUT: '2',
  RESQUE_JOB_TIMEOUT_GRACE: '0.5',
  INTERVAL: '0.5',
};

/**
 * Runs `resque work` processes against a private AOF Redis while enqueuing numbered jobs (some failing once and retried
 * 200 ms later, through the retry set) and breaking things at random
 * (kill -9, TERM/QUIT/INT/USR1/USR2+CONT, Redis stop/kill/freeze, malformed items, garbage in other clients' keys),
 * then drains, stops everything and checks the ledger: every job performed or failed with a reason, and every
 * duplicate explained by a job that was in flight when its worker was killed or Redis went away.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const random = mulberry32(options.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const server = await startRedis({ appendOnly: true });
  const redis = new Redis(server.url, { maxRetriesPerRequest: null });
  redis.on('error', () => {});
  const resque = new Resque({ redis: server.url, namespace: NS, commandRetries: 1000 });
  const jobs = new Set<number>();
  const atRisk = new Set<number>();
  const killedPids = new Set<string>();
  const recoveries: Array<Promise<number | undefined>> = [];
  const faults: Record<string, number> = {};
  const workers = new Set<WorkerProcess>();
  const allPids = new Set<number>();
  let workerStarts = 0;
  let malformedPushed = 0;
  let nextJob = 1;
  let producing = true;
  let redisDown = false;
  let keepWorkers = true;
  const count = (fault: string) => {
    faults[fault] = (faults[fault] ?? 0) + 1;
  };

  const spawnOne = () => {
    const worker = spawnWorker({
      ...SETTINGS,
      REDIS_URL: server.url,
      RESQUE_NAMESPACE: NS,
      QUEUES: QUEUES.join(','),
      CONCURRENCY: String(options.concurrency),
    });
    workers.add(worker);
    allPids.add(worker.pid);
    workerStarts++;
    void worker.exited.then(() => {
      workers.delete(worker);
      if (keepWorkers) setTimeout(spawnOne, 200);
    });
  };
  for (let i = 0; i < options.workers; i++) spawnOne();

  const inflightOf = async (pid?: number): Promise<number[]> => {
    const found: number[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${NS}:ts:inflight:*`, 'COUNT', 500);
      cursor = next;
      const mine = pid === undefined ? keys : keys.filter((key) => key.includes(`:${pid}:`));
      const values = mine.length > 0 ? await redis.mget(mine) : [];
      for (const value of values) {
        const job = parseInflight(value);
        const n = job ? firstArg(job.raw) : undefined;
        if (n !== undefined) found.push(n);
      }
    } while (cursor !== '0');
    return found;
  };
  /** Polls until none of a killed worker's jobs is in flight any more: given back (or failed) by a live reaper. */
  const timeToRecover = async (pid: number): Promise<number | undefined> => {
    const killedAt = Date.now();
    while (Date.now() - killedAt < 120_000) {
      await sleep(100);
      try {
        if ((await inflightOf(pid)).length === 0) return Date.now() - killedAt;
      } catch {
        // Redis is being broken by another fault: try again
      }
    }
    return undefined;
  };
  const markAtRisk = (ids: number[]) => {
    for (const id of ids) atRisk.add(id);
  };

  const produce = async () => {
    const interval = 1000 / Math.max(1, options.jobsPerSecond / 10);
    while (producing) {
      if (!redisDown) {
        const batch = Array.from({ length: 10 }, () => nextJob++);
        for (const n of batch) {
          const roll = random();
          const queue = pick(QUEUES);
          if (roll < 0.7) await resque.enqueueTo(queue, 'Record', n);
          else if (roll < 0.8) await resque.enqueueTo(queue, 'Slow', n, 50 + Math.floor(random() * 250));
          else if (roll < 0.88)
            await resque.enqueueTo(queue, 'Abortable', n, 50 + Math.floor(random() * 400));
          else if (roll < 0.92) await resque.enqueueTo(queue, 'FlakyOnce', n);
          else if (roll < 0.955) await resque.enqueueTo(queue, 'Fail', n);
          else if (roll < 0.96) await resque.enqueueTo(queue, 'Hang', n);
          else await resque.enqueueTo(queue, 'Record', n, 'x'.repeat(200_000));
          jobs.add(n);
        }
      }
      await sleep(interval);
    }
  };

  const faultsList: Array<[string, () => Promise<void>]> = [
    [
      'kill -9 worker',
      async () => {
        const victim = pick([...workers]);
        if (!victim) return;
        const held = await inflightOf(victim.pid);
        markAtRisk(held);
        killedPids.add(String(victim.pid));
        for (const child of childPids(victim.pid)) killedPids.add(String(child));
        victim.signal('SIGKILL');
        if (held.length > 0) recoveries.push(timeToRecover(victim.pid));
      },
    ],
    [
      'kill -9 child',
      async () => {
        const victim = pick([...workers]);
        const child = victim ? pick(childPids(victim.pid)) : undefined;
        if (!victim || child === undefined) return;
        markAtRisk(await inflightOf(victim.pid));
        killedPids.add(String(child));
        process.kill(child, 'SIGKILL');
      },
    ],
    ['TERM worker', async () => signalWorker('SIGTERM')],
    ['INT worker', async () => signalWorker('SIGINT')],
    ['QUIT worker', async () => signalWorker('SIGQUIT')],
    ['USR1 worker', async () => signalWorker('SIGUSR1')],
    [
      'USR2+CONT worker',
      async () => {
        const victim = pick([...workers]);
        victim?.signal('SIGUSR2');
        await sleep(300 + random() * 700);
        victim?.signal('SIGCONT');
      },
    ],
    [
      'restart Redis',
      async () =>
        redisOutage(async () => {
          await server.stop();
          await sleep(500 + random() * 1500);
          await server.restart();
        }),
    ],
    [
      'kill -9 Redis',
      async () =>
        redisOutage(async () => {
          await server.kill();
          await sleep(500 + random() * 1000);
          await server.restart();
        }),
    ],
    [
      'freeze Redis',
      async () =>
        redisOutage(async () => {
          server.pause();
          await sleep(1000 + random() * 2000);
          server.resume();
        }),
    ],
    [
      'malformed items',
      async () => {
        const queue = pick(QUEUES);
        const items = [
          'not json',
          '[1,2,3]',
          '"a string"',
          '{"args":[]}',
          '{"class":"Record","args":{}}',
          '{"class":"NoSuchJob","args":[-1]}',
          `{"class":"Record"`,
        ];
        await redis.rpush(`${NS}:queue:${queue}`, ...items);
        malformedPushed += items.length;
      },
    ],
    [
      'garbage from other clients',
      async () => {
        const ghost = `ghost-${Math.floor(random() * 1e6)}:1:${pick(QUEUES)}`;
        await redis
          .pipeline()
          .sadd(`${NS}:workers`, ghost)
          .hset(`${NS}:workers:heartbeat`, ghost, 'not a time')
          .set(`${NS}:worker:${ghost}`, 'not json {')
          .rpush(`${NS}:failed`, 'garbage that is not a failure record')
          .exec();
      },
    ],
  ];

  async function signalWorker(signal: NodeJS.Signals) {
    const victim = pick([...workers]);
    if (!victim) return;
    markAtRisk(await inflightOf(victim.pid));
    if (signal !== 'SIGQUIT') for (const child of childPids(victim.pid)) killedPids.add(String(child));
    victim.signal(signal);
  }

  async function redisOutage(action: () => Promise<void>) {
    redisDown = true;
    await sleep(50);
    markAtRisk(await inflightOf());
    await action();
    redisDown = false;
  }

  const producer = produce();
  const deadline = Date.now() + options.durationMs;
  while (Date.now() < deadline) {
    await sleep(options.faultEveryMs * (0.5 + random()));
    for (const worker of workers) for (const child of childPids(worker.pid)) allPids.add(child);
    const [name, fault] = pick(faultsList);
    options.log(
      `fault: ${name} (workers ${[...workers].map((w) => `${w.pid}[${childPids(w.pid).join(',')}]`).join(' ')})`,
    );
    count(name);
    try {
      await fault();
    } catch (error) {
      options.log(`fault ${name} errored: ${(error as Error).message}`);
    }
  }
  producing = false;
  await producer;

  options.log(`draining ${jobs.size} jobs`);
  const drained = Date.now() + 120_000;
  for (;;) {
    const sizes = await Promise.all(QUEUES.map((q) => redis.llen(`${NS}:queue:${q}`)));
    const inflight = await inflightOf();
    const retrying = await redis.zcard(keys.retrySet);
    if (sizes.every((n) => n === 0) && inflight.length === 0 && retrying === 0) break;
    if (Date.now() > drained) {
      options.log(
        `drain timed out: queues ${sizes.join(',')}, in flight ${inflight.length}, retrying ${retrying}`,
      );
      break;
    }
    await sleep(250);
  }

  // Dead workers are unregistered by a live worker's reaper once their heartbeat expires: give it the time.
  const ours = (id: string) => [...allPids].some((pid) => id.includes(`:${pid}:`));
  const live = () => [...workers].map((w) => w.pid);
  const cleaned = Date.now() + 30_000;
  while (Date.now() < cleaned) {
    const ids = [
      ...(await redis.smembers(`${NS}:workers`)),
      ...Object.keys(await redis.hgetall(`${NS}:workers:heartbeat`)),
    ];
    const stale = ids.filter((id) => ours(id) && !live().some((pid) => id.includes(`:${pid}:`)));
    if (stale.length === 0) break;
    await sleep(250);
  }
  keepWorkers = false;
  for (const worker of workers) worker.signal('SIGQUIT');
  // A worker respawned late in the run may still be starting (loading the job modules in its children takes tens of
  // seconds on a loaded 2-core machine); it leaves once its start-up is over.
  await Promise.race([Promise.all([...workers].map((w) => w.exited)), sleep(60_000)]);
  const leftBehind = [...allPids].filter(isAlive);
  for (const pid of leftBehind) options.log(`left behind: ${describeProcess(pid)}`);
  for (const pid of leftBehind) process.kill(pid, 'SIGKILL');

  const registered = await redis.smembers(`${NS}:workers`);
  const beats = Object.keys(await redis.hgetall(`${NS}:workers:heartbeat`));
  const staleRegistrations = [...new Set([...registered, ...beats])].filter(ours);

  for (const pid of Object.values(await redis.hgetall(`${NS}:test:hung`))) killedPids.add(pid);
  const ledger = await checkLedger(redis, NS, jobs, atRisk, killedPids);
  redis.disconnect();
  await resque.close();
  await server.stop();
  removeDir(server.dir);
  const recoveryMs = (await Promise.all(recoveries)).map((ms) => ms ?? Number.POSITIVE_INFINITY);
  return {
    ...ledger,
    recoveryMs,
    faults,
    workerStarts,
    leftBehind: leftBehind.length,
    staleRegistrations,
    malformedPushed,
  };
}

function firstArg(raw: string): number | undefined {
  try {
    const value = JSON.parse(raw) as { args?: unknown[] };
    return typeof value.args?.[0] === 'number' ? value.args[0] : undefined;
  } catch {
    return undefined;
  }
}

function childPids(pid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .map((line) => Number(line.trim()))
      .filter((n) => n > 0);
  } catch {
    return [];
  }
}

function describeProcess(pid: number): string {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) => new RegExp(`^${name}:\\s+(.*)$`, 'm').exec(status)?.[1] ?? '?';
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
    return `${pid} ppid ${field('PPid')} state ${field('State')}: ${cmdline}`;
  } catch {
    return `${pid} (gone)`;
  }
}

/** Running, not a zombie: a child whose supervisor was killed is re-parented, and its new parent may never reap it. */
function isAlive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A small seeded PRNG so a failing run can be replayed with its seed. */
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
