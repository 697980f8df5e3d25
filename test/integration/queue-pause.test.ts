// Pausing one queue (ts:paused-queues) across worker processes, and Ruby's pause-all-workers, through the client
// API and the CLI.
import { afterEach, describe, expect, it } from 'vitest';
import { Resque } from '../../src/index.js';
import { resqueInProcess as runCli } from '../harness/cli-in-process.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace, waitFor } from '../harness/context.js';
import { spawnWorker, type WorkerProcess } from '../harness/processes.js';

const running: WorkerProcess[] = [];
afterEach(async () => {
  for (const worker of running.splice(0)) {
    worker.signal('SIGTERM');
    await worker.exited;
  }
});

function worker(namespace: string, queues: string): WorkerProcess {
  const started = spawnWorker({ REDIS_URL: sharedRedisUrl(), RESQUE_NAMESPACE: namespace }, [
    '--queues',
    queues,
    '--isolation',
    'none',
    '--interval',
    '60',
  ]);
  running.push(started);
  return started;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('pausing a queue', () => {
  it('stops every worker process taking from it, others go on, and resuming wakes them without a poll', async () => {
    const namespace = uniqueNamespace('pause');
    const redis = rawRedis();
    const resque = new Resque({ redis: sharedRedisUrl(), namespace });
    const ledger = (n: number) => redis.hlen(`${namespace}:test:ledger:${n}`);
    await resque.watchQueue('billing');
    await resque.watchQueue('mail');
    expect(await resque.pauseQueue('billing')).toBe(true);
    expect(await resque.pauseQueue('billing')).toBe(false);
    const workers = [worker(namespace, 'billing,mail'), worker(namespace, '*')];
    await waitFor(async () => (await redis.scard(`${namespace}:workers`)) === 2, 20_000, 'two workers');
    for (let n = 1; n <= 5; n++) await resque.enqueueTo('billing', 'Record', n);
    await resque.enqueueTo('mail', 'Record', 100);
    await waitFor(async () => (await ledger(100)) === 1, 15_000, 'the mail job');
    // The billing jobs stay queued: the workers were woken (mail) and reserved past them.
    await sleep(500);
    expect(await redis.llen(`${namespace}:queue:billing`)).toBe(5);
    expect([...(await resque.pausedQueues()).keys()]).toEqual(['billing']);
    // The poll interval is 60 s: resuming must wake a worker itself.
    expect(await resque.resumeQueue('billing')).toBe(true);
    await waitFor(
      async () => (await redis.llen(`${namespace}:queue:billing`)) === 0,
      15_000,
      'billing drained',
    );
    for (let n = 1; n <= 5; n++) await waitFor(async () => (await ledger(n)) === 1, 15_000, `job ${n}`);
    expect(workers.every((w) => w.child.exitCode === null)).toBe(true);
    await resque.close();
    redis.disconnect();
  }, 60_000);

  it('from the CLI: queue pause, queues shows it, queue resume; pause-all sets Ruby’s key', async () => {
    const namespace = uniqueNamespace('pause-cli');
    const redis = rawRedis();
    await redis.sadd(`${namespace}:queues`, 'reports');
    const cli = (...args: string[]) =>
      runCli([...args, '--redis', sharedRedisUrl(), '--namespace', namespace]);
    const paused = await cli('queue', 'pause', 'reports');
    expect(paused.stdout).toContain('paused reports');
    expect(await redis.hexists(`${namespace}:ts:paused-queues`, 'reports')).toBe(1);
    const listed = await cli('queues', '--json');
    expect(JSON.parse(listed.stdout)[0]).toMatchObject({ name: 'reports', pausedAt: expect.any(String) });
    expect((await cli('queue', 'resume', 'reports')).stdout).toContain('resumed reports');
    expect(await redis.exists(`${namespace}:ts:paused-queues`)).toBe(0);
    const unknown = await cli('queue', 'pause', 'nope');
    expect(unknown.code).toBe(1);
    expect((await cli('queue', 'pause-all')).code).toBe(0);
    expect(await redis.get(`${namespace}:pause-all-workers`)).toBe('true');
    expect((await cli('queue', 'resume-all')).code).toBe(0);
    expect(await redis.exists(`${namespace}:pause-all-workers`)).toBe(0);
    redis.disconnect();
  }, 60_000);

  it('a push onto a paused queue wakes nobody', async () => {
    const namespace = uniqueNamespace('pause-wake');
    const redis = rawRedis();
    const resque = new Resque({ redis: sharedRedisUrl(), namespace });
    await resque.pauseQueue('quiet');
    await resque.enqueueTo('quiet', 'Record', 1);
    expect(await redis.exists(`${namespace}:ts:wake:quiet`)).toBe(0);
    expect(await redis.zrange(`${namespace}:ts:queues:non-empty`, 0, -1)).toEqual(['quiet']);
    await resque.resumeQueue('quiet');
    expect(await redis.lrange(`${namespace}:ts:wake:quiet`, 0, -1)).toEqual(['quiet']);
    await resque.close();
    redis.disconnect();
  });
});
