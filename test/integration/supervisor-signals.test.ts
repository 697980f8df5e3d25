// Resque's signals sent to a supervised worker (docs/protocol.md, Signals, with TERM_CHILD semantics): what happens
// to its children and to the jobs they hold. No job is lost in any of them.
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobRegistry, Resque, resolveConfig } from '../../src/index.js';
import { createLogger } from '../../src/logging/logger.js';
import { loadAppModules } from '../../src/worker/load-jobs.js';
import { SupervisedExecutor } from '../../src/worker/supervisor/supervised-executor.js';
import { Worker } from '../../src/worker/worker.js';
import { rawRedis, sharedRedisUrl, uniqueNamespace, waitFor } from '../harness/context.js';
import {
  awaitFailures,
  awaitPerformed,
  awaitStarted,
  childrenOf,
  isAlive,
  readTitle,
  readyChildren,
  startSupervised,
} from '../harness/supervised.js';

const FAST_REAPER = {
  RESQUE_HEARTBEAT_INTERVAL: '0.2',
  RESQUE_PRUNE_INTERVAL: '1',
  RESQUE_REAPER_INTERVAL: '0.3',
};
let redis: Redis;
beforeAll(() => {
  redis = rawRedis();
});
afterAll(() => redis.disconnect());

const client = (namespace: string) => new Resque({ redis: sharedRedisUrl(), namespace });
const ledger = (namespace: string, n: number) => redis.hlen(`${namespace}:test:ledger:${n}`);

