import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { Resque } from '../../src/index.js';
import { spawnWorker, type WorkerProcess } from '../harness/processes.js';
import { removeDir, startRedis } from '../harness/redis-server.js';

export interface SoakOptions {
  durationMs: number;
  jobsPerSecond: number;
  sampleEveryMs: number;
  workerArgs: string[];
  log: (line: string) => void;
}

export interface MemorySample {
  atSeconds: number;
  /** RSS in MiB of each worker process and of each of its children, summed per role. */
  supervisorMb: number;
  childrenMb: number;
  processed: number;
}

export interface SoakReport {
  samples: MemorySample[];
  jobs: number;
  processed: number;
  /** Mean RSS over the first and the last fifth of the run, per role. */
  supervisorStartMb: number;
  supervisorEndMb: number;
  childrenStartMb: number;
  childrenEndMb: number;
}

const NS = 'soak';

/** Steady load on `resque work` processes with their memory sampled, to see whether it stays flat. */
export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const server = await startRedis();
  const redis = new Redis(server.url);
  const resque = new Resque({ redis: server.url, namespace: NS });
  const env = { REDIS_URL: server.url, RESQUE_NAMESPACE: NS, QUEUES: 'soak', INTERVAL: '1' };
  const workers: WorkerProcess[] = [
    spawnWorker(env, options.workerArgs),
    spawnWorker(env, options.workerArgs),
  ];
  const samples: MemorySample[] = [];
  const started = Date.now();
  let jobs = 0;
  let nextSample = started + options.sampleEveryMs;
  const tick = 100;
  while (Date.now() - started < options.durationMs) {
    const batch = Math.max(1, Math.round((options.jobsPerSecond * tick) / 1000));
    await resque.enqueueBulk(
      'Record',
      Array.from({ length: batch }, () => [++jobs]),
      { queue: 'soak' },
    );
    if (Date.now() >= nextSample) {
      nextSample += options.sampleEveryMs;
      const sample = {
        atSeconds: Math.round((Date.now() - started) / 1000),
        supervisorMb: round(sum(workers.map((w) => rssMb(w.pid)))),
        childrenMb: round(sum(workers.flatMap((w) => childPids(w.pid)).map(rssMb))),
        processed: Number((await redis.get(`${NS}:stat:processed`)) ?? 0),
      };
      samples.push(sample);
      options.log(JSON.stringify(sample));
    }
    await new Promise((r) => setTimeout(r, tick));
  }
  for (const worker of workers) worker.signal('SIGQUIT');
  await Promise.all(workers.map((w) => w.exited));
  const processed = Number((await redis.get(`${NS}:stat:processed`)) ?? 0);
  redis.disconnect();
  await resque.close();
  await server.stop();
  removeDir(server.dir);
  const fifth = Math.max(1, Math.floor(samples.length / 5));
  const mean = (list: MemorySample[], key: 'supervisorMb' | 'childrenMb') =>
    round(sum(list.map((s) => s[key])) / Math.max(1, list.length));
  return {
    samples,
    jobs,
    processed,
    supervisorStartMb: mean(samples.slice(0, fifth), 'supervisorMb'),
    supervisorEndMb: mean(samples.slice(-fifth), 'supervisorMb'),
    childrenStartMb: mean(samples.slice(0, fifth), 'childrenMb'),
    childrenEndMb: mean(samples.slice(-fifth), 'childrenMb'),
  };
}

function rssMb(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? round(Number(match[1]) / 1024) : 0;
  } catch {
    return 0;
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

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
const round = (n: number) => Math.round(n * 10) / 10;
