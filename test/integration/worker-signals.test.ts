import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Resque } from '../../src/index.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace, waitFor } from '../harness/context.js';
import { spawnWorker, type WorkerProcess } from '../harness/processes.js';

let redis: Redis;
const spawned: WorkerProcess[] = [];
beforeAll(() => {
  redis = rawRedis();
});
afterAll(() => redis.disconnect());
afterEach(() => {
  for (const w of spawned.splice(0)) w.child.kill('SIGKILL');
});

function start(namespace: string, env: Record<string, string> = {}, args: string[] = []): WorkerProcess {
  const worker = spawnWorker(
    // Jobs in the worker's own process; test/integration/supervisor-signals.test.ts runs the same with children.
    {
      REDIS_URL: sharedRedisUrl(),
      RESQUE_NAMESPACE: namespace,
      QUEUES: 'q',
      INTERVAL: '0.2',
      RESQUE_ISOLATION: 'none',
      ...env,
    },
    args,
  );
  spawned.push(worker);
  return worker;
}

async function registered(namespace: string, worker: WorkerProcess): Promise<string> {
  return waitFor(
    async () => (await redis.smembers(`${namespace}:workers`)).find((id) => id.includes(`:${worker.pid}:`)),
    15_000,
    'registration',
  );
}

const ledgerCount = async (namespace: string, n: number) => redis.hlen(`${namespace}:test:ledger:${n}`);
const started = async (namespace: string, n: number) =>
  (await redis.hexists(`${namespace}:test:started`, String(n))) === 1;

describe('resque work and signals', () => {
  it('QUIT lets the running job finish, takes no more, unregisters and exits 0', async () => {
    const namespace = uniqueNamespace('quit');
    const resque = new Resque({ redis: sharedRedisUrl(), namespace });
    const worker = start(namespace);
    const id = await registered(namespace, worker);
    expect(id.split(':')).toHaveLength(3);
    await resque.enqueueTo('q', 'Slow', 1, 600);
    await resque.enqueueTo('q', 'Record', 2);
    await waitFor(() => started(namespace, 1));
    worker.signal('SIGQUIT');
    expect(await worker.exited).toEqual({ code: 0, signal: null });
    expect(await ledgerCount(namespace, 1)).toBe(1);
    expect(await ledgerCount(namespace, 2)).toBe(0);
    expect(await resque.size('q')).toBe(1);
    expect(await redis.smembers(`${namespace}:workers`)).toEqual([]);
    await resque.close();
  });

  it.each(['SIGTERM', 'SIGINT'] as const)(
    '%s aborts the running job after the grace period and returns it to its queue',
    async (signal) => {
      const namespace = uniqueNamespace('term');
      const resque = new Resque({ redis: sharedRedisUrl(), namespace });
      const worker = start(namespace, { RESQUE_TERM_TIMEOUT: '0.3' });
      await registered(namespace, worker);
      await resque.enqueueTo('q', 'Slow', 1, 60_000);
      await waitFor(() => started(namespace, 1));
      worker.signal(signal);
      expect((await worker.exited).code).toBe(0);
      const [item] = await resque.peek('q');
      expect(item?.payload).toMatchObject({ class: 'Slow', args: [1, 60_000] });
      expect(item?.payload?.returns).toBeUndefined();
      expect(await redis.llen(`${namespace}:failed`)).toBe(0);
      expect(await redis.smembers(`${namespace}:workers`)).toEqual([]);
      expect(await redis.keys(`${namespace}:ts:inflight:*`)).toEqual([]);
      await resque.close();
    },
  );

  it('TERM gives an abortable job its signal; the interrupted job goes back to its queue, not to failed', async () => {
    const namespace = uniqueNamespace('abort');
    const resque = new Resque({ redis: sharedRedisUrl(), namespace });
    const worker = start(namespace, { RESQUE_TERM_TIMEOUT: '5' });
    await registered(namespace, worker);
    await resque.enqueueTo('q', 'Abortable', 1, 60_000);
    await waitFor(() => started(namespace, 1));
    worker.signal('SIGTERM');
    expect((await worker.exited).code).toBe(0);
    expect(await resque.size('q')).toBe(1);
    expect(await redis.llen(`${namespace}:failed`)).toBe(0);
    await resque.close();
  });

  it('GRACEFUL_TERM makes TERM behave like QUIT', async () => {
    const namespace = uniqueNamespace('graceful');
    const resque = new Resque({ redis: sharedRedisUrl(), namespace });
    const worker = start(namespace, { GRACEFUL_TERM: '1', RESQUE_TERM_TIMEOUT: '0.1' });
    await registered(namespace, worker);
    await resque.enqueueTo('q', 'Slow', 1, 500);
    await waitFor(() => started(namespace, 1));
    worker.signal('SIGTERM');
    expect((await worker.exited).code).toBe(0);
    expect(await ledgerCount(namespace, 1)).toBe(1);
    expect(await resque.size('q')).toBe(0);
    await resque.close();
  });

  it('USR2 pauses (jobs wait, title says Paused) and CONT resumes', async () => {
    const namespace = uniqueNamespace('pause');
    const resque = new Resque({ redis: sharedRedisUrl(), namespace });
    const worker = start(namespace);
    await registered(namespace, worker);
    worker.signal('SIGUSR2');
    await waitFor(async () => (await readTitle(worker.pid)).includes('Paused'), 10_000, 'Paused title');
    await resque.enqueueTo('q', 'Record', 1);
    await new Promise((r) => setTimeout(r, 600));
    expect(await ledgerCount(namespace, 1)).toBe(0);
    worker.signal('SIGCONT');
    await waitFor(async () => (await ledgerCount(namespace, 1)) === 1, 10_000, 'job after CONT');
    worker.signal('SIGQUIT');
    await worker.exited;
    await resque.close();
  });

  it('a second TERM exits at once; the reaper of another worker returns the job and it is performed', async () => {
    const namespace = uniqueNamespace('twice');
    const resque = new Resque({ redis: sharedRedisUrl(), namespace });
    const fast = {
      RESQUE_HEARTBEAT_INTERVAL: '0.2',
      RESQUE_PRUNE_INTERVAL: '1',
      RESQUE_REAPER_INTERVAL: '0.3',
    };
    const first = start(namespace, { ...fast, RESQUE_TERM_TIMEOUT: '30' });
    await registered(namespace, first);
    await resque.enqueueTo('q', 'Slow', 1, 1500);
    await waitFor(() => started(namespace, 1));
    first.signal('SIGTERM');
    await new Promise((r) => setTimeout(r, 100));
    first.signal('SIGTERM');
    expect((await first.exited).code).toBe(1);
    expect(await ledgerCount(namespace, 1)).toBe(0);
    const second = start(namespace, fast);
    await waitFor(async () => (await ledgerCount(namespace, 1)) === 1, 20_000, 'the returned job to run');
    expect((await redis.smembers(`${namespace}:workers`)).every((id) => id.includes(`:${second.pid}`))).toBe(
      true,
    );
    second.signal('SIGQUIT');
    await second.exited;
    await resque.close();
  });
});

async function readTitle(pid: number): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  try {
    return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).replace(/\0/g, ' ');
  } catch {
    return '';
  }
}