describe('signals to a supervised worker', () => {
  it('QUIT waits for the children to finish their jobs, then they and the worker exit', async () => {
    const namespace = uniqueNamespace('quit');
    const resque = client(namespace);
    const worker = startSupervised(namespace, { COUNT: '2' });
    const children = await readyChildren(worker, 2);
    await resque.enqueueTo('q', 'Slow', 1, 800);
    await resque.enqueueTo('q', 'Slow', 2, 800);
    await awaitStarted(redis, namespace, 1);
    await awaitStarted(redis, namespace, 2);
    await resque.enqueueTo('q', 'Ok', 3);
    worker.signal('SIGQUIT');
    expect(await worker.exited).toEqual({ code: 0, signal: null });
    expect([await ledger(namespace, 1), await ledger(namespace, 2), await ledger(namespace, 3)]).toEqual([
      1, 1, 0,
    ]);
    expect(await resque.size('q')).toBe(1);
    expect(children.filter(isAlive)).toEqual([]);
    expect(await redis.smembers(`${namespace}:workers`)).toEqual([]);
    expect(await redis.exists(`${namespace}:ts:worker-stats:${children[0]}`)).toBe(0);
    await resque.close();
  });

  it.each(['SIGTERM', 'SIGINT'] as const)(
    '%s sends TERM to the children, KILLs them after RESQUE_TERM_TIMEOUT, and puts their jobs back untouched',
    async (signal) => {
      const namespace = uniqueNamespace('term');
      const resque = client(namespace);
      const worker = startSupervised(namespace, { RESQUE_TERM_TIMEOUT: '0.3' });
      await readyChildren(worker);
      await resque.enqueueTo('q', 'Slow', 1, 60_000);
      const child = await awaitStarted(redis, namespace, 1);
      worker.signal(signal);
      expect((await worker.exited).code).toBe(0);
      expect(isAlive(child)).toBe(false);
      const [item] = await resque.peek('q');
      expect(item?.payload).toMatchObject({ class: 'Slow', args: [1, 60_000] });
      expect(item?.payload?.returns).toBeUndefined();
      expect(await redis.llen(`${namespace}:failed`)).toBe(0);
      expect(await redis.keys(`${namespace}:ts:inflight:*`)).toEqual([]);
      expect(await redis.smembers(`${namespace}:workers`)).toEqual([]);
      await resque.close();
    },
  );

  it('TERM reaches a job that listens as its AbortSignal; the child stops it and the job goes back', async () => {
    const namespace = uniqueNamespace('term-abort');
    const resque = client(namespace);
    const worker = startSupervised(namespace, { RESQUE_TERM_TIMEOUT: '30' });
    await readyChildren(worker);
    await resque.enqueueTo('q', 'Abortable', 1, 60_000);
    const child = await awaitStarted(redis, namespace, 1);
    worker.signal('SIGTERM');
    expect((await worker.exited).code).toBe(0);
    expect(isAlive(child)).toBe(false);
    expect(await resque.size('q')).toBe(1);
    expect(await redis.llen(`${namespace}:failed`)).toBe(0);
    await resque.close();
  });

  it('TERM with RESQUE_ON_TERM_TIMEOUT=fail fails the killed job with the reason', async () => {
    const namespace = uniqueNamespace('term-fail');
    const resque = client(namespace);
    const worker = startSupervised(namespace, { RESQUE_TERM_TIMEOUT: '0.3', RESQUE_ON_TERM_TIMEOUT: 'fail' });
    await readyChildren(worker);
    await resque.enqueueTo('q', 'Slow', 1, 60_000);
    const child = await awaitStarted(redis, namespace, 1);
    worker.signal('SIGTERM');
    expect((await worker.exited).code).toBe(0);
    const [record] = await awaitFailures(redis, namespace);
    expect(record?.exception).toBe('Resque::TermException');
    expect(record?.error).toBe(
      `Job still running 300 ms after TERM was sent to child ${child}; the child was killed (SIGKILL)`,
    );
    expect(await resque.size('q')).toBe(0);
    await resque.close();
  });

  it('TERM waits RESQUE_PRE_SHUTDOWN_TIMEOUT for running jobs before signalling the children', async () => {
    const namespace = uniqueNamespace('pre-shutdown');
    const resque = client(namespace);
    const worker = startSupervised(namespace, {
      RESQUE_PRE_SHUTDOWN_TIMEOUT: '30',
      RESQUE_TERM_TIMEOUT: '0.1',
    });
    await readyChildren(worker);
    await resque.enqueueTo('q', 'Slow', 1, 500);
    await awaitStarted(redis, namespace, 1);
    worker.signal('SIGTERM');
    expect((await worker.exited).code).toBe(0);
    expect(await ledger(namespace, 1)).toBe(1);
    expect(await resque.size('q')).toBe(0);
    await resque.close();
  });

  it('GRACEFUL_TERM makes TERM wait like QUIT', async () => {
    const namespace = uniqueNamespace('graceful');
    const resque = client(namespace);
    const worker = startSupervised(namespace, { GRACEFUL_TERM: '1', RESQUE_TERM_TIMEOUT: '0.1' });
    await readyChildren(worker);
    await resque.enqueueTo('q', 'Slow', 1, 500);
    await awaitStarted(redis, namespace, 1);
    worker.signal('SIGTERM');
    expect((await worker.exited).code).toBe(0);
    expect(await ledger(namespace, 1)).toBe(1);
    await resque.close();
  });

  it("USR1 kills the children's current jobs, gives them back untouched, and keeps working with fresh children", async () => {
    const namespace = uniqueNamespace('usr1');
    const resque = client(namespace);
    const worker = startSupervised(namespace);
    await readyChildren(worker);
    await resque.enqueueTo('q', 'Slow', 1, 1000);
    const child = await awaitStarted(redis, namespace, 1);
    worker.signal('SIGUSR1');
    // Given back to the head of its queue, not failed: a fresh child starts it again and finishes it.
    const again = await waitFor(
      async () => {
        const pid = Number(await redis.hget(`${namespace}:test:started`, '1'));
        return pid !== child ? pid : undefined;
      },
      20_000,
      'the job to start again in a fresh child',
    );
    expect(await awaitPerformed(redis, namespace, 1)).toBe(again);
    expect(await redis.llen(`${namespace}:failed`)).toBe(0);
    expect(worker.output()).toContain('killed because the worker was sent USR1');
    await resque.enqueueTo('q', 'Ok', 2);
    const fresh = await awaitPerformed(redis, namespace, 2);
    expect(fresh).not.toBe(child);
    expect(childrenOf(worker.pid)).toEqual([fresh]);
    worker.signal('SIGQUIT');
    expect((await worker.exited).code).toBe(0);
    await resque.close();
  });

  it('USR2 pauses (supervisor and idle children titled Paused, jobs wait) and CONT resumes', async () => {
    const namespace = uniqueNamespace('pause');
    const resque = client(namespace);
    const worker = startSupervised(namespace, { RESQUE_SPARE: '1' });
    const children = await readyChildren(worker, 2);
    worker.signal('SIGUSR2');
    await waitFor(async () => (await readTitle(worker.pid)).includes('Paused'), 10_000, 'Paused title');
    const titles = () => Promise.all(children.map(readTitle));
    const paused = await waitFor(
      async () => ((await titles()).every((t) => t.includes('Paused')) ? titles() : undefined),
      10_000,
      'children titled Paused',
    );
    expect(paused.map((t) => t.replace(/^resque-[\d.]+: /, '')).sort()).toEqual(['Paused', 'Paused (spare)']);
    await resque.enqueueTo('q', 'Ok', 1);
    await new Promise((r) => setTimeout(r, 600));
    expect(await ledger(namespace, 1)).toBe(0);
    worker.signal('SIGCONT');
    await awaitPerformed(redis, namespace, 1);
    await waitFor(
      async () => (await titles()).every((t) => t.includes('Waiting for q')),
      10_000,
      'children titled Waiting again',
    );
    worker.signal('SIGQUIT');
    expect((await worker.exited).code).toBe(0);
    await resque.close();
  });

  it('process titles tell who does what: Forked <pid> at <epoch> / Processing <queue> since <epoch> [<Class>]', async () => {
    const namespace = uniqueNamespace('titles');
    const resque = client(namespace);
    const worker = startSupervised(namespace);
    const [idle] = await readyChildren(worker);
    expect(await readTitle(idle!)).toMatch(/^resque-\d+\.\d+\.\d+: Waiting for q$/);
    await waitFor(async () => (await readTitle(worker.pid)).endsWith('Waiting for q'), 10_000, 'idle title');
    await resque.enqueueTo('q', 'Slow', 1, 60_000);
    const child = await awaitStarted(redis, namespace, 1);
    await waitFor(
      async () => /Processing q since \d+ \[Slow\]$/.test(await readTitle(child)),
      10_000,
      'child title',
    );
    expect(await readTitle(worker.pid)).toMatch(
      new RegExp(`^resque-\\d+\\.\\d+\\.\\d+: Forked ${child} at \\d+$`),
    );
    await resque.close();
  });

  it('kill -9 of the supervisor: its children notice and exit; another worker recovers the job', async () => {
    const namespace = uniqueNamespace('kill-supervisor');
    const resque = client(namespace);
    const first = startSupervised(namespace, FAST_REAPER);
    await readyChildren(first);
    await resque.enqueueTo('q', 'Slow', 1, 1500);
    const child = await awaitStarted(redis, namespace, 1);
    first.signal('SIGKILL');
    await first.exited;
    await waitFor(() => !isAlive(child), 5000, 'the orphaned child to exit');
    expect(await ledger(namespace, 1)).toBe(0);
    const second = startSupervised(namespace, FAST_REAPER);
    const rerun = await awaitPerformed(redis, namespace, 1);
    expect(childrenOf(second.pid)).toContain(rerun);
    expect(await ledger(namespace, 1)).toBe(1);
    expect(await redis.llen(`${namespace}:failed`)).toBe(0);
    expect((await redis.smembers(`${namespace}:workers`)).every((id) => id.includes(`:${second.pid}:`))).toBe(
      true,
    );
    second.signal('SIGQUIT');
    expect((await second.exited).code).toBe(0);
    await resque.close();
  });
});

describe('Worker.abortRunning in a supervised worker', () => {
  it("passes a reason of the application's own on to the job's AbortSignal in its child", async () => {
    const namespace = uniqueNamespace('abort-reason');
    const resque = client(namespace);
    const module = fileURLToPath(new URL('../fixtures/child-jobs/waits-for-abort.mjs', import.meta.url));
    const app = await loadAppModules([module]);
    const executor = new SupervisedExecutor({
      modules: [module],
      config: resolveConfig({ redis: sharedRedisUrl(), namespace, queues: ['q'], count: 1 }, {}),
      jobs: new JobRegistry(app.jobs),
      logger: createLogger('silent'),
      setProcessTitle: false,
      childEntry: fileURLToPath(new URL('../../dist/worker/supervisor/child.js', import.meta.url)),
      execArgv: [],
    });
    const worker = new Worker({
      redis: sharedRedisUrl(),
      namespace,
      queues: ['q'],
      jobs: app.jobs,
      executor,
      setProcessTitle: false,
      logLevel: 'silent',
    });
    await worker.start();
    try {
      const started = new Promise((resolve) => worker.once('job:start', resolve));
      await resque.enqueueTo('q', 'WaitsForAbort');
      await started;
      const reason = new Error('the application cancelled it');
      reason.name = 'Cancelled';
      worker.abortRunning(reason);
      const [record] = await awaitFailures(redis, namespace);
      expect(record).toMatchObject({
        exception: 'Cancelled',
        error: 'the application cancelled it',
        queue: 'q',
      });
      expect(await resque.size('q')).toBe(0);
    } finally {
      await worker.stop();
      await resque.close();
    }
  });
});
